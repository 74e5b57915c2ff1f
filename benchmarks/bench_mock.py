"""Mock DMP throughput: authenticated TD0.2 calls per second at 1 and 32 clients, p50/p99, and the VIHF check.

Realistic on a small machine: the mock runs in its own process (``python -m mock_server serve`` on a free
loopback port, temporary data and PKI); this process generates the load with asyncio + httpx over mutual
TLS with keep-alive. Each timed phase sends pre-built, pre-signed envelopes carrying unique AIR VIHFs (built
just before the phase: AIR tokens live 30 s and are single use), so client-side signing is not measured.

Baseline, same run: the same load against a trivial ASGI app answering a fixed SOAP response (a real TD0.2
answer captured from the mock) behind the same mutual-TLS harness (:mod:`mock_server.server`), also in its
own process. The ratio is the mock's own cost (routing, XML, VIHF, rights, SQLite, trace) over bare TLS+HTTP.
Target (issue "Mock DMP server"): ≥ 300 req/s at 32 clients with p99 < 200 ms.

Run as ``python -m benchmarks.bench_mock PKI_DIR PORT RESPONSE_FILE`` it serves that baseline app.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx

from benchmarks._harness import MOCK_DMP_ONLY, Result, median_seconds
from dmpclient import issuer_from_config
from dmpclient.config import SERVICES_PATH, DmpConfig
from dmpclient.hl7v3.wrapper import Device
from dmpclient.ids import InsOid
from dmpclient.security.credentials import load_pem
from dmpclient.security.issuer import CallerIdentity, VihfIssuer
from dmpclient.security.pki import TestPki, init_test_pki, load_test_pki
from dmpclient.security.tls import client_context
from dmpclient.security.verify import VerificationPolicy, verify_vihf
from dmpclient.security.vihf import Actor, PatientId, certificate_dn
from dmpclient.soap.envelope import build_request, new_message_id, read_soap
from dmpclient.transactions import patients
from dmpclient.transactions.context import CallContext
from mock_server.server import serve_forever

INS: Final = "207058575627097"  # PATB-QUATRE (seed): an open DMP, the caller is her médecin traitant
IDENTITY: Final = CallerIdentity(
    Actor.professional("899900063480", name="LIBRE MAX", profession="10", specialty="SM26")
)
HEADERS: Final = {"Content-Type": 'application/soap+xml; charset=UTF-8; action="urn:hl7-org:v3:PRPA_IN201307UV02"'}
ANSWER_MARKER: Final = b"PRPA_IN201308UV02"
PHASE_SECONDS: Final = 15.0  # keeps every AIR token of a phase well under its 30 s lifetime
MOCK: Final = "mock DMP"
BARE: Final = "bare mTLS ASGI app"
_REPO: Final = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Phase:
    """One timed load phase: latencies of the successful calls, failures, wall time."""

    latencies: list[float]
    errors: int
    elapsed: float

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.elapsed

    def percentile_ms(self, p: int) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1] * 1000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(args: list[str], log: Path, context: ssl.SSLContext, port: int) -> subprocess.Popen[bytes]:
    """Start ``python -m ARGS`` (a server on ``port``) and wait until its /health answers over mutual TLS."""
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", *args], stdout=out, stderr=subprocess.STDOUT, cwd=_REPO)
    deadline = time.monotonic() + 90
    with httpx.Client(verify=context, timeout=2) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"python -m {args[0]} exited with {process.returncode}; see {log}")
            try:
                http.get(f"https://127.0.0.1:{port}/health")
                return process
            except httpx.HTTPError:
                time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"python -m {args[0]} did not start on port {port} within 90 s")


def _envelopes(issuer: VihfIssuer, count: int) -> list[bytes]:
    """``count`` TD0.2 requests, each with its own MessageID and freshly signed AIR VIHF."""
    op = patients.test_existence(CallContext(Device("1.2.250.1.999.1", "BENCH")), INS, InsOid.TEST)
    patient = PatientId(ins=INS, oid=InsOid.TEST)
    return [
        build_request(
            op.body,
            action=op.spec.request_action,
            message_id=new_message_id(),
            assertion=issuer.issue(IDENTITY, patient, now=dt.datetime.now(dt.UTC)),
        )
        for _ in range(count)
    ]


async def _load(url: str, context: ssl.SSLContext, envelopes: list[bytes], concurrency: int) -> Phase:
    """``concurrency`` clients, each with its own keep-alive connection (opened by one untimed warm-up call),
    send the envelopes until they run out or the phase time is over."""
    queue = deque(envelopes)
    latencies: list[float] = []
    failures: list[int] = []

    async def one(http: httpx.AsyncClient, record: bool) -> None:
        body = queue.popleft()
        started = time.perf_counter()
        response = await http.post(url, content=body, headers=HEADERS)
        elapsed = time.perf_counter() - started
        ok = response.status_code == 200 and ANSWER_MARKER in response.content
        if record and ok:
            latencies.append(elapsed)
        elif record:
            failures.append(response.status_code)

    async def client(ready: asyncio.Barrier, stop: list[float]) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(verify=context, limits=limits, timeout=30) as http:
            await one(http, record=False)
            await ready.wait()
            while queue and time.perf_counter() < stop[0]:
                await one(http, record=True)

    ready = asyncio.Barrier(concurrency + 1)
    stop = [float("inf")]
    tasks = [asyncio.create_task(client(ready, stop)) for _ in range(concurrency)]
    await ready.wait()
    started = time.perf_counter()
    stop[0] = started + PHASE_SECONDS
    await asyncio.gather(*tasks)
    return Phase(latencies, len(failures), time.perf_counter() - started)


def _phases(
    issuer: VihfIssuer, context: ssl.SSLContext, urls: dict[str, str], sizes: dict[int, int]
) -> dict[tuple[str, int], Phase]:
    results: dict[tuple[str, int], Phase] = {}
    for concurrency, size in sizes.items():
        pool = _envelopes(issuer, size + concurrency)  # built right before the phase that consumes it
        for name, url in urls.items():
            results[name, concurrency] = asyncio.run(_load(url, context, pool, concurrency))
    return results


def _vihf_check_ms(pki: TestPki, issuer: VihfIssuer, quick: bool) -> float:
    """The gate's VIHF verification alone (signature, chain, every rule) on a pre-built assertion."""
    policy = VerificationPolicy.from_ca_file(pki.ca_bundle, replay_cache=None)  # the same token, verified again
    tls_subject = certificate_dn(load_pem(pki.org_auth.cert, pki.org_auth.key).certificate)
    assertion = read_soap(_envelopes(issuer, 1)[0]).assertion
    assert assertion is not None

    def verify() -> object:
        return verify_vihf(assertion, policy, now=dt.datetime.now(dt.UTC), tls_client_subject=tls_subject)

    return median_seconds(verify, repeat=5 if quick else 9, number=20 if quick else 100) * 1000


