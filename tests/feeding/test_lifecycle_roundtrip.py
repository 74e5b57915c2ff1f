"""TD3.3a–d client ↔ mock over real mutual TLS: each action, its effect in the registry, and the rights of
§6.3 — the matrices' columns (refused before sending) and their document-level notes (refused by the DMP)."""

from __future__ import annotations

import pytest

from dmpclient import DmpClient
from dmpclient.codes import Code
from dmpclient.errors import DmpRegistryError, DmpRightsPrecheckError, DmpValidationError
from dmpclient.security.issuer import CallerIdentity
from dmpclient.transactions.feeding import FeedDocument
from dmpclient.transactions.lifecycle import Audience
from dmpclient.xds.cda_metadata import Visibility
from dmpclient.xds.codes import AvailabilityStatus
from dmpclient.xds.models import DocumentEntry
from tests.feed_samples import OPTIONS, PATB_QUATRE, TEST_OID, cda, document_id
from tests.feeding.conftest import AIR_DOCTOR, ESTABLISHMENT, NURSE, fresh

AIR_NURSE = CallerIdentity(NURSE)


def _fed(client: DmpClient, visibility: Visibility | None = None) -> str:
    number = fresh()
    client.feed(
        [FeedDocument(content=cda(number), visibility=visibility or Visibility())], ESTABLISHMENT, options=OPTIONS
    )
    return document_id(number)


def _current(client: DmpClient, unique_id: str) -> DocumentEntry:
    found = client.get_documents(PATB_QUATRE, AIR_DOCTOR, ins_oid=TEST_OID, unique_ids=[unique_id]).documents
    live = [entry for entry in found if entry.availability is not AvailabilityStatus.DEPRECATED]
    return max(live, key=lambda entry: entry.version_number or 0)


def test_mask_then_unmask(client: DmpClient) -> None:
    unique_id = _fed(client)
    masked = client.mask(PATB_QUATRE, unique_id, AIR_DOCTOR, ins_oid=TEST_OID)
    assert [c.code for c in masked.confidentiality_codes] == ["N", "MASQUE_PS"]
    entry = _current(client, unique_id)
    assert entry.is_masked
    assert entry.version == "2"
    client.unmask(PATB_QUATRE, unique_id, AIR_DOCTOR, ins_oid=TEST_OID)
    assert not _current(client, unique_id).is_masked


def test_show_to_the_patient_and_to_legal_representatives(client: DmpClient) -> None:
    unique_id = _fed(client, Visibility(invisible_to_patient=True, invisible_to_legal_representatives=True))
    assert not _current(client, unique_id).is_visible_to_patient
    client.show(PATB_QUATRE, unique_id, AIR_DOCTOR, ins_oid=TEST_OID)
    entry = _current(client, unique_id)
    assert entry.is_visible_to_patient
    assert not entry.is_visible_to_legal_representatives
    client.show(PATB_QUATRE, entry, AIR_DOCTOR, ins_oid=TEST_OID, audience=Audience.LEGAL_REPRESENTATIVES)
    assert _current(client, unique_id).is_visible_to_legal_representatives


def test_archive_unarchive_delete(client: DmpClient) -> None:
    unique_id = _fed(client)
    assert client.archive(PATB_QUATRE, unique_id, AIR_DOCTOR, ins_oid=TEST_OID).status is AvailabilityStatus.ARCHIVED
    assert _current(client, unique_id).availability is AvailabilityStatus.ARCHIVED
    client.unarchive(PATB_QUATRE, unique_id, AIR_DOCTOR, ins_oid=TEST_OID)
    assert _current(client, unique_id).availability is AvailabilityStatus.APPROVED
    client.delete(PATB_QUATRE, unique_id, AIR_DOCTOR, ins_oid=TEST_OID)
    assert _current(client, unique_id).availability is AvailabilityStatus.DELETED
    with pytest.raises(DmpValidationError, match="expected"):  # from Deleted, nothing more (§6.1)
        client.archive(PATB_QUATRE, unique_id, AIR_DOCTOR, ins_oid=TEST_OID)


