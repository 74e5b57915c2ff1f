"""The mock's VIHF gate (reference §2.12), one test per rejection, through the real client over mutual TLS.

Each rejection must come back as a SOAP 1.2 ``soap:Sender`` fault with its DMP-style subcode and a
French reason, and must not reach the handler (no trace entry: nobody was authenticated; refusals of
an authenticated caller are traced: the resource-id checks here, the rights in test_mock_rights).
"""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest
from lxml import etree

from dmpclient import DmpClient
from dmpclient._xml import NS as XML_NS
from dmpclient.codes import ValueSetId
from dmpclient.config import DmpConfig
from dmpclient.errors import DmpSoapFault
from dmpclient.hl7v3.patient_query import DmpStatus
from dmpclient.ids import InsOid
from dmpclient.security.pki import TestPki
from dmpclient.security.vihf import (
    SPECIALTY_MISSING_MESSAGE,
    AuthMode,
    CodedValue,
    PatientId,
    SoftwareSigner,
    VihfAttribute,
    sign_vihf,
    vihf_to_element,
)
from dmpclient.soap.envelope import build_request, read_soap
from dmpclient.soap.faults import FAULT_ACTION
from mock_server.runtime import MockRuntime
from mock_server.store.records import Outcome
from tests.mock_server.conftest import PATB_QUATRE, td02
from tests.unit.vihf_factory import build, edited, now, sign_element, signer_of

#: Another seeded patient with a valid INS key (public test identity PAT-TROIS).
OTHER_PATIENT = "153078987658513"


@pytest.fixture
def org_signer(pki: TestPki) -> SoftwareSigner:
    return signer_of(pki.org_sign)


def _trace_size(runtime: MockRuntime) -> int:
    return len(runtime.store.access_trace(limit=1_000_000))


def _send(client: DmpClient, assertion: bytes | None) -> None:
    op = td02()
    with client.call(
        op.spec.service, op.body, action=op.spec.request_action, td=op.td, assertion=assertion, idempotent=False
    ):
        pass


def _refused(
    client: DmpClient,
    runtime: MockRuntime,
    assertion: bytes | None,
    subcode: str,
    fragment: str,
    *,
    traced: bool = False,
) -> str:
    """Send a TD0.2 with ``assertion``; assert the Sender fault, its subcode and reason, and the trace.

    Before the VIHF is verified nobody is known, so nothing is traced; after (``traced``), the refusal of
    the authenticated caller is traced as refused, with its reason.
    """
    before = _trace_size(runtime)
    with pytest.raises(DmpSoapFault) as caught:
        _send(client, assertion)
    fault = caught.value
    assert (fault.code, fault.subcode) == ("Sender", subcode), fault.reason
    assert fragment in fault.reason
    assert fault.td == "TD0.2"
    assert _trace_size(runtime) == before + traced
    if traced:
        entry = runtime.store.access_trace(limit=1)[0]
        assert (entry.td, entry.outcome, entry.ps_id, entry.detail) == (
            "TD0.2",
            Outcome.REFUSED,
            "899900063480",
            fault.reason,
        )
    return fault.reason


def _attribute(name: str) -> str:
    return f"saml2:AttributeStatement/saml2:Attribute[@Name='{name}']"


def test_a_valid_signed_air_vihf_is_admitted(client: DmpClient, org_signer: SoftwareSigner) -> None:
    data = sign_vihf(build(AuthMode.AIR, org_signer, now()), org_signer)
    op = td02()
    with client.call(
        op.spec.service, op.body, action=op.spec.request_action, td=op.td, assertion=data, idempotent=False
    ) as response:
        assert op.parse(response).status is DmpStatus.ACTIVE


def test_no_vihf_at_all(client: DmpClient, mock_runtime: MockRuntime) -> None:
    _refused(client, mock_runtime, None, "DMPInvalidVihf", "Aucun VIHF")


def test_unsigned_vihf(client: DmpClient, mock_runtime: MockRuntime, org_signer: SoftwareSigner) -> None:
    unsigned = etree.tostring(vihf_to_element(build(AuthMode.AIR, org_signer, now())))
    _refused(client, mock_runtime, unsigned, "DMPInvalidSignature", "Le VIHF n'est pas signé")


def test_signed_vihf_with_a_modified_attribute(
    client: DmpClient, mock_runtime: MockRuntime, org_signer: SoftwareSigner
) -> None:
    signed = sign_vihf(build(AuthMode.AIR, org_signer, now()), org_signer)
    assert signed.count(b"LIBRE MAX") == 1
    tampered = signed.replace(b"LIBRE MAX", b"LIBRE MIN")
    _refused(client, mock_runtime, tampered, "DMPInvalidSignature", "contenu modifié")


