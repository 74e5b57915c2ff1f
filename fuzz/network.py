"""Hostile requests against the running mock, over real mutual TLS: what a misbehaving client can do to it.

The mock is served in this process (real uvicorn, real TLS, real SQLite) with short deadlines, so that slow
cases end within the campaign's time limit. Each case sends one hostile exchange: a mutated TD0.2 request, a
payload family in its body, a hostile MTOM body, a hostile Content-Type, a body or headers trickled byte by
byte, an endless chunked body, a flood of idle connections, or bytes that are not TLS. Oracles: every complete
request gets a SOAP 1.2 answer (never plain text, never a dropped connection); no internal error is answered or
logged; slow and endless exchanges are cut by the server's own deadlines; and a valid TD0.2 call made through
the SDK keeps succeeding (checked every few cases).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import random
import resource
import select
import socket
import ssl
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from dmpclient import DmpClient
from dmpclient.config import DmpConfig
from dmpclient.errors import DmpError
from dmpclient.hl7v3.patient_query import DmpStatus
from dmpclient.ids import InsOid
from dmpclient.security.credentials import load_pem
from dmpclient.security.issuer import CallerIdentity
from dmpclient.security.tls import client_context
from dmpclient.security.vihf import AuthMode, PatientId
from dmpclient.soap.envelope import build_request, new_message_id, read_soap
from dmpclient.soap.faults import fault_from_message
from fuzz.corpus import DOCTOR, INS, MTOM_CONTENT_TYPE, Corpus, test_existence_operation
from fuzz.mutations import MIME_FAMILIES, XML_FAMILIES, mutate_bytes, mutate_tree
from fuzz.runner import Finding
from mock_server.app import MockDmp
from mock_server.handlers import default_router
from mock_server.runtime import prepare
from mock_server.server import RunningServer, ServerLimits, start_in_thread

__all__ = ["NetworkReport", "run_network"]

#: The mock's deadlines during the campaign: slow exchanges must end within the per-case time limit.
LIMITS: Final = ServerLimits(handshake_timeout=1.0, header_timeout=1.0, keep_alive_timeout=0.5, shutdown_timeout=1.0)
BODY_TIMEOUT: Final = 1.0
LIVENESS_EVERY: Final = 20
_PATH: Final = "/si-dmp-server/v2/services/"
_SOAP_TYPE: Final = 'application/soap+xml; charset=UTF-8; action="urn:hl7-org:v3:PRPA_IN201307UV02"'
_INTERNAL_ERROR: Final = "Erreur interne du mock DMP"
_MAX_ENDLESS: Final = 24 * 1024 * 1024


@dataclass(slots=True)
class NetworkReport:
    """What the network campaign saw."""

    cases: int = 0
    families: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    slowest: tuple[float, str] = (0.0, "")
    liveness_checks: int = 0
    peak_rss_mb: float = 0.0


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class _ErrorLog(logging.Handler):
    """Counts ERROR records of the mock and of uvicorn (an escaped exception is a finding)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.name}: {record.getMessage()[:200]}")


# --- a raw HTTP/1.1 client over mutual TLS ------------------------------------------------------------


def _connect(server: RunningServer, context: ssl.SSLContext, timeout: float) -> ssl.SSLSocket:
    raw = socket.create_connection((server.host, server.port), timeout=timeout)
    return context.wrap_socket(raw, server_hostname=server.host)


