"""TD2.1 submissions a hostile or broken sender makes, client ↔ mock over real mutual TLS: each is a Failure
with the registry's error code, never an internal error, and nothing is registered."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from dmpclient import DmpClient
from dmpclient.errors import DmpRegistryError
from dmpclient.security.xades import ManifestReference, SubmissionSigner
from dmpclient.security.xmldsig import SoftwareSigner
from dmpclient.transactions import feeding
from dmpclient.transactions.operation import Operation
from dmpclient.xds.codes import AvailabilityStatus
from tests.feed_samples import OPTIONS, PATB_QUATRE, TEST_OID, cda, document_id
from tests.feeding.conftest import AIR_DOCTOR, ESTABLISHMENT, fresh


class _BareReference(ManifestReference):
    """A manifest reference written ``URI="{uniqueId}"``, without the ``urn:oid:`` of §5.4."""

    __slots__ = ()

    @property
    def uri(self) -> str:
        return self.unique_id


def _operation(client: DmpClient, signer: SubmissionSigner, number: int, *, bare: bool = False) -> Operation[Any]:
    draft = feeding.draft_submission(client.context, [feeding.FeedDocument(content=cda(number))], OPTIONS)
    kind = _BareReference if bare else ManifestReference
    signature = signer.sign(
        submission_set_unique_id=draft.ids.submission_set_unique_id,
        documents=[kind(uid, digest) for uid, digest in draft.manifest()],
        signing_time=draft.ids.submission_time,
        signature_id=draft.signature_id,
    )
    return draft.operation(signature)


def _refusal(client: DmpClient, op: Operation[Any]) -> tuple[str, str]:
    with pytest.raises(DmpRegistryError) as caught:
        client.execute(op, ESTABLISHMENT)
    error = caught.value.errors[0]
    return error.error_code, error.code_context


def _registered(client: DmpClient, number: int) -> bool:
    found = client.get_documents(PATB_QUATRE, AIR_DOCTOR, ins_oid=TEST_OID, unique_ids=[document_id(number)])
    return any(entry.availability is AvailabilityStatus.APPROVED for entry in found.documents)


def _self_made_signer() -> SubmissionSigner:
    """A signer whose certificate no IGC-Santé CA issued (self-signed, otherwise well-formed)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "899900063480")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        .sign(key, hashes.SHA256())
    )
    return SubmissionSigner(SoftwareSigner(certificate, key))


def test_a_manifest_reference_without_urn_oid_is_a_metadata_error(client: DmpClient) -> None:
    """The manifest names the document as ``1.2.3…`` instead of ``urn:oid:1.2.3…``: a Failure, not a 500."""
    number = fresh()
    code, context = _refusal(client, _operation(client, client.submission_signer, number, bare=True))
    assert code == "XDSRegistryMetadataError"
    assert "urn:oid:" in context
    assert not _registered(client, number)


def test_a_batch_signed_with_a_self_made_certificate_is_refused(client: DmpClient) -> None:
    """§5.4: the batch is signed with the VIHF's key, an IGC-Santé certificate; a valid signature by an
    untrusted certificate is refused like a broken one."""
    number = fresh()
    code, context = _refusal(client, _operation(client, _self_made_signer(), number))
    assert code == "XDSRegistryMetadataError"
    assert "autorité de confiance" in context
    assert not _registered(client, number)
    client.execute(_operation(client, client.submission_signer, number), ESTABLISHMENT)  # the trusted signer passes
    assert _registered(client, number)


def test_a_replacement_naming_its_target_by_unique_id_is_unresolved(client: DmpClient) -> None:
    """§5.6: the RPLC target is the previous version's entryUUID; its uniqueId is no registry object id."""
    v1, v2 = fresh(), fresh()
    client.feed([cda(v1)], ESTABLISHMENT, options=OPTIONS)
    document = feeding.FeedDocument(content=cda(v2, version=2, set_number=v1, replaces=v1), replaces=document_id(v1))
    with pytest.raises(DmpRegistryError) as caught:
        client.feed([document], ESTABLISHMENT, options=OPTIONS)
    assert caught.value.errors[0].error_code == "UnresolvedReferenceException"
    assert not _registered(client, v2)
    assert _registered(client, v1)  # not deprecated by a replacement that did not happen
