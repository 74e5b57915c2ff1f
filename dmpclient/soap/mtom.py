"""MTOM/XOP codec for ITI-41 (TD2.1) requests and ITI-43 (TD3.2) responses, streaming and pure (no network I/O).

Reference §1.5: the SOAP envelope is the root part of a ``multipart/related; type="application/xop+xml"``
body; each document travels raw (``Content-Transfer-Encoding: binary``) in its own part, referred to from
``xds-b:Document`` by ``<xop:Include href="cid:…"/>``.

Encoding never holds a second copy of a payload: :class:`MtomMessage` streams its parts (files from disk, in
chunks). The boundary is ``MIMEBoundary_`` + 128 random bits: payloads are arbitrary binary, so instead of
scanning them, we rely on a delimiter that occurs in them with probability 2⁻¹²⁸ (an explicit ``boundary=``
is checked against the in-memory payloads).

Decoding is incremental (:class:`MtomDecoder`): the delimiter is searched in a rolling buffer, parts larger
than ``spool_threshold`` go to temporary files, every size and the number of parts are bounded, and every byte
is scanned a bounded number of times whatever the chunk size (linear time). It tolerates what real peers send
(LF line endings, preamble and epilogue text, base64 or quoted-printable parts, a ``start`` naming no part, a
Content-Type boundary that does not match the body — see the eHealth Suisse captures) and reports the
deviations in :attr:`MtomDecoded.warnings`.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final, cast
from urllib.parse import quote
from uuid import uuid4
from weakref import finalize

from lxml import etree

from dmpclient._xml import NS, qname
from dmpclient.errors import DmpProtocolError, DmpValidationError
from dmpclient.soap._mime import (
    DEFAULT_MAX_PARTS,
    Attachment,
    MultipartReader,
    StoredPart,
    content_id_key,
    parse_content_type,
    unlink_all,
)

__all__ = [
    "DEFAULT_MAX_PARTS",
    "Attachment",
    "MtomDecoded",
    "MtomDecoder",
    "MtomMessage",
    "OutgoingPart",
    "decode",
    "encode",
    "inline_xop",
    "is_multipart",
    "new_content_id",
    "xop_href",
    "xop_include",
]

_ROOT_CONTENT_TYPE: Final = 'application/xop+xml; charset=UTF-8; type="application/soap+xml"'
_XOP_INCLUDE: Final = qname("xop", "Include")
#: Characters left as they are in a ``cid:`` URL (RFC 2392); ``:`` and ``/`` are encoded, as CXF and the DMP do.
_CID_SAFE: Final = "@!$&'()*+,;="
_CONTENT_ID: Final = re.compile(r"[\x21\x23-\x3b\x3d\x3f-\x5b\x5d-\x7e]+")  # printable ASCII but "<>\ and space
_ACTION: Final = _CONTENT_ID
_HEADER_VALUE: Final = re.compile(r"[\x20-\x7e]+")
_BOUNDARY: Final = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")  # RFC 2046 bchars
_COALESCE: Final = 8192
_BODY_SLICE: Final = 1 << 20


# --- encoding -----------------------------------------------------------------------------------


def new_content_id() -> str:
    """A fresh, globally unique Content-ID (without angle brackets)."""
    return f"{uuid4()}@dmpclient"


def xop_href(content_id: str) -> str:
    """The ``xop:Include/@href`` for a part: ``cid:`` + the Content-ID without brackets, URL-encoded (RFC 2392).

    Example: ``xop_href("1@urn:ihe:iti:xds-b:2007") == "cid:1@urn%3Aihe%3Aiti%3Axds-b%3A2007"`` (the form the
    DMP and Apache CXF use, reference §1.5).
    """
    return "cid:" + quote(content_id, safe=_CID_SAFE)


def _cid_from_href(href: str) -> str:
    """The Content-ID key named by an ``xop:Include/@href`` (``cid:`` prefix optional, percent-encoded or not)."""
    value = href.strip()
    if value[:4].lower() == "cid:":
        value = value[4:]
    return content_id_key(value)


def xop_include(content_id: str) -> etree._Element:
    """``<xop:Include href="cid:…"/>`` for a part, to put inside ``xds-b:Document`` (reference §1.5)."""
    return etree.Element(_XOP_INCLUDE, attrib={"href": xop_href(content_id)}, nsmap={"xop": NS["xop"]})


@dataclass(frozen=True, slots=True)
class OutgoingPart:
    """One attachment to send: raw bytes, or a file streamed from disk (never loaded whole)."""

    content_id: str
    data: bytes | Path
    content_type: str = "application/octet-stream"

    def __post_init__(self) -> None:
        _check_content_id(self.content_id)
        if not isinstance(self.data, bytes | Path):
            raise DmpValidationError("attachment data must be bytes or a pathlib.Path", field="parts")
        if not _HEADER_VALUE.fullmatch(self.content_type) or "/" not in self.content_type:
            raise DmpValidationError("an attachment Content-Type must be a printable ASCII media type", field="parts")


@dataclass(frozen=True, slots=True)
class _FileSegment:
    path: Path
    size: int
    content_id: str


class MtomMessage:
    """An encoded MTOM request, ready to stream: the Content-Type header and the body.

    Attributes:
        content_type: the HTTP Content-Type (``multipart/related``, with boundary, type, start, start-info, action).
        boundary: the MIME boundary.
        root_content_id: the root part's Content-ID (without brackets).
    """

    __slots__ = ("_length", "_segments", "boundary", "content_type", "root_content_id")

    def __init__(
        self, content_type: str, boundary: str, root_content_id: str, segments: tuple[bytes | _FileSegment, ...]
    ) -> None:
        self.content_type = content_type
        self.boundary = boundary
        self.root_content_id = root_content_id
        self._segments = segments
        self._length = sum(s.size if isinstance(s, _FileSegment) else len(s) for s in segments)

    def content_length(self) -> int:
        """The body length in bytes, known without reading the files."""
        return self._length

    def iter_bytes(self, chunk_size: int = 65536) -> Iterator[bytes]:
        """Stream the body in chunks of at most ``chunk_size`` bytes; small framing pieces are coalesced.

        Raises:
            DmpValidationError: a file part changed size since :func:`encode` (Content-Length would lie).
        """
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        pending = bytearray()
        for segment in self._segments:
            pieces = (
                _read_file(segment, chunk_size) if isinstance(segment, _FileSegment) else _slices(segment, chunk_size)
            )
            for piece in pieces:
                if len(piece) < _COALESCE and len(pending) + len(piece) <= chunk_size:
                    pending += piece
                    continue
                if pending:
                    yield bytes(pending)
                    pending.clear()
                if len(piece) < _COALESCE:
                    pending += piece
                else:
                    yield piece
        if pending:
            yield bytes(pending)

    async def aiter_bytes(self, chunk_size: int = 65536) -> AsyncIterator[bytes]:
        """Same chunks as :meth:`iter_bytes`, for the async client (file reads are small and blocking)."""
        for chunk in self.iter_bytes(chunk_size):
            yield chunk

    def to_bytes(self) -> bytes:
        """The whole body in memory (tests and small messages)."""
        return b"".join(self.iter_bytes())


def encode(
    root_xml: bytes,
    parts: Sequence[OutgoingPart],
    *,
    action: str,
    boundary: str | None = None,
    root_content_id: str | None = None,
) -> MtomMessage:
    """Frame a SOAP envelope and its attachments as an MTOM ``multipart/related`` body (reference §1.5).

    Args:
        root_xml: the serialised SOAP envelope, whose ``xop:Include`` elements name the parts.
        parts: the attachments, each sent raw with ``Content-Transfer-Encoding: binary``.
        action: the SOAP action (e.g. ``urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b``).
        boundary: a fixed boundary (tests); by default 128 random bits.
        root_content_id: the root part's Content-ID; by default :func:`new_content_id`.

    Raises:
        DmpValidationError: invalid Content-ID, action or boundary; duplicate Content-IDs; unreadable file.
    """
    root_cid = root_content_id or new_content_id()
    _check_content_id(root_cid)
    if not _ACTION.fullmatch(action):
        raise DmpValidationError("the SOAP action must be printable ASCII without quotes or spaces", field="action")
    ids = [root_cid, *(part.content_id for part in parts)]
    if len(set(ids)) != len(ids):
        raise DmpValidationError("Content-IDs of an MTOM message must be unique", field="parts")
    if boundary is None:
        boundary = f"MIMEBoundary_{secrets.token_hex(16)}"
    else:
        _check_boundary(boundary, [root_xml, *(p.data for p in parts if isinstance(p.data, bytes))])
    segments: list[bytes | _FileSegment] = [_part_head(boundary, _ROOT_CONTENT_TYPE, root_cid), root_xml]
    for part in parts:
        segments.append(b"\r\n" + _part_head(boundary, part.content_type, part.content_id))
        segments.append(part.data if isinstance(part.data, bytes) else _file_segment(part.data, part.content_id))
    segments.append(f"\r\n--{boundary}--\r\n".encode("ascii"))
    content_type = (
        f'multipart/related; boundary="{boundary}"; type="application/xop+xml"; start="<{root_cid}>"; '
        f'start-info="application/soap+xml"; action="{action}"'
    )
    return MtomMessage(content_type, boundary, root_cid, tuple(segments))


def _check_content_id(content_id: str) -> None:
    if not _CONTENT_ID.fullmatch(content_id):
        raise DmpValidationError(
            "a Content-ID must be printable ASCII without spaces, quotes, backslashes or angle brackets",
            field="content_id",
        )


def _check_boundary(boundary: str, payloads: list[bytes]) -> None:
    if not _BOUNDARY.fullmatch(boundary):
        raise DmpValidationError("a MIME boundary is 1 to 70 characters of the RFC 2046 set", field="boundary")
    needle = b"--" + boundary.encode("ascii")
    if any(needle in payload for payload in payloads):
        raise DmpValidationError("the MIME boundary occurs in a payload; choose another one", field="boundary")


def _part_head(boundary: str, content_type: str, content_id: str) -> bytes:
    return (
        f"--{boundary}\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: binary\r\n"
        f"Content-ID: <{content_id}>\r\n\r\n"
    ).encode("ascii")


def _file_segment(path: Path, content_id: str) -> _FileSegment:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DmpValidationError(
            f"the file of attachment {content_id!r} cannot be read: {exc.strerror}", field="parts"
        ) from None
    return _FileSegment(path, size, content_id)


def _slices(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _read_file(segment: _FileSegment, size: int) -> Iterator[bytes]:
    remaining = segment.size
    with segment.path.open("rb") as stream:
        while remaining:
            block = stream.read(min(size, remaining))
            if not block:
                break
            remaining -= len(block)
            yield block
        if remaining or stream.read(1):
            raise DmpValidationError(
                f"the file of attachment {segment.content_id!r} changed size while being sent", field="parts"
            )


# --- decoding -----------------------------------------------------------------------------------


def is_multipart(content_type: str | None) -> bool:
    """Whether an HTTP Content-Type announces a MIME multipart (MTOM) body rather than plain SOAP."""
    return parse_content_type(content_type or "")[0].startswith("multipart/")


class MtomDecoded:
    """A decoded MTOM message: the SOAP root part and the attachments its ``xop:Include`` elements refer to.

    Use it as a context manager (or call :meth:`close`) so that spooled temporary files are deleted.

    Attributes:
        root_xml: the root part (the SOAP envelope with its ``xop:Include`` elements), not parsed.
        root_content_type: the root part's Content-Type header.
        attachments: the other parts, keyed by Content-ID without brackets, percent-decoded.
        warnings: deviations tolerated while decoding (boundary mismatch, ``start`` naming no part…).
    """

    __slots__ = ("attachments", "root_content_type", "root_xml", "warnings")

    def __init__(
        self,
        root_xml: bytes,
        root_content_type: str,
        attachments: dict[str, Attachment],
        warnings: tuple[str, ...] = (),
    ) -> None:
        self.root_xml = root_xml
        self.root_content_type = root_content_type
        self.attachments = attachments
        self.warnings = warnings

    def attachment_for_href(self, href: str) -> Attachment:
        """The attachment an ``xop:Include/@href`` names (``cid:`` URL, percent-encoded or not).

        Raises:
            DmpProtocolError: no part has that Content-ID.
        """
        content_id = _cid_from_href(href)
        attachment = self.attachments.get(content_id)
        if attachment is None:
            known = ", ".join(sorted(self.attachments)[:5]) or "none"
            raise DmpProtocolError(f"xop:Include refers to cid {content_id!r}, which no MIME part has (parts: {known})")
        return attachment

    def close(self) -> None:
        """Close every attachment (deleting spooled temporary files)."""
        for attachment in self.attachments.values():
            attachment.close()

    def __enter__(self) -> MtomDecoded:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MtomDecoded(root={len(self.root_xml)} bytes, attachments={list(self.attachments)!r})"


class MtomDecoder:
    """Incremental MTOM decoder: :meth:`feed` the body as it arrives, then :meth:`close` for the result.

    Memory stays bounded whatever the part sizes: only a delimiter-sized tail (plus the current chunk) is
    buffered, and part bodies above ``spool_threshold`` are written to temporary files.

    Args:
        content_type: the HTTP Content-Type (must be ``multipart/…`` with a boundary).
        spool_threshold: parts larger than this many bytes go to a temporary file.
        max_root_bytes: the largest SOAP root part accepted.
        max_total_bytes: the largest body accepted (``None``: no limit).
        max_parts: the most MIME parts accepted (root included).

    Raises:
        DmpProtocolError: not a multipart Content-Type, or no boundary parameter.
    """

    def __init__(
        self,
        content_type: str | None,
        *,
        spool_threshold: int = 1 << 20,
        max_root_bytes: int = 32 << 20,
        max_total_bytes: int | None = None,
        max_parts: int = DEFAULT_MAX_PARTS,
    ) -> None:
        media, params = parse_content_type(content_type or "")
        if not media.startswith("multipart/"):
            raise DmpProtocolError(
                f"expected a multipart/related (MTOM) body, got Content-Type {media or 'none'!r}; "
                "plain SOAP responses are parsed without the MTOM decoder"
            )
        boundary = params.get("boundary", "")
        if not boundary or not boundary.isascii():
            raise DmpProtocolError("the multipart Content-Type has no usable (ASCII) boundary parameter")
        start = params.get("start")
        self._start = content_id_key(start) if start else None
        self._max_root = max_root_bytes
        self._max_total = max_total_bytes
        self._received = 0
        self._closed = False
        self._temp_files: list[Path] = []
        self._cleanup = finalize(self, unlink_all, self._temp_files)
        self._reader = MultipartReader(
            boundary.encode("ascii"),
            root_id=self._start,
            max_root_bytes=max_root_bytes,
            spool_threshold=spool_threshold,
            temp_files=self._temp_files,
            max_parts=max_parts,
        )

    def feed(self, chunk: bytes | bytearray | memoryview) -> None:
        """Consume the next piece of the body (any size, including empty).

        Raises:
            DmpProtocolError: the body is malformed or exceeds a limit (temporary files are then deleted).
        """
        if self._closed:
            raise ValueError("MtomDecoder.feed() called after close() or abort()")
        try:
            self._received += len(chunk)
            if self._max_total is not None and self._received > self._max_total:
                raise DmpProtocolError(f"the MTOM body exceeds max_total_bytes={self._max_total}")
            self._reader.feed(chunk)
        except BaseException:
            self.abort()
            raise

    def close(self) -> MtomDecoded:
        """Finish decoding and return the root part and the attachments.

        Raises:
            DmpProtocolError: truncated body, no parts, root part too large, duplicate Content-IDs.
        """
        if self._closed:
            raise ValueError("MtomDecoder.close() called twice or after abort()")
        try:
            decoded = self._assemble(self._reader.finish())
        except BaseException:
            self.abort()
            raise
        self._temp_files.clear()  # owned by the attachments from now on
        self._closed = True
        return decoded

    def abort(self) -> None:
        """Drop everything received and delete temporary files (e.g. when the transport fails mid-body)."""
        self._closed = True
        self._reader.close()
        self._cleanup()

    def _assemble(self, parts: list[StoredPart]) -> MtomDecoded:
        warnings = list(self._reader.warnings)
        root_index = next((i for i, p in enumerate(parts) if self._start and p.content_id == self._start), None)
        if root_index is None:
            if self._start:
                warnings.append(f"the start parameter <{self._start}> names no part; used the first part")
            root_index = 0
        root = parts[root_index]
        if root.size > self._max_root:
            raise DmpProtocolError(f"the SOAP root part exceeds max_root_bytes={self._max_root}")
        others = [part for i, part in enumerate(parts) if i != root_index]
        ids = [part.content_id for part in others if part.content_id is not None]
        if len(set(ids)) != len(ids):
            raise DmpProtocolError("two MIME parts have the same Content-ID")
        if len(ids) != len(others):
            warnings.append("MIME parts without Content-ID were ignored (no xop:Include can refer to them)")
            unlink_all([p.stored for p in others if p.content_id is None and isinstance(p.stored, Path)])
        attachments = {
            part.content_id: Attachment(part.content_id, part.content_type, part.stored, part.size)
            for part in others
            if part.content_id is not None
        }
        return MtomDecoded(root.take_bytes(), root.content_type, attachments, tuple(warnings))


def decode(
    content_type: str | None,
    body: bytes | BinaryIO | Iterable[bytes],
    *,
    spool_threshold: int = 1 << 20,
    max_root_bytes: int = 32 << 20,
    max_total_bytes: int | None = None,
    max_parts: int = DEFAULT_MAX_PARTS,
) -> MtomDecoded:
    """Decode a whole MTOM body (bytes, a binary file object or an iterable of chunks); see :class:`MtomDecoder`.

    Raises:
        DmpProtocolError: not multipart, malformed, truncated or over a limit.
    """
    decoder = MtomDecoder(
        content_type,
        spool_threshold=spool_threshold,
        max_root_bytes=max_root_bytes,
        max_total_bytes=max_total_bytes,
        max_parts=max_parts,
    )
    try:
        for chunk in _chunks(body):
            decoder.feed(chunk)
    except BaseException:
        decoder.abort()
        raise
    return decoder.close()


def _chunks(body: bytes | BinaryIO | Iterable[bytes]) -> Iterable[bytes | memoryview]:
    if isinstance(body, bytes | bytearray | memoryview):
        view = memoryview(body)
        return (view[i : i + _BODY_SLICE] for i in range(0, len(view), _BODY_SLICE))
    read = getattr(body, "read", None)
    if callable(read):
        return iter(lambda: cast(bytes, read(65536)), b"")
    return body


# --- XOP ----------------------------------------------------------------------------------------


def inline_xop(root: etree._Element, decoded: MtomDecoded) -> None:
    """Replace every ``xop:Include`` under ``root`` by the base64 text of its part (XOP decoding, in place).

    Used to validate MTOM messages against the XSDs (``xds-b:Document`` is ``xs:base64Binary``) and by
    parsers that want inline content.

    Raises:
        DmpProtocolError: an ``xop:Include`` without ``href``, at the root, or naming no part.
    """
    for include in list(root.iter(_XOP_INCLUDE)):
        href = include.get("href")
        parent = include.getparent()
        if not href or parent is None:
            raise DmpProtocolError("an xop:Include has no href or no parent element")
        text = base64.b64encode(decoded.attachment_for_href(href).read_bytes()).decode("ascii")
        previous = include.getprevious()
        if previous is None:
            parent.text = (parent.text or "") + text + (include.tail or "")
        else:
            previous.tail = (previous.tail or "") + text + (include.tail or "")
        parent.remove(include)