def test_signer_from_an_untrusted_ca(
    client: DmpClient, mock_runtime: MockRuntime, pki: TestPki, rogue_pki: TestPki
) -> None:
    assert rogue_pki.org_sign.subject == pki.org_sign.subject  # only the chain check can tell them apart
    rogue = signer_of(rogue_pki.org_sign)
    data = sign_vihf(build(AuthMode.AIR, rogue, now()), rogue)
    _refused(client, mock_runtime, data, "DMPInvalidCertificate", "Le certificat ayant signé le VIHF est invalide")


def test_signer_other_than_the_tls_client(client: DmpClient, mock_runtime: MockRuntime, pki: TestPki) -> None:
    card = signer_of(pki.ps_sign)  # trusted (PERSONNES CA), but not the ORG AUTH_CLI subject of the TLS channel
    data = sign_vihf(build(AuthMode.AIR, card, now()), card)
    _refused(client, mock_runtime, data, "DMPInvalidCertificate", "différent du certificat TLS")


def test_replayed_air_token(client: DmpClient, mock_runtime: MockRuntime, org_signer: SoftwareSigner) -> None:
    data = sign_vihf(build(AuthMode.AIR, org_signer, now()), org_signer)
    _send(client, data)
    _refused(client, mock_runtime, data, "DMPVihfReplayed", "déjà été utilisé")


def test_air_token_older_than_30_seconds(
    client: DmpClient, mock_runtime: MockRuntime, org_signer: SoftwareSigner
) -> None:
    data = sign_vihf(build(AuthMode.AIR, org_signer, now() - dt.timedelta(seconds=45)), org_signer)
    _refused(client, mock_runtime, data, "DMPVihfExpired", "30 secondes")


def test_physician_without_savoir_faire(
    client: DmpClient, mock_runtime: MockRuntime, org_signer: SoftwareSigner
) -> None:
    vihf = build(AuthMode.AIR, org_signer, now())
    only_profession = (CodedValue.from_value_set(ValueSetId.PROFESSION, "10"),)
    data = sign_element(vihf_to_element(vihf.model_copy(update={"roles": only_profession})), org_signer)
    _refused(client, mock_runtime, data, "DMPInvalidVihf", SPECIALTY_MISSING_MESSAGE)


def test_unknown_purpose_of_use(client: DmpClient, mock_runtime: MockRuntime, org_signer: SoftwareSigner) -> None:
    xpath = _attribute(VihfAttribute.PURPOSE_OF_USE) + "/saml2:AttributeValue/hl7:PurposeOfUse"
    data = edited(build(AuthMode.AIR, org_signer, now()), org_signer, xpath, "set", "curiosite")
    reason = _refused(client, mock_runtime, data, "DMPInvalidVihf", "Mode d'accès inconnu dans le VIHF")
    assert "purpose_unknown" in reason


def test_resource_id_of_another_patient(
    client: DmpClient, mock_runtime: MockRuntime, org_signer: SoftwareSigner
) -> None:
    other = PatientId(ins=OTHER_PATIENT, oid=InsOid.TEST)
    data = sign_vihf(build(AuthMode.AIR, org_signer, now(), patient=other), org_signer)
    _refused(client, mock_runtime, data, "DMPInvalidVihf", "ne correspond pas au patient de la requête", traced=True)


def test_resource_id_with_the_same_ins_under_another_oid(
    client: DmpClient, mock_runtime: MockRuntime, org_signer: SoftwareSigner
) -> None:
    same_ins_other_authority = PatientId(ins=PATB_QUATRE, oid=InsOid.NIR)  # the body says InsOid.TEST
    data = sign_vihf(build(AuthMode.AIR, org_signer, now(), patient=same_ins_other_authority), org_signer)
    _refused(client, mock_runtime, data, "DMPInvalidVihf", "ne correspond pas au patient de la requête", traced=True)


@pytest.mark.parametrize(
    "attribute",
    [VihfAttribute.IDENTIFIANT_STRUCTURE, VihfAttribute.AUTHENTIFICATION_MODE, VihfAttribute.ROLE],
)
def test_missing_mandatory_attribute(
    client: DmpClient, mock_runtime: MockRuntime, org_signer: SoftwareSigner, attribute: VihfAttribute
) -> None:
    data = edited(build(AuthMode.AIR, org_signer, now()), org_signer, _attribute(attribute), "remove")
    reason = _refused(client, mock_runtime, data, "DMPInvalidVihf", "Le VIHF est invalide")
    assert f"missing_attribute: mandatory attribute {attribute.value} is missing" in reason


