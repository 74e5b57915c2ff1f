"""MTOM/XOP codec throughput and decoder memory.

- encode: MB/s of consuming ``MtomMessage.iter_bytes()`` for one random binary part;
- decode: MB/s of feeding the encoded body to ``MtomDecoder`` in 64 KiB chunks (parts above 1 MiB spool to
  temporary files, as in production);
- each against a same-run baseline doing only the unavoidable copy: encode vs slicing the payload into 64 KiB
  chunks; decode vs writing the 64 KiB chunks into the same sink the decoder uses (BytesIO up to 1 MiB, else a
  temporary file), so the ratio is the codec's own overhead;
- peak traced memory while decoding the largest part fed from a file in 64 KiB chunks (target < 64 MB),
  against the payload size.
"""

from __future__ import annotations

import io
import os
import tempfile
import tracemalloc
from pathlib import Path

from benchmarks._harness import Result, median_seconds
from dmpclient.soap.mtom import MtomDecoder, MtomMessage, OutgoingPart, encode

MB = 1_000_000
CHUNK = 64 * 1024
ROOT = b'<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body/></soap:Envelope>'
ACTION = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
SPOOL_THRESHOLD = 1 << 20


def _message(data: bytes | Path) -> MtomMessage:
    return encode(ROOT, [OutgoingPart("doc-1@urn:ihe:iti:xds-b:2007", data)], action=ACTION)


def _slice_copy(data: bytes) -> None:
    for start in range(0, len(data), CHUNK):
        data[start : start + CHUNK]  # the copy is the point


def _sink_copy(data: bytes) -> None:
    sink = io.BytesIO() if len(data) <= SPOOL_THRESHOLD else tempfile.TemporaryFile()  # noqa: SIM115
    with sink, memoryview(data) as view:
        for start in range(0, len(data), CHUNK):
            sink.write(view[start : start + CHUNK])


def _consume(message: MtomMessage) -> None:
    for _chunk in message.iter_bytes(CHUNK):
        pass


def _decode(content_type: str, raw: bytes) -> None:
    decoder = MtomDecoder(content_type, spool_threshold=SPOOL_THRESHOLD)
    with memoryview(raw) as view:
        for start in range(0, len(raw), CHUNK):
            decoder.feed(view[start : start + CHUNK])
    decoder.close().close()


def _throughput(size: int, repeat: int) -> list[Result]:
    data = os.urandom(size)
    message = _message(data)
    raw = message.to_bytes()
    megabytes = size / MB
    slice_rate = megabytes / median_seconds(lambda: _slice_copy(data), repeat=repeat)
    sink_rate = megabytes / median_seconds(lambda: _sink_copy(data), repeat=repeat)
    encode_rate = megabytes / median_seconds(lambda: _consume(message), repeat=repeat)
    decode_rate = megabytes / median_seconds(lambda: _decode(message.content_type, raw), repeat=repeat)
    label = f"{size // MB} MB part"
    sink = "BytesIO" if size <= SPOOL_THRESHOLD else "temp file"
    return [
        Result(f"mtom encode {label} (iter_bytes)", encode_rate, "MB/s", "64 KiB slice copy", slice_rate),
        Result(f"mtom decode {label} (64 KiB feeds)", decode_rate, "MB/s", f"64 KiB writes to a {sink}", sink_rate),
    ]


def _decode_peak_memory(size: int) -> Result:
    """Peak traced allocation while a ``size``-byte part streams from a file through the decoder."""
    with tempfile.TemporaryDirectory(prefix="bench-mtom-") as tmp:
        payload = Path(tmp) / "payload.bin"
        with payload.open("wb") as out:
            for _ in range(0, size, CHUNK):
                out.write(os.urandom(CHUNK))
        message = _message(payload)
        body = Path(tmp) / "body.mime"
        with body.open("wb") as out:
            for chunk in message.iter_bytes(CHUNK):
                out.write(chunk)
        tracemalloc.start()
        try:
            decoder = MtomDecoder(message.content_type)
            with body.open("rb") as stream:
                while chunk := stream.read(CHUNK):
                    decoder.feed(chunk)
            with decoder.close() as decoded:
                assert decoded.attachments["doc-1@urn:ihe:iti:xds-b:2007"].path is not None
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return Result(
        f"mtom decode peak memory, {size // MB} MB part from file",
        peak / MB,
        "MB",
        "payload size",
        size / MB,
        "< 64 MB",
    )


def run(quick: bool) -> list[Result]:
    sizes = [1 * MB, 50 * MB] if quick else [1 * MB, 50 * MB, 200 * MB]
    results: list[Result] = []
    for size in sizes:
        results += _throughput(size, repeat=(9 if size <= MB else 3) if not quick else 3)
    results.append(_decode_peak_memory(sizes[-1]))
    return results