def test_the_structure_deletes_its_own_document_without_reading_metadata(client: DmpClient) -> None:
    """526 TD3.3c ES oui(9): documents of the structure; the entryUUID comes from an ObjectRef search (TD3.1b)."""
    unique_id = _fed(client)
    result = client.delete(PATB_QUATRE, unique_id, ESTABLISHMENT, ins_oid=TEST_OID)
    assert result.status is AvailabilityStatus.DELETED
    assert _current(client, unique_id).availability is AvailabilityStatus.DELETED


def test_the_structure_may_not_delete_another_structures_document(client: DmpClient) -> None:
    foreign = [
        entry
        for entry in client.find_documents(PATB_QUATRE, AIR_DOCTOR, ins_oid=TEST_OID).documents
        if entry.author and entry.author.structure_id != "10B0127189" and not entry.is_signature
    ]
    with pytest.raises(DmpRegistryError) as caught:
        client.delete(PATB_QUATRE, foreign[0], ESTABLISHMENT, ins_oid=TEST_OID)
    assert caught.value.errors[0].error_code == "LocalPolicyRestrictionError"
    assert "autre structure" in caught.value.errors[0].code_context


def test_masking_is_refused_to_the_structure_certificate_before_sending(client: DmpClient) -> None:
    unique_id = _fed(client)
    with pytest.raises(DmpRightsPrecheckError, match="526"):
        client.mask(PATB_QUATRE, unique_id, ESTABLISHMENT, ins_oid=TEST_OID)


def test_a_nurse_may_mask_but_not_unmask_a_physicians_document(client: DmpClient) -> None:
    """606 TD3.3a: masking oui; unmasking oui(8), own documents only — the DMP checks the author."""
    unique_id = _fed(client)
    client.mask(PATB_QUATRE, unique_id, AIR_NURSE, ins_oid=TEST_OID)
    entry = _current(client, unique_id)  # the nurse cannot read a masked document: pass the entry
    with pytest.raises(DmpRegistryError) as caught:
        client.unmask(PATB_QUATRE, entry, AIR_NURSE, ins_oid=TEST_OID)
    assert caught.value.errors[0].error_code == "LocalPolicyRestrictionError"
    assert "autre auteur" in caught.value.errors[0].code_context
    client.unmask(PATB_QUATRE, entry, AIR_DOCTOR, ins_oid=TEST_OID)  # the author may


def test_hiding_a_published_document_is_refused_locally_and_by_the_dmp(client: DmpClient) -> None:
    unique_id = _fed(client)
    with pytest.raises(DmpRightsPrecheckError, match="invisible"):
        client.hide(PATB_QUATRE, unique_id, AIR_DOCTOR, ins_oid=TEST_OID)
    with pytest.raises(DmpRegistryError) as caught:
        client.hide(PATB_QUATRE, unique_id, AIR_DOCTOR, ins_oid=TEST_OID, precheck=False)
    assert caught.value.errors[0].error_code == "XDSMetadataUpdateError"
    assert _current(client, unique_id).is_visible_to_patient


def test_a_stale_metadata_version_is_refused(client: DmpClient) -> None:
    unique_id = _fed(client)
    stale = _current(client, unique_id)
    client.mask(PATB_QUATRE, stale, AIR_DOCTOR, ins_oid=TEST_OID)
    invisible = Code("INVISIBLE_PATIENT", "1.2.250.1.213.1.1.4.13")
    stale_invisible = stale.model_copy(update={"confidentiality_codes": (*stale.confidentiality_codes, invisible)})
    with pytest.raises(DmpRegistryError) as caught:
        client.show(PATB_QUATRE, stale_invisible, AIR_DOCTOR, ins_oid=TEST_OID)
    assert caught.value.errors[0].error_code == "XDSMetadataVersionError"
