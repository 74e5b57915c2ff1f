"""Custom-service codecs (TD0.3, TD1.6, TD0.4): hand-written answers, round trips, the mock's WSDL schema.

The WSDLs the mock serves are written from the reference independently of the codecs; validating the golden
bodies and the hand-written vectors against their embedded XSD checks that both readings agree.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from dmpclient._xml import parse_untrusted
from dmpclient.custom.habilitations import (
    AuthorizationAction,
    AuthorizationListMode,
    AuthorizedParty,
    PartyKind,
    build_list_authorizations,
    build_list_authorizations_response,
    build_set_authorization,
    parse_list_authorizations,
    parse_list_authorizations_response,
    parse_set_authorization,
    parse_set_authorization_response,
)
from dmpclient.custom.patients_specific import (
    AuthorizedPatient,
    PatientIdentifier,
    PatientListDateType,
    build_patient_list,
    build_patient_list_response,
    parse_patient_list,
    parse_patient_list_response,
)
from dmpclient.errors import DmpBusinessError, DmpClosedError, DmpProtocolError
from mock_server.wsdl import wsdl_text

VECTORS = Path(__file__).parent.parent / "vectors" / "custom"
GOLDEN = Path(__file__).parent.parent / "vectors" / "golden"


def _vector(name: str) -> etree._Element:
    return parse_untrusted((VECTORS / name).read_bytes())


def _wsdl_schema(service: str) -> etree.XMLSchema:
    definitions = etree.fromstring(wsdl_text(service, "https://mock.example/").encode())
    schema = definitions.find("{http://schemas.xmlsoap.org/wsdl/}types/{http://www.w3.org/2001/XMLSchema}schema")
    assert schema is not None
    return etree.XMLSchema(schema)


# --- hand-written answers -----------------------------------------------------------------------


def test_td03_success_contexts() -> None:
    update = parse_set_authorization_response(_vector("td03_already_present.xml"))
    assert (update.status, update.context) == ("DMPOk", "Autorisation déjà présente aucune action effectuée")
    upper = parse_set_authorization_response(_vector("td03_status_upper_case.xml"))
    assert (upper.status, upper.context) == ("DMPOK", "")


def test_td03_refusal_is_typed_and_masks_the_ins() -> None:
    with pytest.raises(DmpClosedError) as caught:
        parse_set_authorization_response(_vector("td03_closed.xml"))
    assert (caught.value.code, caught.value.td) == ("DMPClosed", "TD0.3")
    assert "270108604926542" not in str(caught.value)
    assert "[INS]" in caught.value.message


def test_td16_parties() -> None:
    result = parse_list_authorizations_response(_vector("td16_mixed_parties.xml"))
    treating, blocked, structure = result.parties
    assert treating == AuthorizedParty(
        national_id="810002345678",
        national_id_type="1.2.250.1.71.4.2.1",
        first_name="Hélène",
        last_name="MOREL",
        specialty_codes=("G15_10/SM26", "G15_10/SM04"),
        specialty_labels=(
            "Médecin - Qualifié en médecine générale (SM)",
            "Médecin - Cardiologie et maladies vasculaires (SM)",
        ),
        start=dt.datetime(2023, 2, 14, 8, 15, tzinfo=dt.UTC),
        last_action=dt.datetime(2025, 6, 30, 17, 30, tzinfo=dt.UTC),
        mode="ACTIVE",
        specific_rights=("MEDECIN_TRAITANT",),
    )
    assert (treating.kind, treating.treating_physician, treating.blocked) == (PartyKind.PROFESSIONAL, True, False)
    assert (blocked.last_name, blocked.start, blocked.blocked, blocked.treating_physician) == (
        "GIRAUD",
        None,
        True,
        False,
    )
    assert (structure.kind, structure.start) == (PartyKind.STRUCTURE, dt.datetime(2024, 1, 5, tzinfo=dt.UTC))
    assert result.context == "3 autorisations"


def test_td16_unknown_status_keeps_its_code() -> None:
    with pytest.raises(DmpBusinessError) as caught:
        parse_list_authorizations_response(_vector("td16_unknown_status.xml"))
    assert type(caught.value) is DmpBusinessError
    assert (caught.value.code, caught.value.context) == ("DMPErreurInterne", "Service indisponible")


def test_td04_patients() -> None:
    result = parse_patient_list_response(_vector("td04_two_patients.xml"))
    first, second = result.patients
    assert first.ins == "153078987658513"  # the INS, not the INS-C listed before it
    assert first.identifiers[0] == PatientIdentifier(
        national_id="1234567890123456789012", national_id_type="1.2.250.1.213.1.4.2"
    )
    assert (first.last_name, first.first_name, first.civility, first.birth_date) == (
        "PAT-TROIS",
        "DOMINIQUE",
        "M",
        dt.date(1953, 7, 1),
    )
    assert (first.treating_physician, first.message) == (True, False)
    assert first.last_access == dt.datetime(2025, 9, 10, 12, 0, tzinfo=dt.UTC)
    assert (second.ins, second.patronymical_name, second.treating_physician, second.message) == (
        "207058575627097",
        "PATB-QUATRE",
        False,
        True,
    )
    assert (second.birth_date, second.last_access, second.last_add) == (None, None, None)
    assert "207058575627097" not in repr(second)


def test_td04_unqualified_entries_are_read() -> None:
    """Not an empty list with DMPOk: the entries of a lenient peer are read as TD1.6's already were."""
    (patient,) = parse_patient_list_response(_vector("td04_unqualified_entries.xml")).patients
    assert patient.ins == "279035121518989"
    assert [i.national_id_type for i in patient.identifiers] == ["1.2.250.1.213.1.4.2", "1.2.250.1.213.1.4.10"]
    assert (patient.last_name, patient.birth_date, patient.treating_physician) == (
        "PAT-CINQ",
        dt.date(1979, 3, 12),
        False,
    )
    assert patient.last_access == dt.datetime(2025, 9, 12, 9, 30, tzinfo=dt.UTC)


