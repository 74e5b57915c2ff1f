"""The MIME half of the MTOM/XOP codec: a streaming ``multipart/related`` reader and its building blocks
(header and parameter parsing, Content-IDs, transfer decodings, disk spooling, attachments).

RFC 2045 (headers, transfer encodings), RFC 2046 §5.1 (delimiters), RFC 2387 (``start``).
Internal to :mod:`dmpclient.soap.mtom`, which re-exports the public names. Pure: the only I/O is the
temporary files that keep large attachments out of memory.
"""

from __future__ import annotations

import binascii
import io
import re
import shutil
import tempfile
import weakref
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import IO, BinaryIO, Final, Protocol, cast
from urllib.parse import unquote

from dmpclient.errors import DmpProtocolError

__all__ = [
    "DEFAULT_MAX_PARTS",
    "Attachment",
    "MultipartReader",
    "Spool",
    "StoredPart",
    "TransferDecoder",
    "content_id_key",
    "parse_content_type",
    "parse_headers",
    "transfer_decoder",
    "unlink_all",
]

_MIME_NAME: Final = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PARAM: Final = re.compile(rf';\s*({_MIME_NAME})\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)')
_HEADER_NAME: Final = re.compile(_MIME_NAME)
_QUOTED_PAIR: Final = re.compile(r"\\(.)")
#: Longest quoted-printable line accepted (RFC 2045 says 76; producers are sloppy, memory must stay bounded).
_MAX_QP_LINE: Final = 64 * 1024


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    """Split a Content-Type into its lower-cased media type and its parameters (names lower-cased, unquoted)."""
    media, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for match in _PARAM.finditer(";" + rest):
        name, raw = match.groups()
        params[name.lower()] = _QUOTED_PAIR.sub(r"\1", raw[1:-1]) if raw.startswith('"') else raw
    return media.strip().lower(), params


def parse_headers(block: bytes, part_number: int) -> dict[str, str]:
    """Parse one part's header block (CRLF or LF lines, folded lines allowed); names are lower-cased.

    Raises:
        DmpProtocolError: a line is neither ``name: value`` nor a continuation (a missing blank line
            after the headers looks like this). The message never quotes the line: it may be document content.
    """
    headers: dict[str, str] = {}
    name = ""
    for raw in block.split(b"\n"):
        line = raw.rstrip(b"\r").decode("utf-8", "replace")
        if not line:
            continue
        if line[0] in " \t" and name:
            headers[name] += " " + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep or not _HEADER_NAME.fullmatch(key):
            raise DmpProtocolError(
                f"MIME part {part_number} has a malformed header line (not 'Name: value'); "
                "is the blank line after its headers missing?"
            )
        name = key.lower()
        headers[name] = value.strip()
    return headers


def content_id_key(value: str) -> str:
    """The lookup key of a Content-ID header or ``start`` parameter: without angle brackets, percent-decoded."""
    return unquote(value.strip().removeprefix("<").removesuffix(">").strip())


class TransferDecoder(Protocol):
    """Streaming Content-Transfer-Encoding decoder: ``decode`` each chunk, then ``flush`` at the end of the part."""

    def decode(self, data: bytes | memoryview) -> bytes: ...

    def flush(self) -> bytes: ...


class _Base64:
    """Base64 decoding in chunks: whitespace is dropped and quanta split across chunks are carried over."""

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending = b""

    def decode(self, data: bytes | memoryview) -> bytes:
        text = self._pending + bytes(data).translate(None, b" \t\r\n")
        usable = len(text) - len(text) % 4
        self._pending = text[usable:]
        return _a2b_base64(text[:usable])

    def flush(self) -> bytes:
        rest, self._pending = self._pending, b""
        return _a2b_base64(rest + b"=" * (-len(rest) % 4)) if rest else b""


def _a2b_base64(text: bytes) -> bytes:
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except binascii.Error:
        raise DmpProtocolError("a MIME part declared as base64 is not valid base64") from None


