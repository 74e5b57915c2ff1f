"""TD2.1 client ↔ mock over real mutual TLS: new documents, new versions and their refusals, the mock's
checks of §5.7, feeding refused in AIR, identical re-submissions, and answers lost after registration."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import threading
from typing import Any

import pytest
from lxml import etree

from dmpclient import AsyncDmpClient, DmpClient
from dmpclient.config import DmpConfig
from dmpclient.errors import (
    DmpRegistryError,
    DmpRightsError,
    DmpRightsPrecheckError,
    DmpTimeoutError,
    DmpValidationError,
)
from dmpclient.security.xades import ManifestReference
from dmpclient.soap.request import PreparedRequest
from dmpclient.soap.response import ResponseReader
from dmpclient.transactions import feeding
from dmpclient.transactions.operation import Operation
from dmpclient.transport import Deadline, HttpTransport
from dmpclient.xds.codes import AvailabilityStatus
from dmpclient.xds.models import ReturnType
from dmpclient.xds.versions import KnownDocument
from mock_server.injection import FaultInjection
from mock_server.runtime import MockRuntime
from mock_server.seed.cda import CdaPatient
from tests.feed_samples import OPTIONS, PATB_QUATRE, TEST_OID, cda, document_id
from tests.feeding.conftest import AIR_DOCTOR, AUTOMATE, ESTABLISHMENT, fresh, recording_submission_signer

RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"


def _entries(client: DmpClient, *unique_ids: str, statuses: tuple[AvailabilityStatus, ...] = ()) -> dict[str, Any]:
    """The live entries of these documents as the doctor sees them (LeafClass)."""
    found = client.get_documents(PATB_QUATRE, AIR_DOCTOR, ins_oid=TEST_OID, unique_ids=list(unique_ids))
    return {entry.unique_id: entry for entry in found.documents if not statuses or entry.availability in statuses}


def _copies(runtime: MockRuntime, unique_id: str) -> int:
    with runtime.store.connection() as connection:
        return int(
            connection.execute(
                "SELECT count(DISTINCT lid) FROM documents WHERE unique_id = ?", (unique_id,)
            ).fetchone()[0]
        )


def test_a_new_document_is_in_the_dmp_at_once(client: DmpClient, feed_runtime: MockRuntime) -> None:
    number = fresh()
    result = client.feed([cda(number)], ESTABLISHMENT, options=OPTIONS)
    assert [d.unique_id for d in result.documents] == [document_id(number)]
    assert (result.recovered, result.attempts) == (False, 1)
    entry = _entries(client, document_id(number))[document_id(number)]
    assert entry.availability is AvailabilityStatus.APPROVED
    assert entry.type_code is not None
    assert entry.type_code.code == "11488-4"
    assert entry.class_code is not None
    assert entry.class_code.code == "10"
    assert entry.hash == hashlib.sha1(cda(number), usedforsecurity=False).hexdigest()
    retrieved = client.retrieve_document(PATB_QUATRE, AIR_DOCTOR, entry, ins_oid=TEST_OID)
    assert retrieved.content == cda(number)
    assert _copies(feed_runtime, document_id(number)) == 1


def test_a_cda_embedding_a_large_pdf_is_fed_and_read_back(client: DmpClient, feed_runtime: MockRuntime) -> None:
    """A 9 MB scanned report is 12 MB of base64 in one text node, over libxml2's own 10 MB limit: the CDA budget
    admits it on both sides (metadata, XAdES digest, the mock's digest check)."""
    number = fresh()
    scanned = b"%PDF-1.4\n" + os.urandom(9 * 1024 * 1024)
    content = cda(number, pdf=scanned)
    result = client.feed([content], ESTABLISHMENT, options=OPTIONS)
    assert [d.unique_id for d in result.documents] == [document_id(number)]
    entry = _entries(client, document_id(number))[document_id(number)]
    assert entry.size == len(content)
    retrieved = client.retrieve_document(PATB_QUATRE, AIR_DOCTOR, entry, ins_oid=TEST_OID)
    assert retrieved.hash == hashlib.sha1(content, usedforsecurity=False).hexdigest()
    embedded = etree.fromstring(retrieved.content or b"", parser=etree.XMLParser(huge_tree=True))
    text = embedded.find(".//{urn:hl7-org:v3}nonXMLBody/{urn:hl7-org:v3}text")
    assert text is not None
    assert base64.b64decode(text.text or "") == scanned
    assert _copies(feed_runtime, document_id(number)) == 1


def test_several_documents_in_one_submission(client: DmpClient) -> None:
    first, second = fresh(), fresh()
    result = client.feed([cda(first), cda(second)], ESTABLISHMENT, options=OPTIONS)
    contents = client.get_submission_set_and_contents(
        PATB_QUATRE, AIR_DOCTOR, ins_oid=TEST_OID, unique_id=result.submission_set_unique_id
    )
    clinical = {d.unique_id for d in contents.documents if not d.is_signature}
    assert clinical == {document_id(first), document_id(second)}
    assert [d.unique_id for d in contents.documents if d.is_signature] == [result.signature_unique_id]


def test_a_device_sends_in_indirecte_for_its_structure(client: DmpClient) -> None:
    """DMP-CONF 12: no professional sends; the VIHF subject is the integration platform's application mailbox."""
    number = fresh()
    result = client.feed([cda(number)], AUTOMATE, options=OPTIONS)
    assert result.documents[0].author_id == "899900063480"  # the author stays the CDA's professional


def test_a_new_version_replaces_the_previous_one(client: DmpClient) -> None:
    v1 = fresh()
    client.feed([cda(v1)], ESTABLISHMENT, options=OPTIONS)
    v2 = fresh()
    result = client.replace(
        document_id(v1),
        cda(v2, version=2, set_number=v1, replaces=v1),
        ESTABLISHMENT,
        previous_cda=cda(v1),
        options=OPTIONS,
    )
    (document,) = result.documents
    assert (document.version_number, document.set_id) == (2, f"1.2.250.1.999.888.2.1.7.set.{v1}")
    entries = _entries(client, document_id(v1), document_id(v2))
    assert entries[document_id(v1)].availability is AvailabilityStatus.DEPRECATED
    assert entries[document_id(v2)].availability is AvailabilityStatus.APPROVED
    chain = client.get_related_documents(PATB_QUATRE, AIR_DOCTOR, ins_oid=TEST_OID, unique_id=document_id(v2))
    assert {d.unique_id for d in chain.documents} == {document_id(v1), document_id(v2)}
    report = client.find_new_versions(
        PATB_QUATRE, AIR_DOCTOR, [KnownDocument(unique_id=document_id(v1))], ins_oid=TEST_OID
    )
    assert [check.current.unique_id for check in report.replaced if check.current] == [document_id(v2)]


def test_a_caller_who_reads_documents_needs_not_give_the_previous_version(client: DmpClient) -> None:
    """In AIR the physician reads the previous version back (TD3.2); the new one is still fed in INDIRECTE."""
    v1, v2 = fresh(), fresh()
    client.feed([cda(v1)], AIR_DOCTOR, options=OPTIONS)
    client.replace(document_id(v1), cda(v2, version=2, set_number=v1, replaces=v1), AIR_DOCTOR, options=OPTIONS)
    assert _entries(client, document_id(v2))[document_id(v2)].availability is AvailabilityStatus.APPROVED
    with pytest.raises(DmpValidationError, match="previous_cda"):  # the structure's certificate cannot read it
        client.replace(
            document_id(v2), cda(fresh(), version=3, set_number=v1, replaces=v2), ESTABLISHMENT, options=OPTIONS
        )


def test_the_versioning_rules_are_checked_before_anything_is_sent(client: DmpClient, feed_runtime: MockRuntime) -> None:
    v1 = fresh()
    client.feed([cda(v1)], ESTABLISHMENT, options=OPTIONS)
    wrong_set, not_incremented = fresh(), fresh()
    with pytest.raises(DmpValidationError, match="setId"):
        client.replace(
            document_id(v1),
            cda(wrong_set, version=2, replaces=v1),
            ESTABLISHMENT,
            previous_cda=cda(v1),
            options=OPTIONS,
        )
    with pytest.raises(DmpValidationError, match="versionNumber"):
        client.replace(
            document_id(v1),
            cda(not_incremented, version=3, set_number=v1, replaces=v1),
            ESTABLISHMENT,
            previous_cda=cda(v1),
            options=OPTIONS,
        )
    assert _copies(feed_runtime, document_id(wrong_set)) == _copies(feed_runtime, document_id(not_incremented)) == 0
    assert _entries(client, document_id(v1))[document_id(v1)].availability is AvailabilityStatus.APPROVED


def test_replacing_a_version_that_is_no_longer_approved_is_refused_by_the_dmp(client: DmpClient) -> None:
    v1, v2, v2_bis = fresh(), fresh(), fresh()
    client.feed([cda(v1)], ESTABLISHMENT, options=OPTIONS)
    client.replace(
        document_id(v1),
        cda(v2, version=2, set_number=v1, replaces=v1),
        ESTABLISHMENT,
        previous_cda=cda(v1),
        options=OPTIONS,
    )
    with pytest.raises(DmpRegistryError) as caught:
        client.replace(
            document_id(v1),
            cda(v2_bis, version=2, set_number=v1, replaces=v1),
            ESTABLISHMENT,
            previous_cda=cda(v1),
            options=OPTIONS,
        )
    assert caught.value.errors[0].error_code == "XDSRegistryDeprecatedDocumentError"
    assert document_id(v2_bis) not in _entries(client, document_id(v2_bis))


def test_replacing_another_patients_document_is_refused_by_the_dmp(
    client: DmpClient, other_patient: CdaPatient
) -> None:
    theirs = fresh()
    client.feed([cda(theirs, patient=other_patient)], ESTABLISHMENT, options=OPTIONS)
    refs = client.get_documents(
        other_patient.ins,
        ESTABLISHMENT,
        ins_oid=TEST_OID,
        unique_ids=[document_id(theirs)],
        return_type=ReturnType.OBJECT_REF,
    )
    mine = fresh()  # PATB-QUATRE's document claiming to replace the other patient's (bypassing replace())
    document = feeding.FeedDocument(
        content=cda(mine, version=2, set_number=theirs, replaces=theirs), replaces=refs.entry_uuids[0]
    )
    with pytest.raises(DmpRegistryError) as caught:
        client.feed([document], ESTABLISHMENT, options=OPTIONS)
    assert caught.value.errors[0].error_code == "XDSPatientIdDoesNotMatch"


def _signed_operation(client: DmpClient, *documents: feeding.FeedDocument) -> Operation[Any]:
    draft = feeding.draft_submission(client.context, documents, OPTIONS)
    signature = client.submission_signer.sign(
        submission_set_unique_id=draft.ids.submission_set_unique_id,
        documents=[ManifestReference(uid, digest) for uid, digest in draft.manifest()],
        signing_time=draft.ids.submission_time,
        signature_id=draft.signature_id,
    )
    return draft.operation(signature)


def test_feeding_in_air_is_refused_locally_and_by_the_dmp(client: DmpClient) -> None:
    """606: TD2.1 "non" in AIR. The spec forces INDIRECTE, so send with a spec that really sends AIR."""
    op = _signed_operation(client, feeding.FeedDocument(content=cda(fresh())))
    in_air = Operation(
        dataclasses.replace(feeding.PROVIDE_AND_REGISTER, forced_mode=None), op.body, op.patient, op.attachments
    )
    with pytest.raises(DmpRightsPrecheckError, match="606"):
        client.execute(in_air, AIR_DOCTOR)
    with pytest.raises(DmpRightsError) as caught:
        client.execute(in_air, AIR_DOCTOR, precheck=False)
    assert caught.value.subcode == "DMPAccessDeniedByRightsService"


def test_an_identical_resubmission_is_accepted_once_a_different_one_refused(
    client: DmpClient, feed_runtime: MockRuntime
) -> None:
    number = fresh()
    op = _signed_operation(client, feeding.FeedDocument(content=cda(number)))
    client.execute(op, ESTABLISHMENT)
    client.execute(op, ESTABLISHMENT)  # the same submission again: a lost answer, not a second document
    assert _copies(feed_runtime, document_id(number)) == 1
    other = _signed_operation(client, feeding.FeedDocument(content=cda(number, lines=("Autre contenu.",))))
    with pytest.raises(DmpRegistryError) as caught:
        client.execute(other, ESTABLISHMENT)
    assert caught.value.errors[0].error_code == "XDSDuplicateUniqueIdInRegistry"
    assert caught.value.errors[0].location == document_id(number)


class _AnswerLost(HttpTransport):
    """Sends the first TD2.1 for real, then loses its answer (a read timeout after the DMP registered it)."""

    lost = 0

    def exchange(self, request: PreparedRequest, reader: ResponseReader, deadline: Deadline) -> None:
        super().exchange(request, reader, deadline)
        if request.td == "TD2.1" and not self.lost:
            self.lost += 1
            reader.abort()
            raise DmpTimeoutError("read timeout (the answer was lost)", td=request.td, message_id=request.message_id)


def test_an_answer_lost_after_registration_is_found_in_the_registry(
    feed_config: DmpConfig, feed_runtime: MockRuntime
) -> None:
    number = fresh()
    with DmpClient(feed_config, transport=_AnswerLost(feed_config)) as client:
        result = client.feed([cda(number)], ESTABLISHMENT, options=OPTIONS)
    assert (result.recovered, result.attempts) == (True, 1)
    assert _copies(feed_runtime, document_id(number)) == 1


def test_a_submission_that_did_not_register_is_sent_again(client: DmpClient, feed_runtime: MockRuntime) -> None:
    number = fresh()
    feed_runtime.app.faults.set("repository", FaultInjection(http_status=502, count=1))  # a proxy error, nothing done
    try:
        result = client.feed([cda(number)], ESTABLISHMENT, options=OPTIONS)
    finally:
        feed_runtime.app.faults.clear()
    assert (result.recovered, result.attempts) == (False, 2)
    assert _copies(feed_runtime, document_id(number)) == 1


def _tampered(op: Operation[Any], change: Any) -> Operation[Any]:
    body = etree.fromstring(etree.tostring(op.body))
    change(body)
    return Operation(op.spec, body, op.patient, op.attachments)


def _error(client: DmpClient, op: Operation[Any]) -> tuple[str, str]:
    with pytest.raises(DmpRegistryError) as caught:
        client.execute(op, ESTABLISHMENT)
    return caught.value.errors[0].error_code, caught.value.errors[0].location


def test_the_mock_checks_every_rule_of_5_7(client: DmpClient) -> None:
    number = fresh()
    op = _signed_operation(client, feeding.FeedDocument(content=cda(number)))

    def unknown_type_code(body: etree._Element) -> None:
        body.find(f".//{{{RIM}}}Classification[@nodeRepresentation='11488-4']").set("nodeRepresentation", "99999-9")  # type: ignore[union-attr]

    def without_document_part(body: etree._Element) -> None:
        first = body.find("{urn:ihe:iti:xds-b:2007}Document")
        assert first is not None
        body.remove(first)

    def without_signs(body: etree._Element) -> None:
        signs = body.find(f".//{{{RIM}}}Association[@associationType='urn:ihe:iti:2007:AssociationType:signs']")
        assert signs is not None
        body.find(f"*/{{{RIM}}}RegistryObjectList").remove(signs)  # type: ignore[union-attr]

    assert _error(client, _tampered(op, unknown_type_code)) == ("XDSRegistryMetadataError", document_id(number))
    assert _error(client, _tampered(op, without_document_part))[0] == "XDSMissingDocument"
    assert _error(client, _tampered(op, without_signs))[0] == "XDSRegistryMetadataError"
    foreign = _signed_operation(client, feeding.FeedDocument(content=cda(fresh())))  # a signature of other documents
    other_signature = dataclasses.replace(op.attachments[-1], data=foreign.attachments[-1].data)
    swapped = Operation(op.spec, op.body, op.patient, (*op.attachments[:-1], other_signature))
    code, _ = _error(client, swapped)
    assert code == "XDSRegistryMetadataError"
    assert _copies_in(client, document_id(number)) == 0


def _copies_in(client: DmpClient, unique_id: str) -> int:
    return len(_entries(client, unique_id))


async def test_the_async_client_feeds_too(feed_config: DmpConfig, feed_runtime: MockRuntime) -> None:
    number = fresh()
    signer, recording = recording_submission_signer(feed_config)
    async with AsyncDmpClient(feed_config, submission_signer=signer) as client:
        result = await client.feed([cda(number)], ESTABLISHMENT, options=OPTIONS)
        archived = await client.archive(PATB_QUATRE, document_id(number), AIR_DOCTOR, ins_oid=TEST_OID)
    assert result.documents[0].unique_id == document_id(number)
    assert archived.status is AvailabilityStatus.ARCHIVED
    assert _copies(feed_runtime, document_id(number)) == 1
    assert recording.threads  # the submission was signed, and not on the event loop's thread
    assert threading.get_ident() not in recording.threads
