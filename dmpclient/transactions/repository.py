"""``repository`` service, TD3.2: retrieve one or several documents (ITI-43, MTOM answer; reference §3.16).

The answer's documents arrive as MTOM parts that the response reader already spooled to temporary files
when large. Retrieving to a path moves that file (a rename on the same file system) instead of copying
it through memory; retrieving to memory reads it. Either way each document is checked first against the
size and SHA-1 the registry gave (when the caller passes the :class:`~dmpclient.xds.models.DocumentEntry`):
a mismatch is a :class:`~dmpclient.errors.DmpIntegrityError` and leaves no file behind. A file only
appears at its destination complete (written beside it, then renamed). An answer holding a document the
request did not name (DocumentUniqueId, RepositoryUniqueId, HomeCommunityId) is refused before anything is
written.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO, Final

from pydantic import BaseModel, ConfigDict

from dmpclient._xml import qname
from dmpclient.errors import (
    DmpIntegrityError,
    DmpProtocolError,
    DmpTransportError,
    DmpValidationError,
    RegistryErrorItem,
)
from dmpclient.ids import mask_ins, validate_ins, validate_oid
from dmpclient.soap.mtom import Attachment, MtomDecoded
from dmpclient.soap.response import Response
from dmpclient.transactions.context import CallContext
from dmpclient.transactions.operation import Operation, PatientRef
from dmpclient.transactions.rights import RightsAction
from dmpclient.transactions.spec import PatientBlock, Service, TransactionSpec
from dmpclient.xds.models import DocumentEntry, ResponseStatus
from dmpclient.xds.response import raise_for_failure
from dmpclient.xds.retrieve import (
    DocumentPart,
    DocumentRequest,
    build_retrieve_request,
    read_retrieve_request,
    read_retrieve_response,
)

__all__ = [
    "RETRIEVE",
    "DocumentTarget",
    "RetrieveResult",
    "RetrievedDocument",
    "document_file_name",
    "retrieve",
    "retrieve_document",
]

_ACTION: Final = "urn:ihe:iti:2007:RetrieveDocumentSet"
_CHUNK: Final = 1 << 20
_UNSAFE_NAME: Final = re.compile(r"[^A-Za-z0-9._^-]")
#: How much of a peer's identifier an error message shows.
_SHOWN_ID: Final = 100

DocumentTarget = DocumentEntry | DocumentRequest | str


class RetrievedDocument(BaseModel):
    """One retrieved document: its ids, mime type, size and SHA-1, and its bytes or where they were written.

    Attributes:
        content: the bytes, when retrieved to memory.
        path: the file holding them, when retrieved to a path.
    """

    model_config = ConfigDict(frozen=True, ser_json_bytes="base64")

    document_unique_id: str
    repository_unique_id: str
    home_community_id: str | None = None
    mime_type: str
    size: int
    hash: str
    content: bytes | None = None
    path: Path | None = None


class RetrieveResult(BaseModel):
    """What TD3.2 returned: the documents, the status and, for a PartialSuccess, the errors of the others."""

    model_config = ConfigDict(frozen=True)

    status: ResponseStatus
    documents: tuple[RetrievedDocument, ...] = ()
    errors: tuple[RegistryErrorItem, ...] = ()

    @property
    def partial(self) -> bool:
        """Some documents were not returned (``errors`` says why)."""
        return self.status is ResponseStatus.PARTIAL_SUCCESS

    def document(self, unique_id: str) -> RetrievedDocument:
        """The returned document with this uniqueId.

        Raises:
            KeyError: it was not returned.
        """
        for document in self.documents:
            if document.document_unique_id == unique_id:
                return document
        raise KeyError(unique_id)


def document_file_name(unique_id: str, mime_type: str) -> str:
    """A safe file name for a document: its uniqueId (characters outside ``[A-Za-z0-9._^-]`` replaced) and the
    extension of its mime type. The uniqueId comes from the peer: no path separator or leading dot survives."""
    stem = _UNSAFE_NAME.sub("_", unique_id).lstrip(".") or "document"
    return stem[:200] + (mimetypes.guess_extension(mime_type.split(";", maxsplit=1)[0].strip()) or ".bin")


# --- decoding -----------------------------------------------------------------------------------


class _Expected:
    """The registry's size and SHA-1 of a document, when known."""

    __slots__ = ("hash", "size")

    def __init__(self, size: int | None, digest: str | None) -> None:
        self.size = size
        self.hash = digest.lower() if digest else None


def _digest(stream: BinaryIO) -> tuple[int, str]:
    sha1 = hashlib.sha1(usedforsecurity=False)
    size = 0
    while block := stream.read(_CHUNK):
        sha1.update(block)
        size += len(block)
    return size, sha1.hexdigest()


