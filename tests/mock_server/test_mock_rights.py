"""The mock's rights decisions (reference §8) over mutual TLS: one refused row of each official matrix, an
allowed one, the patient's oppositions, and the client's local pre-check.

TD0.2 and TD1.3a are allowed to everyone, so the matrix rows are exercised on test-only routes
(a TD2.1-like route on ``repository``, a TD3.1-like one on ``registry``) registered on a second
:class:`MockDmp` that shares the session store and gate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Final

import pytest
from lxml import etree

from dmpclient import DmpClient
from dmpclient.config import DmpConfig
from dmpclient.errors import DmpRightsError, DmpRightsPrecheckError
from dmpclient.hl7v3.patient_query import AuthorizationStatus, ExistenceAnswer
from dmpclient.ids import InsOid
from dmpclient.security.pki import TestPki
from dmpclient.security.vihf import AuthMode, PatientId, PurposeOfUse, SoftwareSigner, sign_vihf
from dmpclient.transactions.operation import Operation, PatientRef
from dmpclient.transactions.rights import NoteCondition, RightsAction
from dmpclient.transactions.spec import Service, TransactionSpec
from mock_server.app import MockDmp
from mock_server.context import Reply, RequestContext
from mock_server.handlers import default_router
from mock_server.routing import Route
from mock_server.runtime import MockRuntime
from mock_server.server import RunningServer
from mock_server.store.records import DmpStatus, Outcome
from tests.mock_server.conftest import OPPOSES_BRIS_DE_GLACE, PATB_QUATRE, TEST_OID, identity, serve, td02
from tests.unit.vihf_factory import build, now, signer_of

TEST_NS: Final = "urn:dmpclient:test:rights"
BLOCKS_TEST_PS: Final = "279035121518989"  # seeded: this patient blocked the test doctor 899900063480
FEED: Final = f"{{{TEST_NS}}}Feed"
SEARCH: Final = f"{{{TEST_NS}}}Search"


def _accepted(ctx: RequestContext) -> Reply:
    """Test handler: reached only when the gate let the call through; tells which column, cell and notes it got."""
    result = etree.Element(f"{{{TEST_NS}}}Accepted", nsmap={"t": TEST_NS})
    result.set("actor", ctx.caller.actor.value)
    assert ctx.decision is not None
    assert ctx.decision.allowed
    result.set("cell", ctx.decision.cell)
    result.set("conditions", " ".join(sorted(ctx.decision.conditions)))
    return Reply(result, detail=f"column={ctx.caller.actor.value}")


def _patient_attribute(body: etree._Element) -> PatientRef | None:
    ins = body.get("patient")
    return PatientRef(ins, "") if ins else None


def _test_spec(td: str, service: Service, root: str, rights: RightsAction) -> TransactionSpec[None]:
    """A test-only transaction (the real TD2.1 / TD3.1 bodies are not needed to exercise the gate)."""
    return TransactionSpec(
        td=td,
        title=f"test {td}",
        service=service,
        request_root=root,
        request_action=f"urn:dmpclient:test:{td}",
        response_action=f"urn:dmpclient:test:{td}Response",
        decode=lambda response: None,
        rights=(rights,),
        idempotent=False,
        body_patient=_patient_attribute,
    )


EXTRA_ROUTES: Final = (
    Route(_test_spec("TD2.1", Service.REPOSITORY, FEED, RightsAction.TD2_1_ALIMENTATION), _accepted),
    Route(_test_spec("TD3.1", Service.REGISTRY, SEARCH, RightsAction.TD3_1_RECHERCHE_METADONNEES), _accepted),
)


@pytest.fixture(scope="module")
def rights_dmp(mock_runtime: MockRuntime, pki: TestPki) -> Iterator[RunningServer]:
    """A second mock on the same store and gate, answering the test-only routes too."""
    router = default_router()
    router.extend(EXTRA_ROUTES)
    app = MockDmp(mock_runtime.store, mock_runtime.app.gate, router)
    server = serve(dataclasses.replace(mock_runtime, app=app), pki)
    yield server
    server.stop()


@pytest.fixture
def rights_client(rights_dmp: RunningServer, pki: TestPki) -> Iterator[DmpClient]:
    with DmpClient(DmpConfig.for_test_pki(pki, base_url=rights_dmp.services_url)) as dmp:
        yield dmp


@pytest.fixture
def org_signer(pki: TestPki) -> SoftwareSigner:
    return signer_of(pki.org_sign)


def _call(client: DmpClient, route: Route, assertion: bytes, *, ins: str = PATB_QUATRE) -> etree._Element:
    spec = route.spec
    body = etree.Element(spec.request_root, nsmap={"t": TEST_NS})
    body.set("patient", ins)
    with client.call(
        spec.service, body, action=spec.request_action, td=spec.td, assertion=assertion, idempotent=False
    ) as response:
        assert response.message.body is not None
        return response.message.body


def _vihf(signer: SoftwareSigner, mode: AuthMode, *, ins: str = PATB_QUATRE, **options: object) -> bytes:
    patient = PatientId(ins=ins, oid=InsOid.TEST)
    return sign_vihf(build(mode, signer, now(), patient=patient, **options), signer)


def _refused_by_rights(client: DmpClient, route: Route, assertion: bytes) -> DmpRightsError:
    with pytest.raises(DmpRightsError) as caught:
        _call(client, route, assertion)
    fault = caught.value
    assert (fault.code, fault.subcode) == ("Sender", "DMPAccessDeniedByRightsService")
    assert fault.reason.startswith("Accès refusé par le service de gestion des droits")
    assert fault.td == route.td
    return fault


def test_air_matrix_606_refuses_feeding_in_air(
    rights_client: DmpClient, org_signer: SoftwareSigner, mock_runtime: MockRuntime
) -> None:
    fault = _refused_by_rights(rights_client, EXTRA_ROUTES[0], _vihf(org_signer, AuthMode.AIR))
    assert "matrice 606 v1.3" in fault.reason
    assert "MT_N (médecin traitant, accès normal) : non" in fault.reason
    entry = mock_runtime.store.access_trace(limit=1)[0]
    assert (entry.td, entry.outcome, entry.auth_mode) == ("TD2.1", Outcome.REFUSED, "INDIRECTE_RENFORCEE")
    assert entry.ps_id == "899900063480"
    assert entry.detail is not None
    assert "606" in entry.detail


def test_direct_indirect_matrix_526_refuses_metadata_search_to_an_establishment_certificate(
    rights_client: DmpClient, org_signer: SoftwareSigner
) -> None:
    fault = _refused_by_rights(rights_client, EXTRA_ROUTES[1], _vihf(org_signer, AuthMode.INDIRECTE))
    assert "matrice 526 v1.8" in fault.reason
    assert "ES_N (certificat ES (indirect), accès normal) : non" in fault.reason


def test_allowed_combinations_reach_the_handler(
    rights_client: DmpClient, org_signer: SoftwareSigner, mock_runtime: MockRuntime
) -> None:
    fed = _call(rights_client, EXTRA_ROUTES[0], _vihf(org_signer, AuthMode.INDIRECTE))
    assert fed.tag == f"{{{TEST_NS}}}Accepted"
    assert fed.get("actor") == "ES"
    # 526 ES_N is oui(4): the handler receives the decision and the note it has to enforce.
    assert (fed.get("cell"), fed.get("conditions")) == ("oui(4)", NoteCondition.AUTHORSHIP_TO_STRUCTURE.value)
    entry = mock_runtime.store.access_trace(limit=1)[0]
    assert (entry.td, entry.outcome, entry.detail) == ("TD2.1", Outcome.ALLOWED, "column=ES")
    searched = _call(rights_client, EXTRA_ROUTES[1], _vihf(org_signer, AuthMode.AIR))
    assert searched.get("actor") == "MEDECIN_TRAITANT"  # the test doctor is PATB-QUATRE's médecin traitant
    assert (searched.get("cell"), searched.get("conditions")) == ("oui", "")


def test_a_professional_blocked_by_the_patient_is_refused_every_td_but_td02(
    client: DmpClient, rights_client: DmpClient, org_signer: SoftwareSigner, mock_runtime: MockRuntime
) -> None:
    assert client.test_existence(BLOCKS_TEST_PS, identity(), ins_oid=TEST_OID).authorization is (
        AuthorizationStatus.INTERDIT
    )
    with pytest.raises(DmpRightsError) as caught:
        client.administrative_data(BLOCKS_TEST_PS, identity(), ins_oid=TEST_OID)
    assert (caught.value.code, caught.value.subcode) == ("Sender", "DMPAccessDeniedByRightsService")
    assert caught.value.reason == "Accès refusé : le patient a bloqué ce professionnel"
    entry = mock_runtime.store.access_trace(limit=1)[0]
    assert (entry.td, entry.outcome, entry.ps_id, entry.patient_ins) == (
        "TD1.3a",
        Outcome.REFUSED,
        "899900063480",
        BLOCKS_TEST_PS,
    )
    with pytest.raises(DmpRightsError) as searched:
        _call(rights_client, EXTRA_ROUTES[1], _vihf(org_signer, AuthMode.AIR, ins=BLOCKS_TEST_PS), ins=BLOCKS_TEST_PS)
    assert searched.value.reason == "Accès refusé : le patient a bloqué ce professionnel"


def test_break_glass_on_a_patient_who_opposed_it(
    client: DmpClient, org_signer: SoftwareSigner, mock_runtime: MockRuntime
) -> None:
    assertion = _vihf(org_signer, AuthMode.AIR, ins=OPPOSES_BRIS_DE_GLACE, purpose=PurposeOfUse.BRIS_DE_GLACE)
    op = td02(OPPOSES_BRIS_DE_GLACE)
    with pytest.raises(DmpRightsError) as caught:
        client.call(
            op.spec.service, op.body, action=op.spec.request_action, td=op.td, assertion=assertion, idempotent=False
        )
    assert caught.value.subcode == "DMPAccessDeniedByRightsService"
    assert "opposé à l'accès en mode bris de glace" in caught.value.reason
    entry = mock_runtime.store.access_trace(limit=1)[0]
    assert (entry.td, entry.outcome, entry.access_mode) == ("TD0.2", Outcome.REFUSED, "bris_de_glace")
    assert entry.patient_ins == OPPOSES_BRIS_DE_GLACE


def test_break_glass_is_allowed_where_the_patient_did_not_oppose(client: DmpClient) -> None:
    answer = client.test_existence(PATB_QUATRE, identity(purpose=PurposeOfUse.BRIS_DE_GLACE), ins_oid=InsOid.TEST)
    assert answer.patient is not None


def test_regulation_on_a_patient_who_opposed_emergency_access(client: DmpClient, mock_runtime: MockRuntime) -> None:
    opposed = next(
        p
        for p in mock_runtime.store.list_patients()
        if p.opposition_acces_urgence and p.dmp_status is DmpStatus.ACTIVE and p.ins_oid == InsOid.TEST
    )
    with pytest.raises(DmpRightsError) as caught:
        client.test_existence(opposed.ins, identity(purpose=PurposeOfUse.CENTRE_15), ins_oid=opposed.ins_oid)
    assert "centre de régulation" in caught.value.reason


def _as_td05(op: Operation[ExistenceAnswer]) -> Operation[ExistenceAnswer]:
    """A TD0.2 body sent under TD0.5's rights row (the pre-check judges the spec, the mock the body)."""
    spec = dataclasses.replace(op.spec, td="TD0.5", rights=(RightsAction.TD0_5_RECHERCHE_SANS_INS,))
    return dataclasses.replace(op, spec=spec)


def test_client_precheck_refuses_locally_and_sends_nothing(client: DmpClient, mock_runtime: MockRuntime) -> None:
    # TD0.5 (search without INS) is refused to a physician in normal access, treating or not (606 MED_N, MT_N).
    op = _as_td05(td02())
    before = len(mock_runtime.store.access_trace(limit=1_000_000))
    with pytest.raises(DmpRightsPrecheckError) as caught:
        client.execute(op, identity())
    assert caught.value.td == "TD0.5"
    assert "606" in caught.value.message
    assert "precheck=False" in caught.value.message
    assert len(mock_runtime.store.access_trace(limit=1_000_000)) == before


def test_without_precheck_the_request_goes_out(client: DmpClient, mock_runtime: MockRuntime) -> None:
    op = _as_td05(td02())
    answer = client.execute(op, identity(), precheck=False)  # the mock judges the body it routes (a TD0.2)
    assert answer.patient is not None
    assert mock_runtime.store.access_trace(limit=1)[0].td == "TD0.2"
