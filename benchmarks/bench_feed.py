"""Feeding (TD2.1): one large submission end to end, and a bulk feed to the mock DMP.

1. **One 10 MB CDA**: read it and derive its metadata, check every code, digest it (canonical form with
   comments), sign the XAdES "signature du lot", build the ITI-41 body and frame the MTOM request (the
   bytes are iterated as a transport would send them: the document streamed from its file). Baseline,
   same run: the irreducible cost of signing a document — one raw RSA signature plus a SHA-256 of the
   same bytes. The peak memory of the pipeline is reported against the document's size.
2. **Bulk feed**: 1,000 small CDA files (one submission each) to the mock (its own process, mutual TLS) at
   concurrency 8 with the journal on: documents per second and p99 per submission. Baseline, same run:
   TD0.2 calls (the cheapest authenticated call) at the same concurrency through the same client. Then the
   peak Python memory of a feed of N and of 5 × N documents (``tracemalloc``): flat means ratio ≈ 1.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Final

import httpx

from benchmarks._harness import MOCK_DMP_ONLY, Result, median_seconds
from dmpclient import CallerIdentity, DmpClient, InsOid
from dmpclient.codes import Code
from dmpclient.config import SERVICES_PATH, DmpConfig
from dmpclient.feeding import FeedOutcome, FeedStatus
from dmpclient.security.pki import TestPki, init_test_pki
from dmpclient.security.tls import client_context
from dmpclient.security.vihf import Actor, AuthMode, PatientId
from dmpclient.security.xades import ManifestReference
from dmpclient.security.xmldsig import SignatureAlgorithm
from dmpclient.soap.request import prepare_request
from dmpclient.transactions import feeding
from dmpclient.xds.cda_metadata import MetadataOverrides
from mock_server.seed.cda import CdaAuthor, CdaDocument, CdaPatient, NonXmlBody, Section, build_cda

INS: Final = "207058575627097"  # PATB-QUATRE (seed): an open DMP
DOCTOR: Final = Actor.professional("899900063480", name="LIBRE MAX", profession="10", specialty="SM26")
STRUCTURE: Final = CallerIdentity(DOCTOR, mode=AuthMode.INDIRECTE)
OPTIONS: Final = feeding.SubmissionOptions(
    content_type_code="07",
    defaults=MetadataOverrides(practice_setting_code=Code("ETABLISSEMENT", "1.2.250.1.213.1.1.4.9")),
)
_PATIENT: Final = CdaPatient(INS, InsOid.TEST, "PATB-QUATRE", "LAURENCE", "F", dt.date(1970, 5, 20))
_AUTHOR: Final = CdaAuthor(
    "899900063480", "LIBRE", "MAX", "10B0127189", "CENTRE HOSPITALIER DE TEST",
    Code("G15_10/SM26", "1.2.250.1.213.1.1.4.5", "Médecin - Qualifié en Médecine Générale (SM)"),
)  # fmt: skip
_REPO: Final = Path(__file__).resolve().parent.parent


def _cda(number: int, body: NonXmlBody | tuple[Section, ...]) -> bytes:
    return build_cda(
        CdaDocument(
            document_id=f"1.2.250.1.999.1.77.{number}",
            set_id=f"1.2.250.1.999.1.77.set.{number}",
            version=1,
            type_code=Code("11488-4", "2.16.840.1.113883.6.1", "CR de consultation"),
            title="Compte rendu de consultation",
            effective_time=dt.datetime(2026, 1, 14, 16, 45, tzinfo=dt.UTC),
            patient=_PATIENT,
            author=_AUTHOR,
            body=body,
            extra_template=None if isinstance(body, NonXmlBody) else "1.3.6.1.4.1.19376.1.3.3",  # XD-LAB
            facility_type=Code("SA01", "1.2.250.1.71.4.2.4"),
        )
    )


# --- one 10 MB CDA ---------------------------------------------------------------------------------


def _sections(size: int) -> tuple[Section, ...]:
    """A structured body of about ``size`` bytes: sections of result tables (a large lab report, ~630,000
    elements and attributes for 10 MB: the element budget's case; the level-1 CDA is the text budget's)."""
    row = ("Glycémie à jeun", "0,95", "g/L", "0,70 – 1,10", "normal")
    rows = max(size // 100, 1)
    per_section = 500
    return tuple(
        Section(f"Résultats {index + 1}", table=(("Analyse", "Résultat", "Unité", "Référence", "Interprétation"),
                                                 *([row] * min(per_section, rows - index * per_section))))
        for index in range((rows + per_section - 1) // per_section)
    )  # fmt: skip


def _large_submission(client: DmpClient, path: Path, assertion: bytes) -> int:
    """Everything the client does to one submission before the network; returns the bytes framed."""
    draft = feeding.draft_submission(client.context, [feeding.FeedDocument(content=path)], OPTIONS)
    signature = client.submission_signer.sign(
        submission_set_unique_id=draft.ids.submission_set_unique_id,
        documents=[ManifestReference(uid, digest) for uid, digest in draft.manifest()],
        signing_time=draft.ids.submission_time,
        signature_id=draft.signature_id,
    )
    op = draft.operation(signature)
    request = prepare_request(
        url="https://dmp.test" + SERVICES_PATH + "/repository",
        service="repository",
        td=op.td,
        action=op.spec.request_action,
        body=op.body,
        message_id="urn:uuid:00000000-0000-4000-8000-000000000001",
        assertion=assertion,
        idempotent=False,
        attachments=op.attachments,
    )
    return sum(len(chunk) for chunk in request.iter_content())


def _large(pki: TestPki, root: Path, quick: bool) -> list[Result]:
    """One structured CDA (many elements) and one level-1 CDA whose PDF is one base64 text over 10 MB."""
    size = (2 if quick else 10) * 1024 * 1024
    pdf = b"%PDF-1.4\n" + random.Random(7).randbytes((2 if quick else 9) * 1024 * 1024)
    documents = {
        "": _cda(1, _sections(size)),
        f" (level 1, {len(pdf) / 1e6:.1f} MB PDF)": _cda(2, NonXmlBody("application/pdf", pdf)),
    }
    results: list[Result] = []
    with DmpClient(DmpConfig.for_test_pki(pki)) as client:
        now = dt.datetime.now(dt.UTC)
        assertion = client.vihf_issuer.issue(STRUCTURE, PatientId(ins=INS, oid=InsOid.TEST), now=now)
        for kind, data in documents.items():
            path = root / f"large-{len(results)}.xml"
            path.write_bytes(data)
            results += _one_large(client, path, data, assertion, f"{len(data) / 1e6:.1f} MB CDA{kind}", quick)
    return results


def _one_large(client: DmpClient, path: Path, data: bytes, assertion: bytes, label: str, quick: bool) -> list[Result]:
    signer = client.submission_signer.signer
    repeat = 3 if quick else 5
    pipeline = median_seconds(lambda: _large_submission(client, path, assertion), repeat=repeat)

    def baseline() -> bytes:
        signer.sign(hashlib.sha256(data).digest(), SignatureAlgorithm.RSA_SHA256)
        return hashlib.sha256(data).digest()

    floor = median_seconds(baseline, repeat=repeat)
    tracemalloc.start()
    _large_submission(client, path, assertion)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return [
        Result(
            f"TD2.1 build + sign + frame one {label}",
            pipeline * 1000,
            "ms",
            "one RSA signature + SHA-256 of the same bytes",
            floor * 1000,
        ),
        Result(f"TD2.1 peak Python memory for one {label}", peak / 1e6, "MB", "document size", len(data) / 1e6),
    ]


# --- bulk feed to the mock -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(root: Path, pki: TestPki, port: int, config: DmpConfig) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "mock_server", "serve", "--data", str(root / "data"), "--pki", str(pki.directory)]
    with (root / "mock.log").open("wb") as log:
        command += ["--port", str(port), *MOCK_DMP_ONLY]
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=_REPO)
    context = client_context(config.load_tls_credential(), pki.ca_bundle)
    with httpx.Client(verify=context, timeout=2) as http:
        for _ in range(450):
            if process.poll() is not None:
                raise RuntimeError(f"the mock exited with {process.returncode}; see {root / 'mock.log'}")
            try:
                http.get(f"https://127.0.0.1:{port}/health")
                return process
            except httpx.HTTPError:
                time.sleep(0.2)
    process.terminate()
    raise RuntimeError("the mock did not start")


def _files(directory: Path, first: int, count: int) -> Iterator[Path]:
    """``count`` small CDA files, written as they are asked for (the feed reads a generator)."""
    directory.mkdir(parents=True, exist_ok=True)
    body = NonXmlBody("application/pdf", hashlib.shake_256(b"small").digest(3000))
    for number in range(first, first + count):
        path = directory / f"cr-{number}.xml"
        path.write_bytes(_cda(number, body))
        yield path


def _feed(client: DmpClient, root: Path, first: int, count: int) -> tuple[float, list[float]]:
    seconds: list[float] = []

    def keep(outcome: FeedOutcome) -> None:
        if outcome.status is not FeedStatus.SENT:
            raise RuntimeError(f"{outcome.source}: {outcome.status.value} {outcome.message}")
        seconds.append(outcome.seconds)

    files = list(_files(root / f"in-{first}", first, count))  # written before the clock starts
    report = client.feed_many(
        files, STRUCTURE, options=OPTIONS, journal=root / f"journal-{first}.sqlite3", concurrency=8, on_outcome=keep
    )
    return count / report.seconds, seconds


def _memory(client: DmpClient, root: Path, first: int, count: int) -> tuple[int, int]:
    """Peak and retained (after the feed) Python memory of a feed of ``count`` documents, in bytes."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    report = client.feed_many(
        _files(root / f"in-{first}", first, count),
        STRUCTURE,
        options=OPTIONS,
        journal=root / "m.sqlite3",
        concurrency=8,
    )
    gc.collect()
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if not report.ok:
        raise RuntimeError(f"the feed failed: {report.counts}")
    return peak - before, retained - before