def _read_answer(connection: socket.socket) -> _Answer | None:
    """Read one HTTP response (Content-Length or until close); None when the server closed without answering."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = _recv(connection)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "-1"))
    while length < 0 or len(body) < length:
        chunk = _recv(connection)
        if not chunk:
            break
        body += chunk
    return _Answer(status, headers, body[:length] if length >= 0 else body)


def _recv(connection: socket.socket) -> bytes:
    try:
        return connection.recv(65536)
    except (ConnectionError, ssl.SSLError, TimeoutError):
        return b""


def _exchange(
    server: RunningServer,
    context: ssl.SSLContext,
    head: bytes,
    chunks: Iterator[bytes],
    *,
    delay: float = 0.0,
    timeout: float = 10.0,
) -> _Answer | None:
    """Send ``head`` then the chunks (``delay`` seconds apart) and read the answer; the server may answer or
    close before everything was sent (a refused body), which is not an error of the exchange."""
    with _connect(server, context, timeout) as connection:
        with contextlib.suppress(ConnectionError, ssl.SSLError, TimeoutError):
            connection.sendall(head)
            for chunk in chunks:
                if delay:
                    time.sleep(delay)
                if _answered(connection):
                    break
                connection.sendall(chunk)
        return _read_answer(connection)


def _answered(connection: ssl.SSLSocket) -> bool:
    """The server already sent something (an early answer to a refused body): stop sending."""
    return connection.pending() > 0 or bool(select.select([connection], [], [], 0)[0])


def _head(service: str, content_type: str, length: int | None, *, extra: str = "") -> bytes:
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (
        f"POST {_PATH}{service} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n{framing}\r\n{extra}\r\n"
    ).encode("latin-1", "replace")


def _post(server: RunningServer, context: ssl.SSLContext, service: str, content_type: str, body: bytes) -> str | None:
    """One complete request; a finding unless the answer is a SOAP 1.2 message without an internal error."""
    answer = _exchange(server, context, _head(service, content_type, len(body)), iter((body,)))
    return _soap_problem(answer)


def _soap_problem(answer: _Answer | None) -> str | None:
    if answer is None:
        return "the mock closed the connection without answering a complete request"
    if not answer.headers.get("content-type", "").startswith("application/soap+xml"):
        return f"HTTP {answer.status} answered with {answer.headers.get('content-type')!r}, not SOAP"
    try:
        message = read_soap(answer.body)
    except DmpError as exc:
        return f"HTTP {answer.status} with an unreadable SOAP answer ({exc.message[:120]})"
    fault = fault_from_message(message)
    if fault is not None and _INTERNAL_ERROR in (fault.reason or ""):
        return f"an internal error was answered (HTTP {answer.status})"
    return None


# --- the cases -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _World:
    server: RunningServer
    context: ssl.SSLContext
    requests: tuple[bytes, ...]
    mtom_bodies: tuple[bytes, ...]


def _mutated(rng: random.Random, world: _World) -> str | None:
    seed = rng.choice(world.requests)
    body = mutate_tree(rng, seed) if rng.random() < 0.5 else mutate_bytes(rng, seed, world.requests)
    return _post(world.server, world.context, "patients", _SOAP_TYPE, body)


def _xml_family(rng: random.Random, world: _World) -> str | None:
    family = XML_FAMILIES[rng.choice(sorted(XML_FAMILIES))]
    body = family(rng, rng.choice(world.requests))[: 9 * 1024 * 1024]  # the plain-body bound is 8 MiB
    return _post(world.server, world.context, "patients", _SOAP_TYPE, body)


def _mime_family(rng: random.Random, world: _World) -> str | None:
    family = MIME_FAMILIES[rng.choice(sorted(MIME_FAMILIES))]
    return _post(
        world.server, world.context, "repository", MTOM_CONTENT_TYPE, family(rng, rng.choice(world.mtom_bodies))
    )


def _content_type(rng: random.Random, world: _World) -> str | None:
    content_type = rng.choice(
        ("", "text/plain", MTOM_CONTENT_TYPE, "multipart/related", "application/soap+xml; charset=EBCDIC", "é" * 300)
    )
    return _post(
        world.server,
        world.context,
        rng.choice(("patients", "repository", "nowhere")),
        content_type,
        rng.choice(world.requests),
    )


def _slow_body(rng: random.Random, world: _World) -> str | None:
    """A body trickled a byte at a time: cut by the mock's body deadline with a SOAP fault."""
    body = rng.choice(world.requests)
    chunks = (body[i : i + 1] for i in range(len(body)))
    answer = _exchange(world.server, world.context, _head("patients", _SOAP_TYPE, len(body)), chunks, delay=0.05)
    return _soap_problem(answer)


def _slow_headers(rng: random.Random, world: _World) -> str | None:
    """Headers trickled a byte at a time: the connection is dropped at the header deadline."""
    head = _head("patients", _SOAP_TYPE, 10) + b"x" * rng.randrange(1, 10)
    with _connect(world.server, world.context, 10.0) as connection:
        with contextlib.suppress(ConnectionError, ssl.SSLError, TimeoutError):
            for index in range(len(head)):
                connection.sendall(head[index : index + 1])
                time.sleep(0.1)
        answer = _read_answer(connection)
    return None if answer is None or answer.status >= 400 else f"slow headers got HTTP {answer.status}"


