"""TD1.3a: the whole administrative record, decoded from hand-written answers and round-tripped.

The vectors of ``tests/vectors/hl7v3/`` are written by hand from the reference (see their README), so the
decoder is not only checked against our own builder.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from dmpclient._xml import parse_untrusted
from dmpclient.errors import DmpBusinessError, DmpClosedError, DmpNotFoundError
from dmpclient.hl7v3.patient_query import (
    AdministrativeRecord,
    DmpStatus,
    PatientReason,
    build_administrative_response,
    build_patient_query,
    parse_administrative_response,
    parse_patient_query,
    parse_patient_response,
)
from dmpclient.hl7v3.patient_update import AdministrativeUpdate
from dmpclient.hl7v3.person import (
    Address,
    LegalRepresentative,
    Observation,
    PersonTraits,
    Telecom,
    TelecomKind,
)
from dmpclient.hl7v3.wrapper import Device
from dmpclient.ids import InsOid
from dmpclient.soap.envelope import build_response, read_soap
from dmpclient.soap.response import Response
from dmpclient.transactions import patients

VECTORS = Path(__file__).parent.parent / "vectors" / "hl7v3"
NOW = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)
LPS = Device("1.2.250.1.999.888.2", "DMPCLIENT TEST")


def _vector(name: str) -> etree._Element:
    return parse_untrusted((VECTORS / name).read_bytes())


def _decode(name: str) -> AdministrativeRecord:
    """The TD1.3a decoder of the spec, on the vector wrapped in a SOAP answer (acknowledgements included)."""
    body = _vector(name)
    envelope = build_response(
        body, action=patients.ADMINISTRATIVE_DATA.response_action, relates_to="urn:uuid:1", message_id=None
    )
    return patients.ADMINISTRATIVE_DATA.decode(Response(read_soap(envelope), None, 200))


def test_a_minor_with_two_representatives() -> None:
    record = _decode("td13a_minor_two_representatives.xml")
    assert (record.status, record.ins, record.ins_oid, record.ins_c) == (
        DmpStatus.ACTIVE,
        "211046322000147",
        InsOid.TEST.value,
        None,
    )
    assert (record.family, record.birth_family, record.given_names, record.prefix) == (
        "MARTIN-LEROY",
        "MARTIN-LEROY",
        ("Inès",),
        None,
    )
    assert (record.gender, record.birth_time, record.birth_date, record.deceased) == (
        "F",
        "20110409",
        dt.date(2011, 4, 9),
        None,
    )
    home = Address(
        street_lines=("4 impasse des Tilleuls",), postal_code="31000", city="TOULOUSE", country="FRANCE", use="H"
    )
    assert record.addresses == (home,)
    assert record.telecoms == ()
    assert record.birth_place is None
    mother, father = record.legal_representatives
    assert mother == LegalRepresentative(
        relationship="MTH",
        relationship_system="2.16.840.1.113883.1.11.19579",
        relationship_display="Mère",
        family="LEROY",
        birth_family="DUVAL",
        given_names=("Sophie",),
        addresses=(home,),
        telecoms=(
            Telecom(kind=TelecomKind.MOBILE, value="+33611223344", use="MC"),
            Telecom(kind=TelecomKind.MAIL, value="sophie.leroy@exemple.fr"),
        ),
    )
    assert father == LegalRepresentative(
        relationship="FTH",
        family="MARTIN",
        given_names=("Karim",),
        addresses=(
            Address(
                street_lines=("27 avenue Jean Jaurès",),
                additional_locator="Résidence Les Pins",
                postal_code="33000",
                city="BORDEAUX",
                use="H",
            ),
        ),
        telecoms=(Telecom(kind=TelecomKind.MOBILE, value="+33699887766", use="MC"),),
    )
    assert (record.opposition_bris_de_glace, record.opposition_acces_urgence) == (False, False)


def test_the_representatives_family_name_is_never_the_patients() -> None:
    """Issue 7 item 6: ``.//name/family`` used to find the last representative's family name (MARTIN)."""
    body = _vector("td13a_minor_two_representatives.xml")
    record = parse_administrative_response(body)
    assert record.family == "MARTIN-LEROY"
    assert record.birth_family == "MARTIN-LEROY"
    identity = parse_patient_response(body).patient  # the TD0.2 decoder reads the same patient element
    assert identity is not None
    assert (identity.family, identity.birth_family, identity.given) == ("MARTIN-LEROY", "MARTIN-LEROY", "Inès")


