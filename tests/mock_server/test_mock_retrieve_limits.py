"""TD3.2 request bounds of the mock, client ↔ mock over real mutual TLS: a document asked for twice is answered
once, more than :data:`~mock_server.handlers.repository.MAX_DOCUMENTS` per request is a Sender fault."""

from __future__ import annotations

import pytest

from dmpclient import DmpClient
from dmpclient.errors import DmpRegistryError, DmpSoapFault
from dmpclient.xds.codes import AvailabilityStatus
from mock_server.handlers.repository import MAX_DOCUMENTS
from tests.mock_server.conftest import PATB_QUATRE, TEST_OID, identity


def _readable(client: DmpClient) -> str:
    found = client.find_documents(PATB_QUATRE, identity(), ins_oid=TEST_OID)
    return next(e.unique_id for e in found.documents if e.availability is AvailabilityStatus.APPROVED)


def test_a_document_asked_for_twice_is_returned_once(client: DmpClient) -> None:
    unique_id = _readable(client)
    result = client.retrieve_documents(PATB_QUATRE, identity(), [unique_id, unique_id], ins_oid=TEST_OID)
    assert [d.document_unique_id for d in result.documents] == [unique_id]
    assert not result.errors


def test_more_documents_than_the_limit_is_a_sender_fault(client: DmpClient) -> None:
    many = [f"1.2.250.1.999.4242.{n}" for n in range(MAX_DOCUMENTS + 1)]
    with pytest.raises(DmpSoapFault) as caught:
        client.retrieve_documents(PATB_QUATRE, identity(), many, ins_oid=TEST_OID)
    assert caught.value.code == "Sender"
    assert f"au plus {MAX_DOCUMENTS} par appel" in caught.value.reason
    with pytest.raises(DmpRegistryError) as at_the_limit:  # answered: unknown uniqueIds, one error each
        client.retrieve_documents(PATB_QUATRE, identity(), many[:MAX_DOCUMENTS], ins_oid=TEST_OID)
    assert len(at_the_limit.value.errors) == MAX_DOCUMENTS