def _td02(client: DmpClient, count: int) -> tuple[float, list[float]]:
    """TD0.2 calls per second at concurrency 8 through the same client, and the seconds of each call."""

    def one(_: int) -> float:
        started = time.perf_counter()
        answer = client.test_existence(INS, STRUCTURE, ins_oid=InsOid.TEST)
        assert answer.status.value == "active"
        return time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        seconds = list(pool.map(one, range(count)))
    return count / (time.perf_counter() - started), seconds


def _percentiles(seconds: list[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds."""
    return statistics.median(seconds) * 1000, statistics.quantiles(seconds, n=100, method="inclusive")[98] * 1000


def _bulk(pki: TestPki, root: Path, quick: bool) -> list[Result]:
    port = _free_port()
    config = DmpConfig.for_test_pki(pki, base_url=f"https://127.0.0.1:{port}{SERVICES_PATH}")
    server = _serve(root, pki, port, config)
    small, large = (60, 300) if quick else (200, 1000)
    documents = 300 if quick else 1000
    try:
        with DmpClient(config) as client:
            _feed(client, root, 1, 16)  # warm-up: connections, caches
            rate, seconds = _feed(client, root, 1000, documents)
            td02, td02_seconds = _td02(client, documents)
            peak_small, kept_small = _memory(client, root, 100_000, small)
            peak_large, kept_large = _memory(client, root, 200_000, large)
    finally:
        server.terminate()
        server.wait(timeout=30)
    (p50, p99), (td02_p50, td02_p99) = _percentiles(seconds), _percentiles(td02_seconds)
    return [
        Result(f"bulk feed, {documents} documents, concurrency 8", rate, "docs/s", "TD0.2 calls/s, same client", td02),
        Result("bulk feed p50 per submission", p50, "ms", "TD0.2 p50, same client and concurrency", td02_p50),
        Result("bulk feed p99 per submission", p99, "ms", "TD0.2 p99, same client and concurrency", td02_p99),
        Result(
            f"bulk feed peak Python memory, {large} documents",
            peak_large / 1e6,
            "MB",
            f"{small} documents",
            peak_small / 1e6,
            "ratio ≈ 1 (flat)",
        ),
        Result(
            f"bulk feed Python memory retained after {large} documents",
            kept_large / 1e3,
            "KB",
            f"{small} documents",
            kept_small / 1e3,
        ),
    ]


def run(quick: bool) -> list[Result]:
    """The 10 MB submission against its same-run floor, then the bulk feed against TD0.2 calls."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        pki = init_test_pki(root / "pki")
        return [*_large(pki, root, quick), *_bulk(pki, root, quick)]
