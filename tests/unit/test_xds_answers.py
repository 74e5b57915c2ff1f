"""Decoding the registry's and the repository's answers: statuses, errors, PartialSuccess, MTOM documents
checked against their metadata and streamed to disk (hand-written vectors of tests/vectors/xds)."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from dmpclient import parse_untrusted
from dmpclient.errors import (
    DmpIntegrityError,
    DmpProtocolError,
    DmpRegistryError,
    DmpTooManyResultsError,
    DmpTransportError,
    RegistryErrorItem,
)
from dmpclient.ids import InsOid
from dmpclient.soap import mtom
from dmpclient.soap.envelope import build_response, read_soap
from dmpclient.soap.response import Response
from dmpclient.transactions import repository
from dmpclient.transactions.repository import document_file_name
from dmpclient.xds.models import DocumentEntry, ResponseStatus
from dmpclient.xds.response import WARNING, raise_for_failure
from dmpclient.xds.results import read_query_response
from dmpclient.xds.retrieve import DocumentLocation, DocumentPart, DocumentRequest, build_retrieve_response
from tests.golden import frozen_context

VECTORS = Path(__file__).parent.parent / "vectors" / "xds"
INS = "207058575627097"
UNIQUE_ID = "1.2.250.1.999.1.1.7898.4^42"


def _vector(name: str) -> bytes:
    return (VECTORS / name).read_bytes()


def test_too_many_results_is_a_typed_error_telling_how_to_narrow() -> None:
    with pytest.raises(DmpTooManyResultsError) as caught:
        read_query_response(parse_untrusted(_vector("too_many_results.xml")))
    error = caught.value
    assert isinstance(error, DmpRegistryError)
    assert [e.error_code for e in error.errors] == ["XDSTooManyResults"]
    assert "created_from" in error.message
    assert "ObjectRef" in error.message
    assert INS not in str(error)  # the peer's codeContext held an INS


def test_failure_without_urn_prefix_is_a_registry_error_with_its_list() -> None:
    with pytest.raises(DmpRegistryError) as caught:
        read_query_response(parse_untrusted(_vector("failure_missing_param.xml")))
    assert type(caught.value) is DmpRegistryError
    assert caught.value.errors == (
        RegistryErrorItem(
            "XDSStoredQueryMissingParam",
            "$XDSDocumentEntryStatus is required",
            "$XDSDocumentEntryStatus",
        ),
    )
    assert "XDSStoredQueryMissingParam" in caught.value.message


def test_partial_success_is_a_result_with_its_errors() -> None:
    result = read_query_response(parse_untrusted(_vector("partial_success.xml")))
    assert result.partial
    assert result.status is ResponseStatus.PARTIAL_SUCCESS
    assert result.errors == (
        RegistryErrorItem("XDSRegistryError", "Une partie du registre ne répond pas", "registry-2", WARNING),
    )
    assert result.entry_uuids == ("urn:uuid:11111111-2222-4333-8444-555555555555",)


def test_an_unknown_status_or_root_is_a_protocol_error() -> None:
    rim, query = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0", "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
    odd = f'<q:AdhocQueryResponse xmlns:q="{query}" status="Maybe"><r:RegistryObjectList xmlns:r="{rim}"/>'
    with pytest.raises(DmpProtocolError, match="not Success, PartialSuccess or Failure"):
        read_query_response(parse_untrusted(odd.encode() + b"</q:AdhocQueryResponse>"))
    with pytest.raises(DmpProtocolError, match="AdhocQueryResponse"):
        read_query_response(parse_untrusted(b"<other/>"))


# --- ITI-43 -------------------------------------------------------------------------------------


def _capture(spool_threshold: int = 2) -> Response:
    """The hand-written raw HTTP capture of tests/vectors/xds, through the MTOM decoder (by default the document
    goes to a temporary file)."""
    head, _, body = _vector("retrieve_partial_mtom.http").partition(b"\n\n")
    content_type = next(
        line.split(b":", 1)[1].strip().decode()
        for line in head.split(b"\n")
        if line.lower().startswith(b"content-type")
    )
    decoded = mtom.decode(content_type, body, spool_threshold=spool_threshold)
    return Response(read_soap(decoded.root_xml), decoded, 200)


def _entry(**change: object) -> DocumentEntry:
    return DocumentEntry(
        entry_uuid="urn:uuid:11111111-2222-4333-8444-555555555555",
        unique_id=UNIQUE_ID,
        size=4,
        hash="A94A8FE5CCB19BA61C4C0873D391E987982FBBD3",
        repository_unique_id="1.2.250.1.213.4.1.1.1.2",
    ).model_copy(update=change)


def _decode(response: Response, entry: DocumentEntry, **where: Path) -> repository.RetrieveResult:
    op = repository.retrieve(frozen_context(), INS, InsOid.TEST, [entry], **where)
    with response:
        return op.parse(response)


def test_partial_retrieve_streams_the_document_to_disk_after_checking_it(tmp_path: Path) -> None:
    response = _capture()
    assert response.attachments is not None
    spooled = next(iter(response.attachments.attachments.values())).path
    assert spooled is not None
    assert spooled.exists()
    result = _decode(response, _entry(), out_dir=tmp_path)
    assert result.partial
    assert [e.error_code for e in result.errors] == ["XDSDocumentUniqueIdError"]
    (document,) = result.documents
    target = tmp_path / document_file_name(UNIQUE_ID, "text/xml")
    assert document.path == target
    assert target.read_bytes() == b"test"
    assert (document.size, document.hash, document.mime_type) == (4, hashlib.sha1(b"test").hexdigest(), "text/xml")
    assert document.content is None
    assert not spooled.exists()  # moved, not copied
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


@pytest.mark.parametrize("spool_threshold", [2, 1 << 20], ids=["spooled", "in-memory"])
def test_a_saved_document_is_readable_by_its_owner_only(tmp_path: Path, spool_threshold: int) -> None:
    old_umask = os.umask(0o022)  # a usual umask would leave a plain new file world-readable
    try:
        (document,) = _decode(_capture(spool_threshold), _entry(), out_dir=tmp_path).documents
    finally:
        os.umask(old_umask)
    assert document.path is not None
    assert document.path.read_bytes() == b"test"
    assert stat.S_IMODE(document.path.stat().st_mode) == 0o600


@pytest.mark.parametrize(("change", "what"), [({"size": 5}, "has 4 bytes"), ({"hash": "0" * 40}, "SHA-1")])
def test_a_document_differing_from_its_metadata_leaves_no_file(
    tmp_path: Path, change: dict[str, object], what: str
) -> None:
    response = _capture()
    spooled = next(iter(response.attachments.attachments.values())).path if response.attachments else None
    out = tmp_path / "doc.xml"
    with pytest.raises(DmpIntegrityError, match=what):
        _decode(response, _entry(**change), out=out)
    assert list(tmp_path.iterdir()) == []
    assert spooled is not None
    assert not spooled.exists()


def test_retrieve_to_memory_without_expectations() -> None:
    result = _decode(_capture(), _entry(size=None, hash=None))
    assert result.document(UNIQUE_ID).content == b"test"
    with pytest.raises(KeyError):
        result.document("other")


def test_a_failure_with_no_document_is_raised() -> None:
    error = RegistryErrorItem("XDSDocumentUniqueIdError", "uniqueId=1.2.3", "1.2.3")
    body = build_retrieve_response([], status=ResponseStatus.FAILURE, errors=[error])
    envelope = build_response(body, action=repository.RETRIEVE.response_action, relates_to=None, message_id=None)
    with pytest.raises(DmpRegistryError, match="XDSDocumentUniqueIdError") as caught:
        repository.RETRIEVE.decode(Response(read_soap(envelope), None, 200))
    assert caught.value.errors == (error,)


def test_inline_base64_documents_are_accepted(tmp_path: Path) -> None:
    request = DocumentRequest(document_unique_id="1.2.3")
    body = build_retrieve_response([DocumentPart(request, "application/pdf", DocumentLocation(inline=b"%PDF"))])
    envelope = build_response(body, action=repository.RETRIEVE.response_action, relates_to=None, message_id=None)
    op = repository.retrieve(frozen_context(), INS, InsOid.TEST, ["1.2.3"], out=tmp_path / "a.pdf")
    document = op.parse(Response(read_soap(envelope), None, 200)).documents[0]
    assert (tmp_path / "a.pdf").read_bytes() == b"%PDF"
    assert document.path == tmp_path / "a.pdf"


def test_file_names_from_the_peer_cannot_leave_the_directory() -> None:
    assert document_file_name("../../etc/passwd", "text/xml") == "_.._etc_passwd.xml"
    assert document_file_name("1.2.250.1^ext", "application/pdf") == "1.2.250.1^ext.pdf"
    assert document_file_name("...", "application/x-unknown") == "document.bin"
    assert "/" not in document_file_name("a/b\\c", "text/plain")


def test_out_takes_one_document_only(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="out= takes one document"):
        repository.retrieve(frozen_context(), INS, InsOid.TEST, ["1", "2"], out=tmp_path / "x")


def test_a_destination_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    response = _capture()
    spooled = next(iter(response.attachments.attachments.values())).path if response.attachments else None
    with pytest.raises(DmpTransportError, match="could not be written"):
        _decode(response, _entry(), out=blocker / "doc.xml")  # its parent is a file
    assert spooled is not None
    assert not spooled.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


# --- TD3.2 answers holding documents nobody asked for -----------------------------------------------

OTHER_ID = "1.2.250.1.999.1.1.7898.4^43"


def _answer(*documents: tuple[str, str, str | None]) -> Response:
    """A hand-written ITI-43 answer (reference §3.16), documents inline (base64 of ``test``)."""
    items = "".join(
        "<xdsb:DocumentResponse>"
        + (f"<xdsb:HomeCommunityId>{home}</xdsb:HomeCommunityId>" if home else "")
        + f"<xdsb:RepositoryUniqueId>{repository_id}</xdsb:RepositoryUniqueId>"
        f"<xdsb:DocumentUniqueId>{unique_id}</xdsb:DocumentUniqueId>"
        "<xdsb:mimeType>text/xml</xdsb:mimeType><xdsb:Document>dGVzdA==</xdsb:Document></xdsb:DocumentResponse>"
        for unique_id, repository_id, home in documents
    )
    envelope = (
        '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>'
        '<xdsb:RetrieveDocumentSetResponse xmlns:xdsb="urn:ihe:iti:xds-b:2007" '
        'xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0">'
        '<rs:RegistryResponse status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"/>'
        f"{items}</xdsb:RetrieveDocumentSetResponse></soap:Body></soap:Envelope>"
    )
    return Response(read_soap(envelope.encode()), None, 200)


DMP_REPOSITORY = "1.2.250.1.213.4.1.1.1.2"


def test_a_document_nobody_asked_for_is_refused_and_never_written(tmp_path: Path) -> None:
    """The MTOM capture returns UNIQUE_ID; the request named another document: nothing lands in ``out``."""
    response = _capture()
    spooled = next(iter(response.attachments.attachments.values())).path if response.attachments else None
    out = tmp_path / "mine.xml"
    with pytest.raises(DmpProtocolError, match="did not ask for") as caught:
        _decode(response, _entry(unique_id=OTHER_ID, size=None, hash=None), out=out)
    assert UNIQUE_ID in caught.value.message
    assert caught.value.td == "TD3.2"
    assert list(tmp_path.iterdir()) == []
    assert spooled is not None
    assert not spooled.exists()


@pytest.mark.parametrize(
    ("request_", "returned"),
    [
        (DocumentRequest(document_unique_id=UNIQUE_ID), (OTHER_ID, DMP_REPOSITORY, None)),
        (DocumentRequest(document_unique_id=UNIQUE_ID), (UNIQUE_ID, "1.2.250.1.999.9", None)),
        (DocumentRequest(document_unique_id=UNIQUE_ID), (UNIQUE_ID, "", None)),
        (
            DocumentRequest(document_unique_id=UNIQUE_ID, home_community_id="urn:oid:1.2.3"),
            (UNIQUE_ID, DMP_REPOSITORY, "urn:oid:1.2.4"),
        ),
    ],
    ids=["other document", "other repository", "no repository", "other community"],
)
def test_each_identifier_of_a_returned_document_must_be_the_requested_one(
    tmp_path: Path, request_: DocumentRequest, returned: tuple[str, str, str | None]
) -> None:
    op = repository.retrieve(frozen_context(), INS, InsOid.TEST, [request_], out_dir=tmp_path)
    with pytest.raises(DmpProtocolError, match="did not ask for"):
        op.parse(_answer(returned))
    assert list(tmp_path.iterdir()) == []


def test_a_returned_document_may_leave_out_the_community_it_was_asked_in() -> None:
    requested = DocumentRequest(document_unique_id=UNIQUE_ID, home_community_id="urn:oid:1.2.3")
    op = repository.retrieve(frozen_context(), INS, InsOid.TEST, [requested])
    assert op.parse(_answer((UNIQUE_ID, DMP_REPOSITORY, None))).document(UNIQUE_ID).content == b"test"
    again = op.parse(_answer((UNIQUE_ID, DMP_REPOSITORY, "urn:oid:1.2.3")))
    assert again.document(UNIQUE_ID).home_community_id == "urn:oid:1.2.3"


def test_one_document_returned_twice_is_refused(tmp_path: Path) -> None:
    op = repository.retrieve(frozen_context(), INS, InsOid.TEST, [UNIQUE_ID, OTHER_ID])
    with pytest.raises(DmpProtocolError, match="twice"):
        op.parse(_answer((UNIQUE_ID, DMP_REPOSITORY, None), (UNIQUE_ID, DMP_REPOSITORY, None)))


def test_an_unrequested_id_is_shown_bounded_and_without_an_ins() -> None:
    op = repository.retrieve(frozen_context(), INS, InsOid.TEST, [UNIQUE_ID])
    with pytest.raises(DmpProtocolError) as caught:
        op.parse(_answer((f"1.2.3^{INS}^" + "x" * 500, DMP_REPOSITORY, None)))
    assert INS not in caught.value.message
    assert len(caught.value.message) < 400


@pytest.mark.parametrize("returned", [(), ((UNIQUE_ID, DMP_REPOSITORY, None), (OTHER_ID, DMP_REPOSITORY, None))])
def test_retrieve_document_wants_exactly_the_one_document(returned: tuple[tuple[str, str, None], ...]) -> None:
    op = repository.retrieve_document(frozen_context(), INS, InsOid.TEST, UNIQUE_ID)
    with pytest.raises(DmpProtocolError, match=r"asked for one document|did not ask for"):
        op.parse(_answer(*returned))
    (document,) = op.parse(_answer((UNIQUE_ID, DMP_REPOSITORY, None))).documents
    assert (document.document_unique_id, document.content) == (UNIQUE_ID, b"test")


def test_a_failure_with_many_errors_names_the_first_ones_and_keeps_them_all() -> None:
    errors = [RegistryErrorItem("XDSDocumentUniqueIdError", f"1.2.250.1.999.{n}") for n in range(100)]
    with pytest.raises(DmpRegistryError) as caught:
        raise_for_failure(ResponseStatus.FAILURE, errors, td="TD3.2")
    message = caught.value.message
    assert message.count("XDSDocumentUniqueIdError") == 5
    assert "1.2.250.1.999.4)" in message
    assert "1.2.250.1.999.5)" not in message
    assert "and 95 more" in message
    assert caught.value.errors == tuple(errors)