def _endless_body(rng: random.Random, world: _World) -> str | None:
    """A chunked body that never ends: refused at the 8 MiB plain-body bound (or the body deadline)."""
    block = b"%x\r\n%s\r\n" % (65536, rng.choice((b"<", b"a", b" ")) * 65536)
    chunks = (block for _ in range(_MAX_ENDLESS // 65536))
    answer = _exchange(world.server, world.context, _head("patients", _SOAP_TYPE, None), chunks)
    return _soap_problem(answer)


def _idle_flood(rng: random.Random, world: _World) -> str | None:
    """Connections that never finish their headers, then a complete request: it must be answered."""
    idle = []
    try:
        for _ in range(rng.choice((10, 50, 130))):
            connection = _connect(world.server, world.context, 10.0)
            connection.sendall(b"POST /si-dmp-server/v2/services/patients HTTP/1.1\r\nHost: x\r\n")
            idle.append(connection)
        return _post(world.server, world.context, "patients", _SOAP_TYPE, rng.choice(world.requests))
    finally:
        for connection in idle:
            connection.close()


def _not_tls(rng: random.Random, world: _World) -> str | None:
    """Plain bytes or a truncated ClientHello: the server drops them (and keeps serving, see liveness)."""
    payload = rng.choice((b"GET / HTTP/1.1\r\n\r\n", b"\x16\x03\x01\x02\x00\x01", rng.randbytes(512), b""))
    with socket.create_connection((world.server.host, world.server.port), timeout=10) as raw:
        with contextlib.suppress(ConnectionError):
            raw.sendall(payload)
        with contextlib.suppress(ConnectionError, TimeoutError):
            raw.recv(1024)
    return None


_CASES: Final[dict[str, tuple[float, Callable[[random.Random, _World], str | None]]]] = {
    "mutated-request": (0.4, _mutated),
    "xml-family": (0.2, _xml_family),
    "mime-family": (0.15, _mime_family),
    "content-type": (0.07, _content_type),
    "slow-body": (0.04, _slow_body),
    "slow-headers": (0.04, _slow_headers),
    "endless-body": (0.04, _endless_body),
    "idle-flood": (0.02, _idle_flood),
    "not-tls": (0.04, _not_tls),
}


def _fresh_requests(corpus: Corpus) -> tuple[bytes, ...]:
    """TD0.2 requests with INDIRECTE VIHFs issued now (reusable for 5 minutes, so mutations reach the handler)."""
    now = dt.datetime.now(dt.UTC)
    operation = test_existence_operation(now)
    identity = CallerIdentity(DOCTOR, mode=AuthMode.INDIRECTE)
    assertion = corpus.issuer().issue(identity, PatientId(ins=INS, oid=InsOid.TEST), now=now)
    action = operation.spec.request_action
    return tuple(
        build_request(operation.body, action=action, message_id=new_message_id(), assertion=assertion) for _ in range(3)
    )


def run_network(corpus: Corpus, *, cases: int, seed: int, data_dir: Path, time_limit: float = 2.0) -> NetworkReport:
    """Serve the mock on loopback over mutual TLS and send it ``cases`` hostile exchanges."""
    report = NetworkReport()
    runtime = prepare(data_dir, pki_dir=corpus.pki.directory)
    app = MockDmp(runtime.store, runtime.app.gate, default_router(), body_timeout=BODY_TIMEOUT)
    pki = corpus.pki
    errors = _ErrorLog()
    loggers = [logging.getLogger(name) for name in ("mock_server", "uvicorn.error")]
    for logger in loggers:
        logger.addHandler(errors)
    server = start_in_thread(
        app, server_cert=pki.server.cert, server_key=pki.server.key, client_ca=pki.ca_bundle, limits=LIMITS
    )
    context = client_context(load_pem(pki.org_auth.cert, pki.org_auth.key), pki.ca_bundle)
    world = _World(server, context, _fresh_requests(corpus), corpus.mtom_bodies)
    names = list(_CASES)
    weights = [_CASES[name][0] for name in names]
    try:
        with DmpClient(DmpConfig.for_test_pki(pki, base_url=server.services_url)) as client:
            for index in range(cases):
                rng = random.Random(f"{seed}/network/{index}")
                family = rng.choices(names, weights)[0]
                case = functools.partial(_CASES[family][1], rng, world)
                _run(report, family, index, case, errors, time_limit)
                if index % LIVENESS_EVERY == LIVENESS_EVERY - 1 or index == cases - 1:
                    _run(report, "liveness", index, lambda: _alive(client, corpus), errors, time_limit, count=False)
                    report.liveness_checks += 1
    finally:
        server.stop()
        runtime.close()
        for logger in loggers:
            logger.removeHandler(errors)
    report.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return report


def _alive(client: DmpClient, corpus: Corpus) -> str | None:
    try:
        answer = client.test_existence(INS, corpus.identity(), ins_oid=InsOid.TEST)
    except DmpError as exc:
        return f"a valid TD0.2 call failed: {type(exc).__name__}: {exc.message[:160]}"
    return None if answer.status is DmpStatus.ACTIVE else f"a valid TD0.2 call answered {answer.status}"


def _run(
    report: NetworkReport,
    family: str,
    index: int,
    action: Callable[[], str | None],
    errors: _ErrorLog,
    time_limit: float,
    *,
    count: bool = True,
) -> None:
    logged = len(errors.messages)
    started = time.perf_counter()
    try:
        problem = action()
    except Exception as exc:  # the campaign's own client failing is a finding too (e.g. a refused handshake)
        problem = f"{type(exc).__name__}: {str(exc)[:200]}"
    seconds = time.perf_counter() - started
    if count:
        report.cases += 1
        report.families[family] += 1
    if seconds > report.slowest[0]:
        report.slowest = (seconds, f"mock / {family} #{index}")
    target = "mock over mTLS"
    if problem is not None:
        report.findings.append(Finding("oracle", target, family, index, problem, seconds))
    if len(errors.messages) > logged:
        report.findings.append(Finding("exception", target, family, index, "; ".join(errors.messages[logged:])[:300]))
    if seconds > time_limit:
        report.findings.append(Finding("slow", target, family, index, f"{seconds:.2f} s", seconds))
