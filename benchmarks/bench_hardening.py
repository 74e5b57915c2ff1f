"""Hardening (issue "Hardening"): redaction time on hostile text, memory of a hostile response, the mock under idle
connections.

* DEBUG redaction of 1 MB of hostile text, three shapes (a run of ordinary characters, unparseable markup,
  well-formed XML full of values to mask), against a plain copy of the same text (UTF-8 decode). The previous,
  pattern-based redaction was quadratic on the first shape: 6.7 s for 40 KB, 47 s for 80 KB.
* MTOM decoding of a body of 999 parts fed as one chunk, against the same body fed in 64 KiB chunks (the MIME
  reader was quadratic when a large chunk held many parts).
* Peak memory growth while the pure read path (``read_soap``) reads a response of empty elements at the client's
  byte limit (64 MiB, ``DmpConfig.max_response_bytes``), and one just under the element budget, measured in a fresh
  process (libxml2's memory is invisible to tracemalloc), against the response size. Target: refused or ≤ 4×.
* The mock's p99 for valid TD0.2 calls (32 clients, keep-alive, mutual TLS) while 130 mutual-TLS connections that
  never finish their headers are kept open (re-opened when the mock drops them), against the same load without
  them, same run. Target: within 2×.
"""

from __future__ import annotations

import asyncio
import functools
import json
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Final

from benchmarks._harness import MOCK_DMP_ONLY, Result, median_seconds
from benchmarks.bench_mock import Phase, _envelopes, _free_port, _load, _serve
from dmpclient import issuer_from_config
from dmpclient._logging import redact
from dmpclient.config import SERVICES_PATH, DmpConfig
from dmpclient.security.pki import init_test_pki
from dmpclient.security.tls import client_context
from dmpclient.soap.mtom import MtomDecoder

IDLE: Final = 130
CLIENT_LIMIT: Final = 64 * 1024 * 1024
_REPO: Final = Path(__file__).resolve().parent.parent
_PARTIAL: Final = b"POST " + SERVICES_PATH.encode() + b"/patients HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty"


# --- redaction ------------------------------------------------------------------------------------------------