class _QuotedPrintable:
    """Quoted-printable decoding line by line (each encoded line decodes on its own, soft breaks included)."""

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending = b""

    def decode(self, data: bytes | memoryview) -> bytes:
        text = self._pending + bytes(data)
        cut = text.rfind(b"\n") + 1
        self._pending = text[cut:]
        if len(self._pending) > _MAX_QP_LINE:
            raise DmpProtocolError(f"a quoted-printable MIME part has a line longer than {_MAX_QP_LINE} bytes")
        return binascii.a2b_qp(text[:cut])

    def flush(self) -> bytes:
        rest, self._pending = self._pending, b""
        return binascii.a2b_qp(rest)


def transfer_decoder(encoding: str) -> TransferDecoder | None:
    """The decoder for a Content-Transfer-Encoding value; ``None`` when the bytes are used as they are.

    Raises:
        DmpProtocolError: an encoding MIME does not define (``x-…`` tokens included).
    """
    name = encoding.strip().lower()
    if name in {"", "binary", "8bit", "7bit"}:
        return None
    if name == "base64":
        return _Base64()
    if name == "quoted-printable":
        return _QuotedPrintable()
    raise DmpProtocolError(f"unsupported Content-Transfer-Encoding {name[:40]!r} in an MTOM part")


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)


def unlink_all(paths: list[Path]) -> None:
    """Delete temporary files and empty the list (the list is shared with a ``weakref.finalize``)."""
    for path in paths:
        _unlink(path)
    paths.clear()


class Spool:
    """Collects one part's bytes: in memory up to ``threshold`` bytes, then in a temporary file.

    Args:
        threshold: the largest part kept in memory.
        created: every temporary file is appended here as soon as it exists, so its owner can delete it.
    """

    __slots__ = ("_created", "_file", "_memory", "_threshold", "size")

    def __init__(self, threshold: int, created: list[Path]) -> None:
        self._threshold = threshold
        self._created = created
        self._memory = io.BytesIO()  # getvalue() hands its buffer over without a copy
        self._file: IO[bytes] | None = None
        self.size = 0

    def write(self, data: bytes | memoryview) -> None:
        """Append bytes (a memoryview is copied before this returns: callers may reuse their buffer)."""
        self.size += len(data)
        if self._file is None:
            if self.size <= self._threshold:
                self._memory.write(data)
                return
            self._file = tempfile.NamedTemporaryFile(prefix="dmpclient-mtom-", suffix=".part", delete=False)  # noqa: SIM115
            self._created.append(Path(self._file.name))
            self._file.write(self._memory.getbuffer())
            self._memory = io.BytesIO()
        self._file.write(data)

    def finish(self) -> bytes | Path:
        """The part's content: bytes, or the path of the closed temporary file."""
        if self._file is None:
            return self._memory.getvalue()
        self._file.close()
        return Path(self._file.name)

    def close(self) -> None:
        """Close the temporary file, if any (its owner deletes it)."""
        if self._file is not None:
            self._file.close()


@dataclass(frozen=True, slots=True)
class StoredPart:
    """A complete part as the decoder keeps it until the whole message is read."""

    content_id: str | None
    content_type: str
    stored: bytes | Path
    size: int

    def take_bytes(self) -> bytes:
        """The content as bytes; a temporary file is read and deleted."""
        if isinstance(self.stored, bytes):
            return self.stored
        data = self.stored.read_bytes()
        _unlink(self.stored)
        return data