def test_an_adult_with_every_detail_and_an_unknown_observation() -> None:
    record = _decode("td13a_adult_full_record.xml")
    assert (record.status, record.ins, record.ins_oid, record.ins_c) == (
        DmpStatus.CLOSED,
        "157069329642881",
        InsOid.NIR.value,
        "1234567890123456789012",
    )
    assert (record.prefix, record.given_names, record.family, record.birth_family) == (
        "MME",
        ("Irène", "Marie Claire"),
        "ENCHAINE",
        "DECHAINE",
    )
    assert (record.birth_time, record.birth_date, record.deceased) == ("1957", None, True)
    assert record.telecoms == (
        Telecom(kind=TelecomKind.MAIL, value="irene.enchaine@exemple.fr", use="H"),
        Telecom(kind=TelecomKind.MOBILE, value="+33612345678", use="MC"),
        Telecom(kind=TelecomKind.PHONE, value="+33145678901", use="H"),
        Telecom(kind=TelecomKind.FAX, value="+33145678902", use="WP"),
    )
    assert record.addresses == (
        Address(
            street_lines=("3 place de la République", "Entrée C"),
            additional_locator="Lieu-dit Kerhuel",
            postal_code="29200",
            city="BREST",
            country="FRANCE",
            use="H",
        ),
        Address(postal_code="06000", city="NICE", use="TMP"),
    )
    assert record.birth_place == Address(city="ALGER", country="ALGERIE")
    assert record.legal_representatives == ()
    assert record.observations == (
        Observation(code="OPPOSITION_BRIS_DE_GLACE", code_system="1.2.250.1.213.4.1.2.3", value=True),
        Observation(code="DIRECTIVES_ANTICIPEES", code_system="1.2.250.1.213.4.1.2.99", value="PRESENTES"),
    )
    assert (record.opposition_bris_de_glace, record.opposition_acces_urgence) == (True, None)


def test_an_ae_acknowledgement_is_a_typed_business_error_without_the_ins() -> None:
    with pytest.raises(DmpClosedError) as caught:
        _decode("td13a_ack_ae_closed.xml")
    error = caught.value
    assert (error.code, error.td) == ("DMPClosed", "TD1.3a")
    assert "157069329642881" not in str(error)
    assert "fermé" in error.context
    assert "it can still be read" in error.message


def test_an_unknown_refusal_code_is_kept() -> None:
    with pytest.raises(DmpBusinessError) as caught:
        _decode("td13a_ack_ar_unknown_code.xml")
    assert type(caught.value) is DmpBusinessError
    assert caught.value.code == "DMPRequeteInvalide"
    assert "AR" in caught.value.message


def test_a_query_error_is_not_no_dmp() -> None:
    with pytest.raises(DmpBusinessError) as caught:
        _decode("td13a_query_error_qe.xml")
    assert not isinstance(caught.value, DmpNotFoundError)
    assert caught.value.code == "QE"


def test_no_dmp_is_a_not_found_error() -> None:
    with pytest.raises(DmpNotFoundError, match="test_existence"):
        _decode("td13a_no_dmp_nf.xml")


def test_reprs_show_no_personal_data() -> None:
    record = _decode("td13a_minor_two_representatives.xml")
    text = repr(record) + str(record) + repr(record.legal_representatives) + repr(record.addresses)
    for secret in ("211046322000147", "MARTIN", "LEROY", "Inès", "TOULOUSE", "+33611223344", "20110409"):
        assert secret not in text


# --- build → parse round trip -------------------------------------------------------------------