def test_a_body_of_another_service_is_a_protocol_error() -> None:
    with pytest.raises(DmpProtocolError, match="patientListResponse"):
        parse_patient_list_response(_vector("td03_already_present.xml"))
    with pytest.raises(DmpProtocolError, match="action"):
        parse_set_authorization(build_list_authorizations())


@pytest.mark.parametrize(
    ("service", "name"),
    [
        ("habilitations", "td03_already_present.xml"),
        ("habilitations", "td16_mixed_parties.xml"),
        ("patientsSpecific", "td04_two_patients.xml"),
    ],
)
def test_hand_written_answers_fit_the_wsdl(service: str, name: str) -> None:
    _wsdl_schema(service).assertValid(_vector(name))


@pytest.mark.parametrize(
    ("service", "td"), [("habilitations", "TD0.3"), ("habilitations", "TD1.6"), ("patientsSpecific", "TD0.4")]
)
def test_golden_bodies_fit_the_wsdl(service: str, td: str) -> None:
    schema = _wsdl_schema(service)
    for kind in ("request", "response"):
        schema.assertValid(etree.parse(str(GOLDEN / f"{td}.{kind}.xml")).getroot())


# --- requests, both directions ------------------------------------------------------------------


@pytest.mark.parametrize("action", list(AuthorizationAction))
@pytest.mark.parametrize("treating", [False, True])
def test_set_authorization_request_round_trip(action: AuthorizationAction, treating: bool) -> None:
    parsed = parse_set_authorization(build_set_authorization(action, treating_physician=treating))
    assert (parsed.action, parsed.treating_physician) == (action, treating)


@pytest.mark.parametrize("mode", [None, *AuthorizationListMode])
def test_list_request_round_trip(mode: AuthorizationListMode | None) -> None:
    assert parse_list_authorizations(build_list_authorizations(mode)) == mode


def test_patient_list_request_accepts_both_date_widths() -> None:
    start = dt.datetime(2025, 3, 2, 10, 4, 5, tzinfo=dt.UTC)
    query = parse_patient_list(
        build_patient_list(start=start, date_type=PatientListDateType.LAST_DOCUMENT, ps_owner_id="899900063480")
    )
    assert (query.start, query.date_type, query.ps_owner_id) == (
        start,
        PatientListDateType.LAST_DOCUMENT,
        "899900063480",
    )
    short = build_patient_list()
    etree.SubElement(short, "{urn:si-dmp-patients}startDate").text = "20250302"
    assert parse_patient_list(short).start == dt.datetime(2025, 3, 2, tzinfo=dt.UTC)
    short.find("{urn:si-dmp-patients}startDate").text = "02/03/2025"
    with pytest.raises(DmpProtocolError, match="startDate"):
        parse_patient_list(short)


# --- answers, build → parse ---------------------------------------------------------------------

_moments = st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2030, 1, 1), timezones=st.just(dt.UTC)).map(
    lambda moment: moment.replace(microsecond=0)
)
_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1, max_size=12
)
parties = st.builds(
    AuthorizedParty,
    national_id=st.none() | st.from_regex(r"8[0-9]{11}", fullmatch=True),
    national_id_type=st.none() | st.sampled_from(["1.2.250.1.71.4.2.1", "1.2.250.1.71.4.2.2"]),
    first_name=st.none() | _text,
    last_name=st.none() | _text,
    specialty_codes=st.lists(st.sampled_from(["G15_10/SM26", "G15_60"]), max_size=2).map(tuple),
    specialty_labels=st.lists(_text, max_size=2).map(tuple),
    start=st.none() | _moments,
    last_action=st.none() | _moments,
    mode=st.none() | st.sampled_from(["ACTIVE", "INTERDITE"]),
    specific_rights=st.lists(st.just("MEDECIN_TRAITANT"), max_size=1).map(tuple),
)
patients = st.builds(
    AuthorizedPatient,
    identifiers=st.lists(
        st.builds(
            PatientIdentifier,
            national_id=st.from_regex(r"[12][0-9]{14}", fullmatch=True),
            national_id_type=st.just("1.2.250.1.213.1.4.10"),
        ),
        max_size=2,
    ).map(tuple),
    last_name=st.none() | _text,
    patronymical_name=st.none() | _text,
    first_name=st.none() | _text,
    civility=st.none() | st.sampled_from(["M", "MME"]),
    birth_date=st.none() | st.dates(dt.date(1900, 1, 1), dt.date(2025, 1, 1)),
    treating_physician=st.booleans(),
    message=st.booleans(),
    last_access=st.none() | _moments,
    last_update=st.none() | _moments,
    last_add=st.none() | _moments,
)


@settings(max_examples=50, deadline=None)
@given(st.lists(parties, max_size=4), _text)
def test_authorization_list_round_trip(entries: list[AuthorizedParty], context: str) -> None:
    body = build_list_authorizations_response(entries, context=context)
    parsed = parse_list_authorizations_response(parse_untrusted(etree.tostring(body)))
    assert (parsed.parties, parsed.context) == (tuple(entries), context)


@settings(max_examples=50, deadline=None)
@given(st.lists(patients, max_size=4))
def test_patient_list_round_trip(entries: list[AuthorizedPatient]) -> None:
    body = build_patient_list_response(entries)
    assert parse_patient_list_response(parse_untrusted(etree.tostring(body))).patients == tuple(entries)