def run(quick: bool) -> list[Result]:
    """Serve the mock and the bare app in subprocesses, load both, report throughput, latencies and VIHF cost."""
    sizes = {1: 150, 32: 1500} if quick else {1: 400, 32: 4000}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        pki = init_test_pki(root / "pki")
        config = DmpConfig.for_test_pki(pki, base_url="https://127.0.0.1:1" + SERVICES_PATH)
        issuer = issuer_from_config(config)
        context = client_context(config.load_tls_credential(), pki.ca_bundle)
        ports = {MOCK: _free_port(), BARE: _free_port()}
        urls = {name: f"https://127.0.0.1:{port}{SERVICES_PATH}/patients" for name, port in ports.items()}
        servers: list[subprocess.Popen[bytes]] = []
        try:
            mock_args = [
                "mock_server",
                "serve",
                "--data",
                str(root / "data"),
                "--pki",
                str(pki.directory),
                *MOCK_DMP_ONLY,
            ]
            servers.append(_serve([*mock_args, "--port", str(ports[MOCK])], root / "mock.log", context, ports[MOCK]))
            with httpx.Client(verify=context, timeout=30) as http:
                answer = http.post(urls[MOCK], content=_envelopes(issuer, 1)[0], headers=HEADERS).raise_for_status()
            (root / "answer.xml").write_bytes(answer.content)
            bare_args = ["benchmarks.bench_mock", str(pki.directory), str(ports[BARE]), str(root / "answer.xml")]
            servers.append(_serve(bare_args, root / "bare.log", context, ports[BARE]))
            phases = _phases(issuer, context, urls, sizes)
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
        vihf_ms = _vihf_check_ms(pki, issuer, quick)
    return _report(phases, vihf_ms)


def _report(phases: dict[tuple[str, int], Phase], vihf_ms: float) -> list[Result]:
    results: list[Result] = []
    for concurrency in (1, 32):
        mine, bare = phases[MOCK, concurrency], phases[BARE, concurrency]
        clients = f"{concurrency} client{'s' if concurrency > 1 else ''}"
        versus = f"{BARE}, {clients}"
        results += [
            Result(
                f"mock TD0.2 throughput, {clients} ({len(mine.latencies)} ok, {mine.errors} failed)",
                mine.rps,
                "req/s",
                versus,
                bare.rps,
                ">= 300 req/s" if concurrency == 32 else "",
            ),
            Result(f"mock TD0.2 p50 latency, {clients}", mine.percentile_ms(50), "ms", versus, bare.percentile_ms(50)),
            Result(
                f"mock TD0.2 p99 latency, {clients}",
                mine.percentile_ms(99),
                "ms",
                versus,
                bare.percentile_ms(99),
                "< 200 ms" if concurrency == 32 else "",
            ),
        ]
    whole = phases[MOCK, 1].percentile_ms(50)
    results.append(Result("VIHF check per request (verify_vihf)", vihf_ms, "ms", "whole TD0.2 request p50", whole))
    return results


# --- the baseline server (run in its own process) ----------------------------------------------------

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def fixed_answer_app(answer: bytes) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """An ASGI app that reads the request body and always answers ``answer`` (SOAP 1.2)."""
    headers = [(b"content-type", b"application/soap+xml; charset=UTF-8"), (b"content-length", b"%d" % len(answer))]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["path"] != "/health":
            while (await receive()).get("more_body"):
                pass
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    return app


if __name__ == "__main__":
    pki_dir, port, answer_file = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    loaded = load_test_pki(pki_dir)
    serve_forever(
        fixed_answer_app(answer_file.read_bytes()),
        port=port,
        server_cert=loaded.server.cert,
        server_key=loaded.server.key,
        client_ca=loaded.ca_bundle,
        log_level="warning",
    )