def _check(unique_id: str, size: int, digest: str, expected: _Expected | None) -> None:
    if expected is None:
        return
    if expected.size is not None and size != expected.size:
        raise DmpIntegrityError(
            f"TD3.2: document {unique_id} has {size} bytes, the registry says {expected.size}; it was not kept",
            td="TD3.2",
        )
    if expected.hash is not None and digest != expected.hash:
        raise DmpIntegrityError(
            f"TD3.2: document {unique_id} has SHA-1 {digest}, the registry says {expected.hash}; it was not kept",
            td="TD3.2",
        )


def _attachment(part: DocumentPart, attachments: MtomDecoded | None) -> Attachment:
    if attachments is None:
        raise DmpProtocolError("TD3.2: the answer refers to an MTOM part (xop:Include) but is not MTOM", td="TD3.2")
    return attachments.attachment_for_href(part.location.href or "")


def _write_atomically(destination: Path, write: Callable[[Path], object]) -> None:
    """``write`` a temporary file beside ``destination``, then rename it: the file appears complete or not at all,
    readable by its owner only (a health document is not for the other users of the machine).
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.", suffix=".part")
    os.close(fd)
    temporary = Path(name)
    try:
        write(temporary)
        os.chmod(temporary, 0o600)  # a moved spool file or a copy keeps its own mode: say it again
        os.replace(temporary, destination)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _save(unique_id: str, destination: Path, attachment: Attachment | None, data: bytes) -> None:
    """Write one document to its destination, or say clearly why the disk refused."""
    try:
        if attachment is None:
            _write_atomically(destination, lambda path: path.write_bytes(data))
        else:
            _write_atomically(destination, attachment.save_to)
    except OSError as exc:
        raise DmpTransportError(
            f"TD3.2: document {unique_id} could not be written to {destination} ({exc.strerror or type(exc).__name__}):"
            " check that the directory can be created and written and that the disk has room",
            td="TD3.2",
        ) from exc


def _take(
    part: DocumentPart,
    attachments: MtomDecoded | None,
    expected: _Expected | None,
    destination: Path | None,
) -> RetrievedDocument:
    unique_id = part.request.document_unique_id
    inline = part.location.inline
    attachment = None if inline is not None else _attachment(part, attachments)
    data = inline or b""
    try:
        if attachment is None:
            size, digest = len(data), hashlib.sha1(data, usedforsecurity=False).hexdigest()
        else:
            with attachment.open() as stream:
                size, digest = _digest(stream)
        _check(unique_id, size, digest, expected)
        content: bytes | None = None
        if destination is None:
            content = data if attachment is None else attachment.read_bytes()
        else:
            _save(unique_id, destination, attachment, data)
    finally:
        if attachment is not None:
            attachment.close()  # a spooled part not moved out is deleted now, not at the end of the call
    return RetrievedDocument.model_construct(
        document_unique_id=unique_id,
        repository_unique_id=part.request.repository_unique_id,
        home_community_id=part.request.home_community_id,
        mime_type=part.mime_type,
        size=size,
        hash=digest,
        content=content,
        path=destination,
    )


def _shown(identifier: str) -> str:
    """A peer's identifier fit for an error message: bounded, any INS-shaped run masked."""
    return repr(mask_ins(identifier[:_SHOWN_ID]))


def _check_requested(parts: Sequence[DocumentPart], requested: Sequence[DocumentRequest], *, single: bool) -> None:
    """Refuse an answer holding a document nobody asked for, or one twice (before any file is written).

    A document is the one requested when its DocumentUniqueId and RepositoryUniqueId are those of a
    DocumentRequest, and its HomeCommunityId, when both name one, too (ITI-43).
    """
    homes = {(r.document_unique_id, r.repository_unique_id): r.home_community_id for r in requested}
    seen: set[tuple[str, str]] = set()
    for part in parts:
        got = part.request
        key = (got.document_unique_id, got.repository_unique_id)
        home = homes.get(key)
        if key not in homes or (home and got.home_community_id and got.home_community_id != home):
            community = f", community {_shown(got.home_community_id)}" if got.home_community_id else ""
            raise DmpProtocolError(
                f"TD3.2: the answer holds document {_shown(got.document_unique_id)} (repository "
                f"{_shown(got.repository_unique_id)}{community}) that the request did not ask for; no document of "
                "this answer was kept",
                td="TD3.2",
            )
        if key in seen:
            raise DmpProtocolError(
                f"TD3.2: the answer holds document {_shown(got.document_unique_id)} twice; no document of this "
                "answer was kept",
                td="TD3.2",
            )
        seen.add(key)
    if single and len(parts) != 1:
        raise DmpProtocolError(f"TD3.2: asked for one document, the DMP returned {len(parts)}", td="TD3.2")


