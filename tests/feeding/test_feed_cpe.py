"""TD2.2 "Alimentation par CPE" client ↔ mock over real mutual TLS: a medical secretary's CPE card feeds the
same ITI-41 message as TD2.1 (reference §3.14), checked against the TD2.2 row (526: CPE ``oui(4)``) by the
client's pre-check and by the mock alike, and the document is in the DMP at once."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from dmpclient import DmpClient
from dmpclient.config import DmpConfig, TlsCredentialSource
from dmpclient.security.credentials import load_pem
from dmpclient.security.issuer import CallerIdentity, VihfIssuer
from dmpclient.security.pki import TestPki
from dmpclient.security.vihf import Actor, AuthMode, LpsIdentity, NonPsRole, SoftwareSigner, Structure
from dmpclient.xds.codes import AvailabilityStatus
from mock_server.runtime import MockRuntime
from mock_server.store.records import Outcome
from tests.feed_samples import AUTHOR, OPTIONS, PATB_QUATRE, TEST_OID, cda, document_id
from tests.feeding.conftest import AIR_DOCTOR, ESTABLISHMENT, fresh


@pytest.fixture
def cpe_client(feed_config: DmpConfig, pki: TestPki) -> Iterator[DmpClient]:
    """The card in the reader: its authentication certificate opens TLS, its signature certificate signs the
    VIHF and the batch (DIRECTE)."""
    assert pki.ps_auth is not None
    card = load_pem(pki.ps_sign.cert, pki.ps_sign.key)
    tls = TlsCredentialSource(cert=pki.ps_auth.cert, key=pki.ps_auth.key)
    config = feed_config.model_copy(update={"credentials": feed_config.credentials.model_copy(update={"tls": tls})})
    issuer = VihfIssuer(
        SoftwareSigner.from_credential(card),
        structure=Structure.of(pki.structure_id, "SA01"),
        lps=LpsIdentity(nom="DMPCLIENT TEST", version="1", homologation="TEST-tmp1"),
    )
    with DmpClient(config, vihf_issuer=issuer) as dmp:
        yield dmp


def test_a_medical_secretary_feeds_with_her_cpe(
    cpe_client: DmpClient, client: DmpClient, feed_runtime: MockRuntime, pki: TestPki
) -> None:
    secretary = Actor.device(pki.ps_id, name="ACCUEIL Marie", kind=NonPsRole.SECRETARIAT_MEDICAL)
    number = fresh()
    result = cpe_client.feed([cda(number)], CallerIdentity(secretary, mode=AuthMode.DIRECTE), options=OPTIONS)
    assert result.documents[0].unique_id == document_id(number)
    found = client.get_documents(PATB_QUATRE, AIR_DOCTOR, ins_oid=TEST_OID, unique_ids=[document_id(number)])
    assert [e.availability for e in found.documents] == [AvailabilityStatus.APPROVED]
    traced = next(t for t in feed_runtime.store.access_trace(patient=PATB_QUATRE, limit=20) if t.td == "TD2.1")
    assert (traced.outcome, traced.ps_id) == (Outcome.ALLOWED, pki.ps_id)


def test_documents_fed_under_note_4_are_imputed_to_the_feeding_structure(client: DmpClient, pki: TestPki) -> None:
    """526 note 4 (ES ``oui(4)``): the author's structure is the feeding one, so note 9 lets it delete them."""
    elsewhere = dataclasses.replace(AUTHOR, structure_id="10B0999999", structure_name="AUTRE STRUCTURE")
    number = fresh()
    client.feed([cda(number, author=elsewhere)], ESTABLISHMENT, options=OPTIONS)
    (entry,) = client.get_documents(
        PATB_QUATRE, AIR_DOCTOR, ins_oid=TEST_OID, unique_ids=[document_id(number)]
    ).documents
    assert entry.author is not None
    assert (entry.author.id, entry.author.structure_id) == (AUTHOR.id, pki.structure_id)
    deleted = client.delete(PATB_QUATRE, document_id(number), ESTABLISHMENT, ins_oid=TEST_OID)
    assert deleted.status is AvailabilityStatus.DELETED