_words = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=20
).filter(lambda text: text.strip(" \t\r\n") == text)
_codes = st.from_regex(r"[A-Z][A-Z0-9_]{1,15}", fullmatch=True)
_addresses = st.builds(
    Address,
    street_lines=st.lists(_words, max_size=2).map(tuple),
    additional_locator=st.none() | _words,
    postal_code=st.none() | st.from_regex(r"[0-9]{5}", fullmatch=True),
    city=st.none() | _words,
    country=st.none() | _words,
    use=st.none() | st.sampled_from(["H", "WP", "TMP"]),
)
_telecoms = st.one_of(
    st.builds(Telecom, kind=st.just(TelecomKind.MAIL), value=st.emails(), use=st.none() | st.just("H")),
    st.builds(
        Telecom,
        kind=st.just(TelecomKind.MOBILE),
        value=st.from_regex(r"\+336[0-9]{8}", fullmatch=True),
        use=st.just("MC"),
    ),
    st.builds(
        Telecom,
        kind=st.just(TelecomKind.PHONE),
        value=st.from_regex(r"\+331[0-9]{8}", fullmatch=True),
        use=st.sampled_from(["H", "WP"]),
    ),
    st.builds(
        Telecom, kind=st.just(TelecomKind.FAX), value=st.from_regex(r"\+335[0-9]{8}", fullmatch=True), use=st.none()
    ),
)
_names = {
    "family": st.none() | _words,
    "birth_family": st.none() | _words,
    "given_names": st.lists(_words, max_size=3).map(tuple),
    "prefix": st.none() | st.sampled_from(["M", "MME"]),
}
_representatives = st.builds(
    LegalRepresentative,
    relationship=st.sampled_from(["FTH", "MTH", "GUARD"]),
    relationship_display=st.none() | _words,
    addresses=st.lists(_addresses, max_size=2).map(tuple),
    telecoms=st.lists(_telecoms, max_size=3).map(tuple),
    **_names,
)
_observations = st.builds(
    Observation,
    code=_codes,
    code_system=st.sampled_from(["1.2.250.1.213.4.1.2.3", "1.2.250.1.213.4.1.2.9"]),
    value=st.booleans() | _words,
)
records = st.builds(
    AdministrativeRecord,
    status=st.sampled_from([DmpStatus.ACTIVE, DmpStatus.CLOSED]),
    ins=st.sampled_from(["211046322000147", "188102B17295264"]),
    ins_oid=st.sampled_from([o.value for o in InsOid]),
    ins_c=st.none() | st.from_regex(r"[0-9]{22}", fullmatch=True),
    gender=st.none() | st.sampled_from(["F", "M", "U"]),
    birth_time=st.none() | st.sampled_from(["1980", "198005", "19800521", "19800521143000"]),
    deceased=st.none() | st.booleans(),
    birth_place=st.none() | _addresses,
    addresses=st.lists(_addresses, max_size=2).map(tuple),
    telecoms=st.lists(_telecoms, max_size=4).map(tuple),
    legal_representatives=st.lists(_representatives, max_size=2).map(tuple),
    observations=st.lists(_observations, max_size=3).map(tuple),
    **_names,
)


@settings(max_examples=80, deadline=None)
@given(records)
def test_build_then_parse_gives_the_record_back(record: AdministrativeRecord) -> None:
    query = parse_patient_query(
        build_patient_query(
            record.ins,
            record.ins_oid,
            reason=PatientReason.ADMINISTRATIVE_DATA,
            sender=LPS,
            message_id="m-1",
            query_id="q-1",
            now=NOW,
        )
    )
    element = build_administrative_response(query, record, response_id="r-1", now=NOW)
    assert parse_administrative_response(parse_untrusted(etree.tostring(element))) == record


def test_what_a_repr_shows_is_declared_field_by_field() -> None:
    """Codes and statuses are shown (debugging), names never; a class naming a field it lacks is refused, so the
    list cannot drift from the fields (PersonTraits listed ``status`` and ``ins_oid``, which only its subclasses
    have)."""
    traits = PersonTraits(family="MARTIN", gender="F")
    assert repr(traits) == "PersonTraits(family='…', gender='…')"
    update = AdministrativeUpdate(ins="211046322000147", ins_oid=InsOid.TEST.value, family="MARTIN")
    assert repr(update) == "AdministrativeUpdate(family='…', ins='…0147', ins_oid='1.2.250.1.213.1.4.10')"
    with pytest.raises(TypeError, match=r"does not have: \['status'\]"):

        class _Drifted(PersonTraits):
            _shown: ClassVar[frozenset[str]] = frozenset({"status"})
