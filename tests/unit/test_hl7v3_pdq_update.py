"""TD0.5 (PDQv3 search) and TD1.3b (administrative update): hand-written answers, requests both ways, round trips."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from dmpclient._xml import parse_untrusted
from dmpclient.errors import DmpBusinessError, DmpClosedError, DmpProtocolError, DmpSecretConnectionError
from dmpclient.hl7v3.patient_query import DmpStatus
from dmpclient.hl7v3.patient_update import (
    AdministrativeUpdate,
    AdministrativeUpdated,
    UpdateAuthor,
    build_update,
    build_update_accepted,
    build_update_refused,
    parse_update,
)
from dmpclient.hl7v3.pdq import (
    PatientCandidate,
    PatientSearch,
    build_search,
    build_search_response,
    parse_search,
    parse_search_response,
)
from dmpclient.hl7v3.person import Address, LegalRepresentative, Telecom, TelecomKind
from dmpclient.hl7v3.wrapper import Device
from dmpclient.ids import InsOid
from dmpclient.soap.envelope import build_response, read_soap
from dmpclient.soap.response import Response
from dmpclient.transactions import patients
from dmpclient.transactions.spec import TransactionSpec

VECTORS = Path(__file__).parent.parent / "vectors" / "hl7v3"
NOW = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)
LPS = Device("1.2.250.1.999.888.2", "DMPCLIENT TEST")
AUTHOR = UpdateAuthor("899900063480", "LIBRE", "MAX", "10B0127189", "CENTRE DE SANTE", "G15_10/SM26")


def _decode(spec: TransactionSpec[Any], name: str) -> Any:
    body = parse_untrusted((VECTORS / name).read_bytes())
    envelope = build_response(body, action=spec.response_action, relates_to="urn:uuid:1", message_id=None)
    return spec.decode(Response(read_soap(envelope), None, 200))


def test_td05_candidates() -> None:
    result = _decode(patients.SEARCH_PATIENTS, "td05_two_candidates.xml")
    assert (result.total, result.remaining) == (3, 1)
    first, second = result.candidates
    assert first == PatientCandidate(
        status=DmpStatus.ACTIVE,
        ins="188102B17295264",
        ins_oid=InsOid.TEST.value,
        ins_c="3333333333333333333333",
        prefix="M",
        given_names=("CORSE",),
        family="FIGATELLIX",
        gender="M",
        birth_time="19881002",
        addresses=(Address(city="BASTIA", postal_code="20200"),),
        match_score=100,
        opposition_acces_urgence=True,
    )
    assert (second.status, second.family, second.birth_family, second.birth_date, second.match_score) == (
        DmpStatus.CLOSED,
        "FIGATELLI",
        "ENCHAINE",
        None,
        80,
    )
    assert second.opposition_acces_urgence is None
    assert "188102B17295264" not in repr(first)


def test_td05_refusal_in_a_type_code_element() -> None:
    with pytest.raises(DmpBusinessError) as caught:
        _decode(patients.SEARCH_PATIENTS, "td05_ack_ae.xml")
    assert (caught.value.code, caught.value.td) == ("DMPTropDeResultats", "TD0.5")


def test_td13b_accepted() -> None:
    assert _decode(patients.UPDATE_ADMINISTRATIVE_DATA, "td13b_accepted.xml") == AdministrativeUpdated(
        status=DmpStatus.ACTIVE,
        ins="287080883795737",
        ins_oid=InsOid.TEST.value,
        family="BERTIN",
        birth_family="CARON",
        given_names=("Claire", "Odile"),
    )


def test_td13b_accepted_reads_the_ins_when_the_ins_c_comes_first() -> None:
    assert _decode(patients.UPDATE_ADMINISTRATIVE_DATA, "td13b_accepted_ins_c_first.xml") == AdministrativeUpdated(
        status=DmpStatus.ACTIVE,
        ins="188102B17295264",
        ins_oid=InsOid.NIR.value,
        family="ANTONETTI",
        given_names=("Paul",),
    )


@pytest.mark.parametrize(
    ("name", "error"),
    [("td13b_refused_closed.xml", DmpClosedError), ("td13b_refused_secretconnection.xml", DmpSecretConnectionError)],
)
def test_td13b_refusals_are_typed(name: str, error: type[DmpBusinessError]) -> None:
    with pytest.raises(error) as caught:
        _decode(patients.UPDATE_ADMINISTRATIVE_DATA, name)
    assert caught.value.td == "TD1.3b"
    assert "287080883795737" not in str(caught.value)


def test_td13b_answer_must_be_the_wrapper() -> None:
    with pytest.raises(DmpProtocolError, match="PRPA_IN201314UV02_Response"):
        _decode(patients.UPDATE_ADMINISTRATIVE_DATA, "td13a_no_dmp_nf.xml")


# --- requests both ways and round trips ---------------------------------------------------------

_words = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=15
).filter(lambda text: text.strip(" \t\r\n") == text)
searches = st.builds(
    PatientSearch,
    family=st.from_regex(r"[A-Z][A-Z' -]{1,20}[A-Z]", fullmatch=True),
    given=st.none() | st.from_regex(r"[A-Z][a-zé]{1,10}", fullmatch=True),
    gender=st.none() | st.sampled_from(["M", "F", "U"]),
    birth_date=st.none() | st.dates(dt.date(1900, 1, 1), dt.date(2025, 1, 1)),
    city=st.none() | st.from_regex(r"[A-Z][A-Z -]{1,15}[A-Z]", fullmatch=True),
    postal_code=st.none() | st.from_regex(r"[0-9]{5}", fullmatch=True),
    max_results=st.none() | st.integers(1, 100),
)


@settings(max_examples=60, deadline=None)
@given(searches)
def test_search_request_round_trip(search: PatientSearch) -> None:
    root = build_search(search, sender=LPS, message_id="m-1", query_id="q-1", now=NOW)
    assert parse_search(parse_untrusted(etree.tostring(root))).search == search


candidates = st.builds(
    PatientCandidate,
    status=st.sampled_from([DmpStatus.ACTIVE, DmpStatus.CLOSED]),
    ins=st.sampled_from(["188102B17295264", "207058575627097"]),
    ins_oid=st.just(InsOid.TEST.value),
    ins_c=st.none() | st.from_regex(r"[0-9]{22}", fullmatch=True),
    family=st.none() | _words,
    birth_family=st.none() | _words,
    given_names=st.lists(_words, max_size=2).map(tuple),
    gender=st.none() | st.sampled_from(["M", "F"]),
    birth_time=st.none() | st.sampled_from(["1988", "19881002"]),
    addresses=st.lists(
        st.builds(Address, city=_words, postal_code=st.from_regex(r"[0-9]{5}", fullmatch=True)), max_size=1
    ).map(tuple),
    match_score=st.none() | st.integers(0, 100),
    opposition_acces_urgence=st.none() | st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(candidates, max_size=3), st.integers(0, 5))
def test_search_answer_round_trip(found: list[PatientCandidate], more: int) -> None:
    query = parse_search(
        build_search(PatientSearch(family="DUPONT"), sender=LPS, message_id="m", query_id="q", now=NOW)
    )
    root = build_search_response(query, found, total=len(found) + more, response_id="r", now=NOW)
    result = parse_search_response(parse_untrusted(etree.tostring(root)))
    assert (result.candidates, result.total, result.remaining) == (tuple(found), len(found) + more, more)


updates = st.builds(
    AdministrativeUpdate,
    ins=st.just("287080883795737"),
    ins_oid=st.just(InsOid.TEST.value),
    family=st.none() | _words,
    given_names=st.lists(_words, max_size=2).map(tuple),
    telecoms=st.lists(
        st.builds(
            Telecom,
            kind=st.sampled_from([TelecomKind.MAIL, TelecomKind.PHONE]),
            value=_words.filter(lambda v: ":" not in v),
        ),
        max_size=2,
    ).map(tuple),
    addresses=st.lists(
        st.builds(Address, street_lines=st.lists(_words, max_size=1).map(tuple), city=_words), max_size=1
    ).map(tuple),
    legal_representatives=st.lists(
        st.builds(LegalRepresentative, relationship=st.sampled_from(["FTH", "MTH"]), family=_words), max_size=2
    ).map(tuple),
    opposition_bris_de_glace=st.none() | st.booleans(),
    opposition_acces_urgence=st.none() | st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(updates)
def test_update_request_round_trip(update: AdministrativeUpdate) -> None:
    root = build_update(update, AUTHOR, sender=LPS, message_id="m-1", now=NOW)
    parsed = parse_update(parse_untrusted(etree.tostring(root)))
    assert (parsed.update, parsed.author) == (update, AUTHOR)


def test_update_answers_both_ways() -> None:
    request = parse_update(
        build_update(
            AdministrativeUpdate(ins="287080883795737", ins_oid=InsOid.TEST.value, family="BERTIN"),
            AUTHOR,
            sender=LPS,
            message_id="m-1",
            now=NOW,
        )
    )
    accepted = build_update_accepted(request, DmpStatus.ACTIVE, response_id="r", now=NOW)
    refused = build_update_refused(request, "DMPClosed", "Le DMP du patient est fermé", response_id="r", now=NOW)
    spec = patients.UPDATE_ADMINISTRATIVE_DATA
    for body in (accepted, refused):
        envelope = build_response(body, action=spec.response_action, relates_to="urn:uuid:1", message_id=None)
        response = Response(read_soap(envelope), None, 200)
        if body is accepted:
            assert spec.decode(response).family == "BERTIN"
        else:
            with pytest.raises(DmpClosedError):
                spec.decode(response)