def _hostile_texts(size: int) -> dict[str, bytes]:
    record = (
        b"<hl7:patient><hl7:id root='1.2.250.1.213.1.4.10' extension='207058575627097'/><hl7:name>"
        b"<hl7:given>Laurence</hl7:given><hl7:family>PATB-QUATRE</hl7:family></hl7:name>"
        b"<hl7:telecom value='tel:+33612345678'/></hl7:patient>"
    )
    xml = b'<r xmlns:hl7="urn:hl7-org:v3">' + record * (size // len(record)) + b"</r>"
    return {
        "a run of ordinary characters": b"a" * size,
        "unparseable markup": b"<a b='" * (size // 6),
        "well-formed, all masked": xml,
    }


def _redaction(quick: bool) -> list[Result]:
    results = []
    for shape, data in _hostile_texts(1_000_000).items():
        repeat, number = (3, 1) if quick else (5, 2)
        seconds = median_seconds(functools.partial(redact, data), repeat=repeat, number=number)
        copy = median_seconds(functools.partial(data.decode, "utf-8", "replace"), repeat=repeat, number=number)
        results.append(
            Result(
                f"DEBUG redaction of 1 MB of hostile text ({shape})",
                seconds * 1000,
                "ms",
                "a plain copy of the same text (UTF-8 decode)",
                copy * 1000,
                "well under 1 s",
            )
        )
    return results


# --- MTOM in one chunk ---------------------------------------------------------------------------------------


def _mtom_body(parts: int, size: int) -> bytes:
    """A body of ``parts`` attachments of ``size`` bytes (CRLF framing, as Apache CXF writes it)."""
    pieces = [b"--b1\r\nContent-ID: <root@x>\r\n\r\n<e/>"]
    pieces += [b"\r\n--b1\r\nContent-ID: <p%d@x>\r\n\r\n" % index + b"x" * size for index in range(parts)]
    return b"".join([*pieces, b"\r\n--b1--\r\n"])


def _decode(body: bytes, chunk: int) -> None:
    decoder = MtomDecoder('multipart/related; boundary="b1"; start="<root@x>"', spool_threshold=1 << 30)
    for start in range(0, len(body), chunk):
        decoder.feed(body[start : start + chunk])
    decoder.close().close()


def _mtom_one_chunk(quick: bool) -> list[Result]:
    body = _mtom_body(999, 4096 if quick else 8192)
    repeat = 3 if quick else 5
    whole = median_seconds(functools.partial(_decode, body, len(body)), repeat=repeat)
    chunked = median_seconds(functools.partial(_decode, body, 65536), repeat=repeat)
    return [
        Result(
            f"MTOM decode, 999 parts in one {len(body) / 2**20:.1f} MB chunk (was quadratic)",
            whole * 1000,
            "ms",
            "the same body fed in 64 KiB chunks",
            chunked * 1000,
            "~1x (linear)",
        )
    ]


# --- memory of a hostile response -----------------------------------------------------------------------------

_MEMORY_PROBE: Final = """
import json, sys
from dmpclient.errors import DmpError
from dmpclient.soap.envelope import read_soap

def status_kb(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))

count, limit = int(sys.argv[1]), int(sys.argv[2])
head = b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><r>'
data = head + b"<a/>" * count + b"</r></s:Body></s:Envelope>"
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # resets VmHWM: the imports' transient peak must not hide the call's
before = status_kb("VmRSS")
try:
    outcome = f"accepted ({len(read_soap(data, max_bytes=limit).body)} elements)"
except DmpError as exc:
    outcome = "refused: " + type(exc).__name__
growth = max(0, status_kb("VmHWM") - before) * 1024
print(json.dumps({"size": len(data), "growth": growth, "outcome": outcome}))
"""


def _probe(count: int) -> dict[str, object]:
    """Peak RSS growth of one ``read_soap`` in a fresh process (after the input itself is built)."""
    command = [sys.executable, "-c", _MEMORY_PROBE, str(count), str(CLIENT_LIMIT)]
    result = subprocess.run(command, capture_output=True, text=True, check=True, cwd=_REPO, timeout=600)
    probe: dict[str, object] = json.loads(result.stdout)
    return probe


def _memory() -> list[Result]:
    results = []
    for label, count, target in (
        ("at the 64 MiB byte limit", (CLIENT_LIMIT - 100) // 4, "refused or <= 4x"),
        ("just under the element budget (the budget's worst case)", 499_000, "information"),
    ):
        probe = _probe(count)
        size, growth = float(probe["size"]), float(probe["growth"])  # type: ignore[arg-type]
        results.append(
            Result(
                f"read_soap peak memory growth, empty elements {label}: {probe['outcome']}",
                growth / 2**20,
                "MB",
                f"the response size ({size / 2**20:.1f} MB)",
                size / 2**20,
                target,
            )
        )
    return results


# --- the mock under idle connections --------------------------------------------------------------------------


class _IdleConnections:
    """Keeps ``count`` mutual-TLS connections open that never finish their headers (re-opened when dropped)."""

    def __init__(self, port: int, context: ssl.SSLContext, count: int) -> None:
        self._port, self._context, self._count = port, context, count
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="idle-connections")
        self.opened = 0

    def _open(self) -> ssl.SSLSocket:
        raw = socket.create_connection(("127.0.0.1", self._port), timeout=10)
        connection = self._context.wrap_socket(raw, server_hostname="127.0.0.1")
        connection.sendall(_PARTIAL)
        connection.setblocking(False)
        self.opened += 1
        return connection

    def _run(self) -> None:
        connections = [self._open() for _ in range(self._count)]
        while not self._stop.wait(0.2):
            for index, connection in enumerate(connections):
                try:
                    closed = connection.recv(1) == b""
                except ssl.SSLWantReadError:
                    closed = False
                except OSError:
                    closed = True
                if closed:
                    connection.close()
                    connections[index] = self._open()
        for connection in connections:
            connection.close()

    def __enter__(self) -> _IdleConnections:
        self._thread.start()
        while self.opened < self._count:
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)


def _mock_under_idle(quick: bool) -> list[Result]:
    requests = 600 if quick else 1500
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        pki = init_test_pki(root / "pki")
        config = DmpConfig.for_test_pki(pki, base_url="https://127.0.0.1:1" + SERVICES_PATH)
        issuer = issuer_from_config(config)
        context = client_context(config.load_tls_credential(), pki.ca_bundle)
        port = _free_port()
        url = f"https://127.0.0.1:{port}{SERVICES_PATH}/patients"
        args = [
            "mock_server",
            "serve",
            "--data",
            str(root / "data"),
            "--pki",
            str(pki.directory),
            *MOCK_DMP_ONLY,
            "--port",
            str(port),
        ]
        server = _serve(args, root / "mock.log", context, port)
        try:
            quiet = asyncio.run(_load(url, context, _envelopes(issuer, requests + 32), 32))
            with _IdleConnections(port, context, IDLE) as idle:
                busy = asyncio.run(_load(url, context, _envelopes(issuer, requests + 32), 32))
            reopened = idle.opened - IDLE
        finally:
            server.terminate()
            server.wait(timeout=30)
    return _report(quiet, busy, reopened)


def _report(quiet: Phase, busy: Phase, reopened: int) -> list[Result]:
    label = f"{IDLE} idle mTLS connections open ({reopened} re-opened after the mock dropped them)"
    return [
        Result(
            f"mock TD0.2 p99, 32 clients, {label}; {len(busy.latencies)} ok, {busy.errors} failed",
            busy.percentile_ms(99),
            "ms",
            f"the same load without them ({len(quiet.latencies)} ok, {quiet.errors} failed)",
            quiet.percentile_ms(99),
            "within 2x",
        ),
        Result(f"mock TD0.2 throughput, 32 clients, {label}", busy.rps, "req/s", "without them", quiet.rps),
    ]


def run(quick: bool) -> list[Result]:
    """Redaction, memory and idle-connection figures, each with its same-run baseline."""
    return [*_redaction(quick), *_mtom_one_chunk(quick), *_memory(), *_mock_under_idle(quick)]
