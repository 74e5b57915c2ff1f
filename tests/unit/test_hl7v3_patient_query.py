"""TD0.2 / TD1.3a HL7v3 codec: hand-written TD0.2 answers, build → parse round trips, wire details, refusals.

The answers of ``tests/vectors/hl7v3/td02_*.xml`` are written by hand from the reference (see their README): the
TD0.2 decoder is checked against messages our builder did not make, field by field.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from dmpclient._xml import parse_untrusted
from dmpclient.errors import DmpBusinessError, DmpProtocolError, DmpValidationError
from dmpclient.hl7v3.patient_query import (
    AuthorizationStatus,
    DmpStatus,
    ExistenceAnswer,
    PatientIdentity,
    PatientReason,
    build_patient_query,
    build_patient_response,
    parse_patient_query,
    parse_patient_response,
)
from dmpclient.hl7v3.wrapper import Device
from dmpclient.ids import InsOid, make_ins
from dmpclient.soap.envelope import build_response, read_soap
from dmpclient.soap.response import Response
from dmpclient.transactions import patients
from dmpclient.transactions.context import CallContext

NOW = dt.datetime(2026, 11, 25, 8, 30, 12, tzinfo=dt.UTC)
LPS = Device("1.2.250.1.999.888.2", "DMPCLIENT TEST")
INS = "207058575627097"
H = "{urn:hl7-org:v3}"
VECTORS = Path(__file__).parent.parent / "vectors" / "hl7v3"


def _decode_vector(name: str) -> ExistenceAnswer:
    """The TD0.2 decoder of the spec, on a hand-written answer wrapped in a SOAP envelope."""
    answer = patients.TEST_EXISTENCE.decode(_response(parse_untrusted((VECTORS / name).read_bytes())))
    assert isinstance(answer, ExistenceAnswer)
    return answer


def test_hand_written_answer_open_dmp_authorised_treating_physician() -> None:
    answer = _decode_vector("td02_open_authorised_mt.xml")
    assert (answer.status, answer.exists, answer.authorization, answer.authorization_code) == (
        DmpStatus.ACTIVE,
        True,
        AuthorizationStatus.VALIDE,
        None,
    )
    assert answer.treating_physician is True
    assert answer.patient == PatientIdentity(
        ins="157069329642881",  # the INS, not the INS-C listed first
        ins_oid="1.2.250.1.213.1.4.10",
        family="DURAND-PETIT",
        birth_family="PETIT",
        given="Jean Pierre",
        prefix="M",
        gender="M",
        birth_date=dt.date(1957, 6, 14),
    )
    assert dict(answer.observations) == {"COMPTE_INTERNET_OUVERT": True, "RATTACHEMENT_ENS": False}


def test_hand_written_answer_closed_dmp_keeps_an_unknown_authorisation_code() -> None:
    answer = _decode_vector("td02_closed_unknown_authorisation.xml")
    assert (answer.status, answer.exists, answer.treating_physician) == (DmpStatus.CLOSED, True, False)
    assert (answer.authorization, answer.authorization_code) == (None, "SUSPENDUE")
    assert answer.patient is not None
    assert (answer.patient.ins, answer.patient.family, answer.patient.birth_family, answer.patient.given) == (
        "211046322000147",
        "MARTIN",
        None,
        "Inès",
    )
    assert (answer.patient.gender, answer.patient.birth_date) == ("F", None)  # 201104 names no day
    assert dict(answer.observations) == {}


def test_hand_written_answer_no_dmp() -> None:
    answer = _decode_vector("td02_no_dmp_nf.xml")
    assert (answer.status, answer.exists, answer.patient) == (DmpStatus.NONE, False, None)
    assert (answer.authorization, answer.treating_physician) == (AuthorizationStatus.NON_EXISTE, None)


def _query(reason: PatientReason = PatientReason.TEST_EXISTENCE, ins: str = INS) -> etree._Element:
    return build_patient_query(ins, InsOid.TEST, reason=reason, sender=LPS, message_id="m-1", query_id="q-1", now=NOW)


def test_query_carries_the_wire_values_of_the_reference() -> None:
    query = parse_untrusted(etree.tostring(_query()))
    assert query.tag == f"{H}PRPA_IN201307UV02"
    assert query.get("ITSVersion") == "XML_1.0"
    assert query.find(f"{H}creationTime").get("value") == "20261125083012"
    assert query.find(f"{H}interactionId").get("root") == "2.16.840.1.113883.1.6"
    assert query.find(f"{H}acceptAckCode").get("code") == "AL"
    assert query.find(f"{H}receiver/{H}device/{H}id").get("root") == "1.2.250.1.213.4.1.1.1"
    reason = query.find(f"{H}controlActProcess/{H}reasonCode")
    assert (reason.get("code"), reason.get("codeSystem")) == ("TEST_EXST", "1.2.250.1.213.1.1.4.11")
    value = query.find(f".//{H}patientIdentifier/{H}value")
    assert (value.get("root"), value.get("extension")) == ("1.2.250.1.213.1.4.10", INS)
    assert query.findtext(f".//{H}patientIdentifier/{H}semanticsText") == "Patient.id"
    nil = query.find(f"{H}attentionLine")
    assert nil.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"
    assert nil.getprevious().tag == f"{H}sender"


@pytest.mark.parametrize("reason", list(PatientReason))
def test_query_round_trip(reason: PatientReason) -> None:
    parsed = parse_patient_query(_query(reason))
    assert (parsed.reason, parsed.ins, parsed.ins_oid) == (reason, INS, InsOid.TEST.value)
    assert (parsed.message_root, parsed.message_extension, parsed.query_extension) == (LPS.oid, "m-1", "q-1")
    assert parsed.sender == LPS


identities = st.builds(
    PatientIdentity,
    ins=st.sampled_from([INS, "188102B17295264", "153078987658513"]),
    ins_oid=st.sampled_from([o.value for o in InsOid]),
    family=st.none()
    | st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1).map(str.strip).filter(bool),
    birth_family=st.none() | st.sampled_from(["DUPONT", "MARTIN-ÉLOÏSE"]),
    given=st.none() | st.sampled_from(["Laurence", "Irène", "Jean Pierre"]),
    gender=st.none() | st.sampled_from(["F", "M", "U"]),
    birth_date=st.none() | st.dates(dt.date(1900, 1, 1), dt.date(2026, 1, 1)),
)
answers = st.builds(
    ExistenceAnswer,
    status=st.sampled_from([DmpStatus.ACTIVE, DmpStatus.CLOSED]),
    authorization=st.none() | st.sampled_from(list(AuthorizationStatus)),
    treating_physician=st.none() | st.booleans(),
    patient=identities,
    observations=st.dictionaries(
        st.sampled_from(["COMPTE_INTERNET_OUVERT", "RATTACHEMENT_ENS", "OPPOSITION_BRIS_DE_GLACE"]), st.booleans()
    ),
)


@settings(max_examples=60)
@given(answers)
def test_response_round_trip(answer: ExistenceAnswer) -> None:
    query = parse_patient_query(_query())
    element = build_patient_response(query, answer, response_id="r-1", now=NOW)
    reparsed = parse_patient_response(parse_untrusted(etree.tostring(element)))
    assert reparsed == answer


def test_no_dmp_answers_nf_without_patient() -> None:
    query = parse_patient_query(_query())
    element = build_patient_response(query, ExistenceAnswer(status=DmpStatus.NONE), response_id="r-1", now=NOW)
    assert element.find(f".//{H}queryResponseCode").get("code") == "NF"
    assert element.find(f".//{H}patient") is None
    assert element.find(f"{H}acknowledgement/{H}targetMessage/{H}id").get("extension") == "m-1"
    assert not parse_patient_response(element).exists


def test_parse_refuses_what_is_not_a_patient_query() -> None:
    with pytest.raises(DmpProtocolError, match="HL7v3"):
        parse_patient_query(etree.Element("{urn:x}other"))
    broken = _query()
    broken.find(f".//{H}reasonCode").set("code", "NOPE")
    with pytest.raises(DmpProtocolError, match="reasonCode"):
        parse_patient_query(broken)


def test_operation_validates_input_before_anything_is_sent() -> None:
    with pytest.raises(DmpValidationError, match="control key") as caught:
        patients.test_existence(CallContext.frozen(LPS, NOW), INS[:-1] + "0", InsOid.TEST)
    assert INS not in str(caught.value)
    with pytest.raises(DmpValidationError, match="ins_oid"):
        patients.test_existence(CallContext.frozen(LPS, NOW), INS, "1.2.x")


def test_operation_parses_the_answer_and_business_errors() -> None:
    op = patients.test_existence(CallContext.frozen(LPS, NOW), make_ins("2701086049265"), InsOid.TEST)
    assert (op.td, op.spec.service, op.spec.request_action, op.spec.idempotent) == (
        "TD0.2",
        "patients",
        "urn:hl7-org:v3:PRPA_IN201307UV02",
        True,
    )
    query = parse_patient_query(op.body)
    ok = build_patient_response(
        query,
        ExistenceAnswer(status=DmpStatus.CLOSED, patient=PatientIdentity(ins=query.ins, ins_oid=query.ins_oid)),
        response_id="r",
        now=NOW,
    )
    assert op.parse(_response(ok)).status is DmpStatus.CLOSED
    ok.find(f"{H}acknowledgement").set("typeCode", "AE")
    detail = etree.SubElement(ok.find(f"{H}acknowledgement"), f"{H}acknowledgementDetail")
    etree.SubElement(detail, f"{H}code", code="DMPClosed")
    with pytest.raises(DmpBusinessError) as caught:
        op.parse(_response(ok))
    assert (caught.value.code, caught.value.td) == ("DMPClosed", "TD0.2")


def _response(body: etree._Element) -> Response:
    action = patients.TEST_EXISTENCE.response_action
    return Response(read_soap(build_response(body, action=action, relates_to="urn:uuid:1", message_id=None)), None, 200)


def _answer_with(element_edit: str, value: str) -> etree._Element:
    query = parse_patient_query(_query())
    patient = PatientIdentity(ins=INS, ins_oid=InsOid.TEST, family="X", birth_date=dt.date(1980, 1, 1))
    answer = ExistenceAnswer(status=DmpStatus.ACTIVE, authorization=AuthorizationStatus.VALIDE, patient=patient)
    element = build_patient_response(query, answer, response_id="r", now=NOW)
    target = element.find(f".//{H}{element_edit}")
    target.set("value" if element_edit == "birthTime" else "code", value)
    return element


@pytest.mark.parametrize("birth", ["1980", "198001", "19800000", "198001011230+0100", "abc"])
def test_partial_or_odd_birth_dates_do_not_lose_the_answer(birth: str) -> None:
    answer = parse_patient_response(_answer_with("birthTime", birth))
    assert answer.status is DmpStatus.ACTIVE
    expected = dt.date(1980, 1, 1) if birth.startswith("19800101") else None
    assert answer.patient is not None
    assert answer.patient.birth_date == expected


def test_unknown_authorisation_values_are_kept_raw() -> None:
    element = _answer_with(f"attentionLine/{H}value", "SUSPENDU")
    answer = parse_patient_response(element)
    assert answer.authorization is None
    assert answer.authorization_code == "SUSPENDU"


@pytest.mark.parametrize("status", ["nullified", "new"])
def test_unknown_patient_status_is_a_protocol_error(status: str) -> None:
    element = _answer_with(f"patient/{H}statusCode", status)
    with pytest.raises(DmpProtocolError, match="statusCode"):
        parse_patient_response(element)


@pytest.mark.parametrize("code", ["QE", "AE"])
def test_query_errors_are_not_reported_as_no_dmp(code: str) -> None:
    element = _answer_with("queryResponseCode", code)
    with pytest.raises(DmpBusinessError) as caught:
        parse_patient_response(element)
    assert caught.value.code == code


def test_ok_without_patient_is_a_protocol_error() -> None:
    element = _answer_with("queryResponseCode", "OK")
    subject = element.find(f"{H}controlActProcess/{H}subject")
    subject.getparent().remove(subject)
    with pytest.raises(DmpProtocolError, match="without"):
        parse_patient_response(element)


def test_reprs_never_show_an_ins_or_a_name() -> None:
    from dmpclient.transactions.operation import PatientRef  # noqa: PLC0415

    identity = PatientIdentity(ins=INS, ins_oid=InsOid.TEST, family="PATB-QUATRE", given="Laurence")
    query = parse_patient_query(_query())
    for text in (repr(identity), repr(query), repr(PatientRef(INS, InsOid.TEST)), str(identity)):
        assert INS not in text
        assert "PATB-QUATRE" not in text
