"""The contract between client and mock: both read the same transaction declarations.

Parametrised over every spec of :data:`~dmpclient.transactions.catalog.SPECS`: the mock answers it (with
that very spec), its golden request and answer are on disk and valid, the decoder reads the answer, and
the rights column the client pre-check derives from an identity is the one the mock gate derives from the
VIHF that identity produces, for every kind of caller × mode × access mode.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from lxml import etree

from dmpclient._prepare import caller_profile as client_profile
from dmpclient._prepare import effective_mode, issuer_from_config, precheck_decisions
from dmpclient.config import DmpConfig
from dmpclient.ids import InsOid
from dmpclient.security.issuer import CallerIdentity, VihfIssuer
from dmpclient.security.pki import TestPki
from dmpclient.security.verify import VerificationPolicy, verify_vihf
from dmpclient.security.vihf import Actor, AuthMode, NonPsRole, PatientId, PurposeOfUse
from dmpclient.soap.envelope import build_response, read_soap
from dmpclient.soap.response import Response
from dmpclient.transactions.catalog import SPECS, by_td, resolve
from dmpclient.transactions.operation import PatientRef
from dmpclient.transactions.rights import Matrix, RightsAction, caller_column, matrix_for, project_rules_for
from dmpclient.transactions.spec import PatientBlock, TransactionSpec
from mock_server.gate import caller_profile as gate_profile
from mock_server.handlers import default_router
from mock_server.handlers.legacy import ROUTES as LEGACY_ROUTES
from tests.golden import assert_golden, frozen_context
from tests.golden_cases import CASES
from tests.hl7_types import HL7, assert_hl7_datatypes
from tests.unit.vihf_factory import signer_of
from tests.xsd import assert_valid_by_root

IDS = [spec.td for spec in SPECS]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_the_mock_answers_every_transaction_with_the_same_spec(spec: TransactionSpec[Any]) -> None:
    assert default_router().routes[spec.route_key].spec is spec


def test_the_mock_answers_nothing_the_client_does_not_declare() -> None:
    """Except the legacy TDs it recognises only to refuse (TD1.1, TD1.2), which the client does not offer."""
    legacy = {route.spec.td for route in LEGACY_ROUTES}
    assert legacy == {"TD1.1", "TD1.2"}
    assert not legacy & set(IDS)
    assert {route.spec.td for route in default_router().routes.values()} == set(IDS) | legacy


def test_transaction_numbers_and_route_keys_are_unique() -> None:
    assert len(set(IDS)) == len(IDS)
    assert len({spec.route_key for spec in SPECS}) == len(SPECS)
    assert all(by_td(spec.td) is spec for spec in SPECS)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_every_rights_row_exists_in_a_matrix(spec: TransactionSpec[Any]) -> None:
    rows = {action for m in Matrix for table in (matrix_for(m), project_rules_for(m)) for action in table.rows}
    assert set(spec.rights) <= rows
    assert spec.request_action
    assert spec.response_action
    assert (spec.patient is PatientBlock.BODY) == (spec.body_patient is not None)


#: Request and response ``wsa:Action`` of every transaction, copied by hand from reference §3.0 (its table),
#: not computed from the specs: a typo in a spec (``UpdateDocumentSetResponse``) fails here.
ACTIONS_OF_REFERENCE_3_0 = {
    "TD0.2": ("urn:hl7-org:v3:PRPA_IN201307UV02", "urn:hl7-org:v3:PRPA_IN201308UV02"),
    "TD0.3": (
        "urn:si-dmp-habilitations:HabilitationsEndPoint:setAuthorization",
        "urn:si-dmp-habilitations:HabilitationsEndPoint:setAuthorizationResponse",
    ),
    "TD0.4": (
        "urn:si-dmp-patients:PatientSpecificEndPoint:patientList",
        "urn:si-dmp-patients:PatientSpecificEndPoint:patientListResponse",
    ),
    "TD0.5": ("urn:hl7-org:v3:PRPA_IN201305UV02", "urn:hl7-org:v3:PRPA_IN201306UV02"),
    "TD1.3a": ("urn:hl7-org:v3:PRPA_IN201307UV02", "urn:hl7-org:v3:PRPA_IN201308UV02"),
    "TD1.3b": ("urn:hl7-org:v3:PRPA_IN201314UV02", "urn:hl7-org:v3:PRPA_IN201314ResponseUV02"),
    "TD1.6": (
        "urn:si-dmp-habilitations:HabilitationsEndPoint:listAuthorizationByPatient",
        "urn:si-dmp-habilitations:HabilitationsEndPoint:listAuthorizationByPatientResponse",
    ),
    "TD2.1": (
        "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b",
        "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse",
    ),
    "TD3.1": ("urn:ihe:iti:2007:RegistryStoredQuery", "urn:ihe:iti:2007:RegistryStoredQueryResponse"),
    "TD3.2": ("urn:ihe:iti:2007:RetrieveDocumentSet", "urn:ihe:iti:2007:RetrieveDocumentSetResponse"),
    "TD3.3": ("urn:ihe:iti:2010:UpdateDocumentSet", "urn:ihe:iti:2010:UpdateDocumentSet-Response"),
}


def test_every_action_is_the_one_of_the_reference() -> None:
    assert {spec.td: (spec.request_action, spec.response_action) for spec in SPECS} == ACTIONS_OF_REFERENCE_3_0


def test_every_transaction_has_a_golden_case() -> None:
    assert set(IDS) <= set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_request_and_answer(name: str) -> None:
    case = CASES[name]
    spec = case.spec
    op = case.request(frozen_context())
    assert op.spec is spec
    assert resolve(spec.service.value, op.body.tag, op.body.findtext("*/{*}reasonCode") or spec.reason_code) is spec
    assert default_router().resolve(spec.service.value, op.body, spec.request_action).spec is spec
    answer = case.response(op)
    assert_golden(f"{name}.request", op.body)
    assert_golden(f"{name}.response", answer)
    for message in (op.body, answer):
        assert_valid_by_root(message)
    for message in (op.body, answer):  # HL7v3 payloads (or the HL7v3 message a wrapper carries)
        for hl7 in [message] if etree.QName(message).namespace == HL7 else message.findall(f"{{{HL7}}}*"):
            assert assert_hl7_datatypes(hl7) > 0
    envelope = build_response(answer, action=spec.response_action, relates_to="urn:uuid:1", message_id=None)
    assert spec.decode(Response(read_soap(envelope), None, 200)) is not None
    if spec.patient is PatientBlock.BODY:  # a variant may name its patient only in the VIHF (GetDocuments…)
        named = spec.patient_of(op.body)
        assert named == op.patient or (named is None and name != spec.td)
    assert spec.read_request is not None
    assert spec.read_request(op.body) is not None


_PATIENT = PatientRef("207058575627097", InsOid.TEST)
_CALLERS = {
    "médecin": Actor.professional("899900063480", name="LIBRE MAX", profession="10", specialty="SM26"),
    "médecin du travail": Actor.professional("899900063480", name="TRAVAIL MAX", profession="10", specialty="SM25"),
    "pharmacien": Actor.professional("899900063480", name="PHARMA MAX", profession="21", specialty="A"),
    "infirmier": Actor.professional("899900063480", name="INFIRMIER MAX", profession="60"),
    "secrétaire médicale": Actor.device("899900063480", name="SECRETARIAT", kind=NonPsRole.SECRETARIAT_MEDICAL),
}


@pytest.fixture(scope="module")
def issuers(pki: TestPki) -> dict[AuthMode, VihfIssuer]:
    org = issuer_from_config(DmpConfig.for_test_pki(pki))
    card = VihfIssuer(signer_of(pki.ps_sign), structure=org.structure, lps=org.lps)
    return {AuthMode.AIR: org, AuthMode.INDIRECTE: org, AuthMode.DIRECTE: card}


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@pytest.mark.parametrize("who", sorted(_CALLERS))
@pytest.mark.parametrize("mode", list(AuthMode), ids=lambda m: m.value)
@pytest.mark.parametrize("purpose", list(PurposeOfUse), ids=lambda p: p.value)
def test_precheck_and_gate_derive_the_same_rights_column(
    spec: TransactionSpec[Any],
    who: str,
    mode: AuthMode,
    purpose: PurposeOfUse,
    issuers: dict[AuthMode, VihfIssuer],
    pki: TestPki,
) -> None:
    actor = _CALLERS[who]
    if mode is AuthMode.DIRECTE:
        actor = actor.model_copy(update={"national_id": pki.ps_id})  # the card holder is the NameID
    identity = CallerIdentity(actor, mode=mode, purpose=purpose)
    sent_mode = effective_mode(spec, identity)
    now = dt.datetime.now(dt.UTC)
    patient = PatientId(ins="207058575627097", oid=InsOid.TEST)
    assertion = issuers[sent_mode].issue(identity, patient, now=now, mode=sent_mode)
    vihf = verify_vihf(assertion, VerificationPolicy.from_ca_file(pki.ca_bundle), now=now).vihf
    body = CASES[spec.td].request(frozen_context()).body
    checked = [decision.action for decision in precheck_decisions(spec.operation(body, patient=_PATIENT), identity)]
    for treating in (False, True):
        ours, theirs = client_profile(spec, identity, treating=treating), gate_profile(vihf, treating=treating)
        assert ours == theirs
        assert caller_column(ours) == caller_column(theirs)
        gate_row = spec.rights_row(body, caller_column(theirs)[0])  # what Gate.authorize checks
        if checked:
            assert checked[treating] is gate_row
        else:
            assert gate_row is None


def test_a_cpe_feeds_under_the_td22_row_everyone_else_under_td21(pki: TestPki) -> None:
    """526: TD2.1 ``non`` and TD2.2 ``oui(4)`` for the CPE column; the same message (§3.14, §5.7.9)."""
    body = CASES["TD2.1"].request(frozen_context()).body
    spec = by_td("TD2.1")
    secretary = _CALLERS["secrétaire médicale"].model_copy(update={"national_id": pki.ps_id})
    cpe = precheck_decisions(spec.operation(body, patient=_PATIENT), CallerIdentity(secretary, mode=AuthMode.DIRECTE))
    assert {(d.action, d.allowed, d.cell) for d in cpe} == {(RightsAction.TD2_2_ALIMENTATION_CPE, True, "oui(4)")}
    for who in ("médecin", "infirmier"):
        for mode in (AuthMode.DIRECTE, AuthMode.INDIRECTE):
            others = precheck_decisions(
                spec.operation(body, patient=_PATIENT), CallerIdentity(_CALLERS[who], mode=mode)
            )
            assert {d.action for d in others} == {RightsAction.TD2_1_ALIMENTATION}
            assert all(d.allowed for d in others)