class Attachment:
    """One XOP attachment (a non-root MIME part), in memory or spooled to a temporary file.

    Attributes:
        content_id: the Content-ID without angle brackets, percent-decoded.
        content_type: the part's Content-Type header as received.
        size: the decoded size in bytes.
        path: the temporary file holding the content when it was spooled to disk, else ``None``.
            The file is deleted by :meth:`close` (or when the attachment is garbage-collected).
    """

    __slots__ = ("__weakref__", "_closed", "_data", "_finalizer", "content_id", "content_type", "path", "size")

    def __init__(self, content_id: str, content_type: str, stored: bytes | Path, size: int) -> None:
        self.content_id = content_id
        self.content_type = content_type
        self.size = size
        self._closed = False
        self._data = stored if isinstance(stored, bytes) else None
        self.path = stored if isinstance(stored, Path) else None
        self._finalizer = weakref.finalize(self, _unlink, self.path) if self.path is not None else None

    def read_bytes(self) -> bytes:
        """The whole content in memory (for a spooled part, think about :meth:`open` first)."""
        if self._data is not None:
            return self._data
        return self._spooled_path().read_bytes()

    def open(self) -> BinaryIO:
        """A binary file object over the content (read from disk when spooled)."""
        if self._data is not None:
            return io.BytesIO(self._data)
        return self._spooled_path().open("rb")

    def close(self) -> None:
        """Release the content; a spooled temporary file is deleted."""
        self._closed = True
        self._data = None
        if self._finalizer is not None:
            self._finalizer()

    def save_to(self, destination: Path) -> None:
        """Move the content to ``destination`` (a rename when spooled on the same file system, else a copy)
        and release the attachment: its data then belongs to the caller, not to the response.
        """
        if self._data is not None:
            destination.write_bytes(self._data)
        else:
            shutil.move(self._spooled_path(), destination)
            if self._finalizer is not None:
                self._finalizer.detach()
            self.path = None
        self.close()

    def _spooled_path(self) -> Path:
        if self._closed or self.path is None:
            raise ValueError(f"attachment {self.content_id!r} is closed")
        return self.path

    def __repr__(self) -> str:
        where = "spooled" if self.path is not None else "in memory"
        return f"Attachment({self.content_id!r}, {self.content_type!r}, size={self.size}, {where})"


class _State(Enum):
    PREAMBLE = "preamble"
    HEADERS = "headers"
    BODY = "body"
    EPILOGUE = "epilogue"


_TRUNCATED: Final = {
    _State.PREAMBLE: "the multipart body ended before any delimiter line ('--' + boundary)",
    _State.HEADERS: "the multipart body ended inside part headers (no blank line after them)",
    _State.BODY: "the multipart body ended before the close delimiter ('--' + boundary + '--'): truncated",
}
_DETECTED_BOUNDARY: Final = re.compile(rb"[\x21-\x7e][\x20-\x7e]{0,199}")
#: Default bound on the number of MIME parts of one message (a DMP submission carries a handful of documents).
DEFAULT_MAX_PARTS: Final = 1000
_MAX_PREAMBLE: Final = 64 * 1024
_MAX_HEADERS: Final = 64 * 1024
_MAX_PADDING: Final = 1024
#: Transport padding after a boundary (RFC 2046 §5.1.1: linear white space), matched in C without backtracking.
_PADDING: Final = re.compile(rb"[ \t]*")
_NEED_MORE: Final = -2
_NOT_DELIMITER: Final = -1