def _decoder(
    requested: Sequence[DocumentRequest] | None,
    expected: Mapping[str, _Expected],
    destination: Callable[[DocumentPart], Path] | None,
    *,
    single: bool = False,
) -> Callable[[Response], RetrieveResult]:
    """The TD3.2 decoder of one call (``requested`` None: the catalogue's, which knows no request)."""

    def decode(response: Response) -> RetrieveResult:
        body = response.message.body
        if body is None:
            raise DmpProtocolError("TD3.2: the answer has no body", td="TD3.2")
        answer = read_retrieve_response(body)
        raise_for_failure(answer.status, answer.errors, td="TD3.2")
        if requested is not None:
            _check_requested(answer.documents, requested, single=single)
        targets = [destination(part) if destination else None for part in answer.documents]
        chosen = [target for target in targets if target is not None]
        if len(set(chosen)) != len(chosen):
            raise DmpProtocolError("TD3.2: the answer holds several documents for one destination file", td="TD3.2")
        documents = tuple(
            _take(part, response.attachments, expected.get(part.request.document_unique_id), target)
            for part, target in zip(answer.documents, targets, strict=True)
        )
        return RetrieveResult.model_construct(status=answer.status, documents=documents, errors=answer.errors)

    return decode


RETRIEVE: Final = TransactionSpec(
    td="TD3.2",
    title="Consultation d'un document",
    service=Service.REPOSITORY,
    request_root=qname("xdsb", "RetrieveDocumentSetRequest"),
    request_action=_ACTION,
    response_action=f"{_ACTION}Response",
    decode=_decoder(None, {}, None),
    rights=(
        RightsAction.TD3_2_DOCS_NON_MASQUES,
        RightsAction.TD3_2_DOCS_MASQUES,
        RightsAction.TD3_2_DOCS_INVISIBLES_PATIENT,
        RightsAction.TD3_2_DOCS_ARCHIVES,
        RightsAction.TD3_2_DOCS_OBSOLETES,
        RightsAction.TD3_2_DOCS_SUPPRIMES,
    ),
    idempotent=True,
    patient=PatientBlock.VIHF,
    mtom_response=True,
    read_request=read_retrieve_request,
)


def _request(target: DocumentTarget) -> DocumentRequest:
    if isinstance(target, DocumentRequest):
        return target
    if isinstance(target, str):
        return DocumentRequest(document_unique_id=target)
    if target.repository_unique_id:
        return DocumentRequest(
            document_unique_id=target.unique_id,
            repository_unique_id=target.repository_unique_id,
            home_community_id=target.home_community_id,
        )
    return DocumentRequest(document_unique_id=target.unique_id, home_community_id=target.home_community_id)


def retrieve(
    ctx: CallContext,
    ins: str,
    ins_oid: str,
    documents: Sequence[DocumentTarget],
    *,
    out: Path | None = None,
    out_dir: Path | None = None,
) -> Operation[RetrieveResult]:
    """TD3.2: retrieve documents (uniqueIds, requests, or document entries — whose size and hash are then checked).

    Args:
        out: write the one document requested to this file.
        out_dir: write each document to this directory (:func:`document_file_name`).
        Without either, the documents are returned in memory.

    Raises:
        DmpValidationError: no document, ``out`` with several documents, both ``out`` and ``out_dir``.

    The answer's decoder refuses (:class:`DmpProtocolError`, nothing written) a document the request did not
    ask for: a peer's other document never lands in the caller's file.
    """
    if out is not None and (out_dir is not None or len(documents) != 1):
        raise DmpValidationError("retrieve: out= takes one document; use out_dir= for several", field="out")
    return _retrieve(ctx, ins, ins_oid, documents, out=out, out_dir=out_dir, single=False)


def retrieve_document(
    ctx: CallContext, ins: str, ins_oid: str, document: DocumentTarget, *, out: Path | None = None
) -> Operation[RetrieveResult]:
    """TD3.2 of one document: the answer must hold exactly that document (else :class:`DmpProtocolError`).

    Args:
        out: write it to this file; without it, it is returned in memory.
    """
    return _retrieve(ctx, ins, ins_oid, [document], out=out, out_dir=None, single=True)


def _retrieve(
    ctx: CallContext,
    ins: str,
    ins_oid: str,
    documents: Sequence[DocumentTarget],
    *,
    out: Path | None,
    out_dir: Path | None,
    single: bool,
) -> Operation[RetrieveResult]:
    del ctx
    patient = PatientRef(validate_ins(ins), validate_oid(ins_oid, field="ins_oid"))
    expected = {
        target.unique_id: _Expected(target.size, target.hash)
        for target in documents
        if isinstance(target, DocumentEntry)
    }
    destination: Callable[[DocumentPart], Path] | None = None
    if out is not None:
        destination = lambda _part: out  # noqa: E731 - one destination for the one document
    elif out_dir is not None:
        destination = lambda part: out_dir / document_file_name(part.request.document_unique_id, part.mime_type)  # noqa: E731
    requests = [_request(target) for target in documents]
    body = build_retrieve_request(requests)
    return RETRIEVE.operation(body, patient=patient, decoder=_decoder(requests, expected, destination, single=single))