# --- the fault on the wire ----------------------------------------------------------------------


def test_fault_on_the_wire_is_soap12_sender_related_to_the_request(
    mtls_http: httpx.Client, mock_config: DmpConfig, org_signer: SoftwareSigner
) -> None:
    op = td02()
    message_id = f"urn:uuid:{uuid.uuid4()}"
    unsigned = etree.tostring(vihf_to_element(build(AuthMode.AIR, org_signer, now())))
    envelope = build_request(op.body, action=op.spec.request_action, message_id=message_id, assertion=unsigned)
    response = mtls_http.post(
        mock_config.service_url("patients"),
        content=envelope,
        headers={"Content-Type": "application/soap+xml; charset=UTF-8"},
    )
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/soap+xml")
    message = read_soap(response.content)
    assert message.relates_to == message_id
    assert message.action == FAULT_ACTION
    assert message.message_id is not None
    assert message.message_id != message_id
    fault = message.body
    assert fault is not None
    assert fault.findtext("soap:Code/soap:Value", namespaces=XML_NS) == "soap:Sender"
    assert fault.findtext("soap:Code/soap:Subcode/soap:Value", namespaces=XML_NS) == "soap:DMPInvalidSignature"
    text = fault.find("soap:Reason/soap:Text", XML_NS)
    assert text is not None
    assert text.get(f"{{{XML_NS['xml']}}}lang") == "fr"


# --- mode ↔ signer (issue "Hardening") ----------------------------------------------------------


def test_directe_signed_with_the_structures_org_sign_key_is_refused(
    client: DmpClient, mock_runtime: MockRuntime, org_signer: SoftwareSigner
) -> None:
    """A structure cannot pass as a card holder: nothing is traced as a card-holder access."""
    forged = sign_vihf(build(AuthMode.DIRECTE, org_signer, now()), org_signer)
    reason = _refused(client, mock_runtime, forged, "DMPInvalidCertificate", "exige le certificat de signature")
    assert "signer_not_personal" in reason


def test_five_megabyte_name_id_never_reaches_the_trace(
    client: DmpClient, mock_runtime: MockRuntime, org_signer: SoftwareSigner
) -> None:
    huge = "8" * (5 * 1024 * 1024)
    data = edited(build(AuthMode.AIR, org_signer, now()), org_signer, "saml2:Subject/saml2:NameID", "set", huge)
    reason = _refused(client, mock_runtime, data, "DMPInvalidVihf", "trop volumineux")
    assert len(reason) < 1000


def test_unknown_profession_code_is_refused(
    client: DmpClient, mock_runtime: MockRuntime, org_signer: SoftwareSigner
) -> None:
    vihf = build(AuthMode.AIR, org_signer, now())
    unknown = CodedValue(code="99", code_system="1.2.250.1.71.1.2.7", code_system_name="professions")
    data = sign_element(vihf_to_element(vihf.model_copy(update={"roles": (unknown,)})), org_signer)
    assert "profession_unknown" in _refused(client, mock_runtime, data, "DMPInvalidVihf", "Profession inconnue")


def test_directe_over_the_cards_authentication_certificate_is_admitted(
    mock_config: DmpConfig, mock_runtime: MockRuntime, pki: TestPki
) -> None:
    """The card's two certificates: authentication opens the TLS channel, signature signs the VIHF."""
    assert pki.ps_auth is not None
    credentials = {
        "tls": {"cert": pki.ps_auth.cert, "key": pki.ps_auth.key},
        "signing": {"cert": pki.org_sign.cert, "key": pki.org_sign.key},
    }
    card_config = DmpConfig.model_validate(mock_config.model_dump() | {"credentials": credentials})
    card = signer_of(pki.ps_sign)
    data = sign_vihf(build(AuthMode.DIRECTE, card, now()), card)
    op = td02()
    with (
        DmpClient(card_config) as client,
        client.call(
            op.spec.service, op.body, action=op.spec.request_action, td=op.td, assertion=data, idempotent=False
        ) as response,
    ):
        assert op.parse(response).status is DmpStatus.ACTIVE
    entry = mock_runtime.store.access_trace(limit=1)[0]
    assert (entry.auth_mode, entry.ps_id, entry.outcome) == ("DIRECTE", pki.ps_id, Outcome.ALLOWED)