class MultipartReader:
    """Streaming ``multipart/related`` parser with bounded memory, in linear time whatever the chunk size.

    The delimiter (``LF--boundary``; a CR before it is dropped, so CRLF and LF-only bodies both work) is searched
    in a rolling buffer that keeps only a delimiter-sized tail between chunks; part bodies go to a :class:`Spool`.
    If the first delimiter line of the body is not the declared boundary, the reader adopts it and records a
    warning (Apache CXF behind a proxy, eHealth Suisse ITI-41 capture).

    Args:
        boundary: the boundary declared in the Content-Type.
        root_id: the RFC 2387 ``start`` Content-ID (``None``: the first part is the root).
        max_root_bytes: size limit of the root part, enforced while it streams.
        max_parts: the most parts accepted (a flood of tiny parts costs far more memory than its bytes).
        spool_threshold: parts larger than this many bytes go to temporary files.
        temp_files: every temporary file created is appended here (its owner deletes them).
    """

    def __init__(
        self,
        boundary: bytes,
        *,
        root_id: str | None,
        max_root_bytes: int,
        spool_threshold: int,
        temp_files: list[Path],
        max_parts: int = DEFAULT_MAX_PARTS,
    ) -> None:
        self._declared = boundary
        self._max_parts = max_parts
        self._boundary = boundary
        self._delimiter = b"\n--" + boundary
        self._root_id = root_id
        self._max_root = max_root_bytes
        self._spool_threshold = spool_threshold
        self._temp_files = temp_files
        self._state = _State.PREAMBLE
        self._buf = bytearray()
        self._scan_from = 0
        self._skip = 0  # 1 while the buffer starts with the newline ending the part headers
        self._headers: dict[str, str] = {}
        self._spool: Spool | None = None
        self._transfer: TransferDecoder | None = None
        self._limit_root = False
        self.parts: list[StoredPart] = []
        self.warnings: list[str] = []

    def feed(self, chunk: bytes | bytearray | memoryview) -> None:
        """Consume the next piece of the body; text after the close delimiter is ignored."""
        if self._state is not _State.EPILOGUE:
            self._buf += chunk
            self._advance()

    def finish(self) -> list[StoredPart]:
        """The parts, once the close delimiter has been read.

        Raises:
            DmpProtocolError: the body is truncated.
        """
        if self._state is not _State.EPILOGUE:
            raise DmpProtocolError(_TRUNCATED[self._state])
        return self.parts

    def close(self) -> None:
        """Close the temporary file of a part still being written, and drop the buffer."""
        if self._spool is not None:
            self._spool.close()
        self._buf.clear()

    def _advance(self) -> None:
        progressed = True
        while progressed:
            if self._state is _State.BODY:
                progressed = self._read_body()
            elif self._state is _State.HEADERS:
                progressed = self._read_headers()
            elif self._state is _State.PREAMBLE:
                progressed = self._read_preamble()
            else:
                return

    def _enter(self, state: _State) -> None:
        self._state = state
        self._scan_from = 0

    def _read_preamble(self) -> bool:
        buf = self._buf
        if buf.startswith(b"--"):
            start = 0
        else:
            found = buf.find(b"\n--", self._scan_from)
            if found < 0:
                self._scan_from = max(0, len(buf) - 2)
                _check_size(len(buf), _MAX_PREAMBLE, "no multipart delimiter line in the first {} bytes of the body")
                return False
            start = found + 1
        end = buf.find(b"\n", start)
        if end < 0:
            self._scan_from = max(0, start - 1)
            _check_size(len(buf) - start, _MAX_PREAMBLE, "the first multipart delimiter line exceeds {} bytes")
            return False
        line = bytes(buf[start + 2 : end]).rstrip()
        if line != self._boundary:
            self._adopt_boundary(line)
        del buf[: end + 1]
        self._enter(_State.HEADERS)
        return True

    def _adopt_boundary(self, line: bytes) -> None:
        declared = self._declared.decode("ascii")
        if line == self._boundary + b"--":
            raise DmpProtocolError("the multipart body has no parts")
        if not _DETECTED_BOUNDARY.fullmatch(line):
            raise DmpProtocolError(f"the body does not start with the boundary {declared!r} of the Content-Type")
        self.warnings.append(
            f"the Content-Type boundary {declared!r} does not delimit the body; "
            f"used the delimiter found in it ({line.decode('ascii')!r})"
        )
        self._boundary = line
        self._delimiter = b"\n--" + line

    def _read_headers(self) -> bool:
        buf = self._buf
        if buf.startswith(b"\n"):
            cut = 0
        elif buf.startswith(b"\r\n"):
            cut = 1
        elif len(buf) < 2:
            return False
        else:
            cut = self._find_header_end()
            if cut < 0:
                _check_size(len(buf), _MAX_HEADERS, "multipart part headers exceed {} bytes (missing blank line?)")
                return False
        self._open_part(parse_headers(bytes(buf[:cut]), len(self.parts) + 1))
        del buf[:cut]  # the newline ending the headers stays: with an empty body it is the delimiter's
        self._skip = 1
        self._enter(_State.BODY)
        return True

    def _find_header_end(self) -> int:
        """Index of the newline ending the blank line after the headers, or -1 (need more bytes).

        Walks the header lines once (``_scan_from`` remembers where to resume), so that a large chunk made of
        many parts is read in linear time.
        """
        buf = self._buf
        position = self._scan_from
        while True:
            newline = buf.find(b"\n", position)
            if newline < 0:
                self._scan_from = len(buf)
                return -1
            blank = _newline_at(buf, newline + 1)
            if blank is None:  # the line after this newline has not arrived yet
                self._scan_from = newline
                return -1
            if blank:
                return newline + blank
            position = newline + 1

    def _read_body(self) -> bool:
        buf = self._buf
        index = buf.find(self._delimiter, self._scan_from)
        if index < 0:
            keep = len(self._delimiter)  # a delimiter may start in the tail, and the byte before it may be its CR
            if len(buf) > keep:
                self._write_body(len(buf) - keep)
                del buf[: len(buf) - keep]
                self._skip = 0
            self._scan_from = 0
            return False
        after = index + len(self._delimiter)
        line_end = self._delimiter_end(after)
        if line_end == _NEED_MORE:
            self._scan_from = index
            return False
        if line_end == _NOT_DELIMITER:
            self._scan_from = index + 1
            return True
        self._write_body(index - 1 if index > self._skip and buf[index - 1] == 0x0D else index)
        self._finish_part()
        if buf[after : after + 2] == b"--":
            buf.clear()
            self._enter(_State.EPILOGUE)
        else:
            del buf[:line_end]
            self._enter(_State.HEADERS)
        return True

    def _delimiter_end(self, after: int) -> int:
        """End of the delimiter line whose boundary ends at ``after``: ``--`` (close), or padding then newline."""
        buf = self._buf
        if len(buf) < after + 2:
            return _NEED_MORE
        if buf[after : after + 2] == b"--":
            return after + 2
        if buf[after] not in b" \t\r\n":
            return _NOT_DELIMITER
        padding = _PADDING.match(buf, after, after + _MAX_PADDING)
        end = padding.end() if padding else after
        line_break = _newline_at(buf, end)
        if line_break:
            return end + line_break
        if line_break is None and end < after + _MAX_PADDING:
            return _NEED_MORE
        return _NOT_DELIMITER

    def _open_part(self, headers: dict[str, str]) -> None:
        if len(self.parts) >= self._max_parts:
            raise DmpProtocolError(f"the multipart body has more than {self._max_parts} parts (max_parts)")
        self._headers = headers
        self._transfer = transfer_decoder(headers.get("content-transfer-encoding", ""))
        raw_id = headers.get("content-id")
        content_id = content_id_key(raw_id) if raw_id else None
        self._limit_root = content_id == self._root_id if self._root_id else not self.parts
        self._spool = Spool(self._spool_threshold, self._temp_files)

    def _write_body(self, end: int) -> None:
        if end > self._skip:
            with memoryview(self._buf) as view, view[self._skip : end] as body:  # released even on errors
                self._store(self._transfer.decode(body) if self._transfer is not None else body)

    def _store(self, data: bytes | memoryview) -> None:
        spool = cast(Spool, self._spool)  # only called inside a part
        spool.write(data)
        if self._limit_root and spool.size > self._max_root:
            raise DmpProtocolError(f"the SOAP root part exceeds max_root_bytes={self._max_root}")

    def _finish_part(self) -> None:
        spool = cast(Spool, self._spool)
        if self._transfer is not None:
            self._store(self._transfer.flush())
        raw_id = self._headers.get("content-id")
        content_type = self._headers.get("content-type", "text/plain")
        stored = spool.finish()
        self.parts.append(StoredPart(content_id_key(raw_id) if raw_id else None, content_type, stored, spool.size))
        self._spool = None


def _newline_at(buf: bytearray, index: int) -> int | None:
    """Length of the line break at ``index`` (1 for LF, 2 for CRLF), 0 if there is none, None if bytes are missing."""
    first = buf[index : index + 1]
    if first == b"\n":
        return 1
    if first != b"\r":
        return 0 if first else None
    second = buf[index + 1 : index + 2]
    if second == b"\n":
        return 2
    return 0 if second else None


def _check_size(size: int, limit: int, message: str) -> None:
    if size > limit:
        raise DmpProtocolError(message.format(limit))
