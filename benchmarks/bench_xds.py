"""Consultation (TD3.1 / TD3.2): decoding search answers, streaming a large document, finding new versions.

- decode: a 1 000-entry FindDocuments LeafClass answer (realistic DMP entries: 11 slots, 9 classifications,
  2 identifiers each), bytes → :class:`QueryResult` of frozen models (hardened parse included), against a bare
  ``lxml.etree.fromstring`` + ``iterfind`` extraction of the same fields into dicts (target ≤ 2×);
- retrieve: a 200 MB document (20 MB with ``--quick``) retrieved over mutual TLS from the mock running in its
  own process, streamed to disk and checked against its size and SHA-1, in a client process of its own whose
  peak RSS growth is measured (target < 64 MB); throughput against a loopback TCP copy of the same bytes into
  a file, same run;
- new versions: ``find_new_versions`` for a patient with 200 documents, none replaced (target: 1 round trip)
  and 5 replaced, against the naive strategy (one GetRelatedDocuments per integrated document), same mock.

Run as ``python -m benchmarks.bench_xds retrieve CONFIG UNIQUE_ID OUT`` it is the measured client process.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import resource
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Final

from lxml import etree

from benchmarks._harness import MOCK_DMP_ONLY, Result, median_seconds
from benchmarks.bench_mock import _free_port, _serve
from dmpclient import Actor, CallerIdentity, DmpClient, DmpConfig, InsOid
from dmpclient._xml import NS, parse_untrusted
from dmpclient.codes import Code
from dmpclient.ids import make_ins
from dmpclient.security.credentials import load_pem
from dmpclient.security.pki import TestPki, init_test_pki
from dmpclient.security.tls import client_context
from dmpclient.xds.codes import AssociationType, AvailabilityStatus
from dmpclient.xds.identifiers import Cx, Xcn, Xon
from dmpclient.xds.models import Author, DocumentEntry
from dmpclient.xds.queries import GetRelatedDocuments
from dmpclient.xds.results import build_query_response, read_query_response
from dmpclient.xds.versions import KnownDocument
from mock_server.runtime import prepare
from mock_server.server import start_in_thread
from mock_server.store import Store, database_path
from mock_server.store.records import Association, NewDocument, Patient

MB: Final = 1_000_000
INS: Final = "207058575627097"
DOCTOR: Final = CallerIdentity(Actor.professional("899900063480", name="LIBRE MAX", profession="10", specialty="SM26"))
_RIM: Final = NS["rim"]


# --- decode -------------------------------------------------------------------------------------


def _entries(count: int) -> list[DocumentEntry]:
    author = Author(
        person=Xcn(id="899900063480", family="LIBRE", given="MAX", assigning_authority="1.2.250.1.71.4.2.1",
                   name_type="D", id_type="IDNPS"),
        institutions=(Xon(name="CABINET DR LIBRE", assigning_authority="1.2.250.1.71.4.2.2", id_type="IDNST",
                          id="499900063480001"),),
        specialties=(Code("G15_10/SM26", "1.2.250.1.213.1.1.4.5", "Médecin - Qualifié en Médecine Générale (SM)"),),
    )  # fmt: skip
    base = DocumentEntry(
        entry_uuid="urn:uuid:00000000-0000-4000-8000-000000000000",
        unique_id="1.2.250.1.999.1",
        patient_id=Cx.patient(INS, InsOid.TEST),
        status=AvailabilityStatus.APPROVED,
        logical_id="urn:uuid:00000000-0000-4000-8000-000000000000",
        version="1",
        title="Compte rendu de consultation",
        class_code=Code("10", "1.2.250.1.213.1.1.4.1", "Compte rendu"),
        type_code=Code("11488-4", "2.16.840.1.113883.6.1", "CR de consultation"),
        format_code=Code("urn:ihe:iti:xds-sd:pdf:2008", "1.3.6.1.4.1.19376.1.2.3", "PDF"),
        healthcare_facility_type_code=Code("SA07", "1.2.250.1.71.4.2.4", "Cabinet individuel"),
        practice_setting_code=Code("AMBULATOIRE", "1.2.250.1.213.1.1.4.9", "Ambulatoire"),
        confidentiality_codes=(Code("N", "2.16.840.1.113883.5.25", "Normal"),),
        event_codes=(Code("BACA008", "1.2.250.1.213.2.5", "Acte"),),
        authors=(author,),
        legal_authenticator=author.person,
        creation_time=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        service_start_time=dt.datetime(2024, 12, 31, tzinfo=dt.UTC),
        service_stop_time=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        language_code="fr-FR",
        hash="4e1243bd22c66e76c2ba9eddc1f91394e57f9f83",
        size=123456,
        repository_unique_id="1.2.250.1.213.4.1.1.1.2",
        source_patient_id=Cx.patient(INS, InsOid.TEST),
        source_patient_info=("PID-5|PATB-QUATRE^LAURENCE^^^^^L", "PID-7|19700520", "PID-8|F"),
    )
    return [
        base.model_copy(
            update={
                "entry_uuid": f"urn:uuid:{uuid.UUID(int=n, version=4)}",
                "logical_id": f"urn:uuid:{uuid.UUID(int=n, version=4)}",
                "unique_id": f"1.2.250.1.999.1.{n}",
                "creation_time": base.creation_time + dt.timedelta(hours=n) if base.creation_time else None,
            }
        )
        for n in range(count)
    ]


def _localized(parent: etree._Element) -> str | None:
    found = parent.find(f"{{{_RIM}}}LocalizedString")
    return found.get("value") if found is not None else None


def _bare_extract(data: bytes) -> list[dict[str, Any]]:
    """The baseline: lxml parse, then iterfind over every field into plain dicts."""
    rim = f"{{{_RIM}}}"
    values = f"{rim}ValueList/{rim}Value"
    root = etree.fromstring(data)
    entries = []
    for eo in root.iterfind(f".//{rim}ExtrinsicObject"):
        entry: dict[str, Any] = {key: eo.get(key) for key in ("id", "lid", "status", "mimeType", "objectType")}
        entry["slots"] = {
            slot.get("name"): [v.text for v in slot.iterfind(f"{rim}ValueList/{rim}Value")]
            for slot in eo.iterfind(f"{rim}Slot")
        }
        name, description = eo.find(f"{rim}Name"), eo.find(f"{rim}Description")
        entry["title"] = _localized(name) if name is not None else None
        entry["comments"] = _localized(description) if description is not None else None
        entry["classifications"] = [
            (
                c.get("classificationScheme"),
                c.get("nodeRepresentation"),
                {s.get("name"): [v.text for v in s.iterfind(values)] for s in c.iterfind(f"{rim}Slot")},
                _localized(n) if (n := c.find(f"{rim}Name")) is not None else None,
            )
            for c in eo.iterfind(f"{rim}Classification")
        ]
        entry["identifiers"] = [
            (i.get("identificationScheme"), i.get("value")) for i in eo.iterfind(f"{rim}ExternalIdentifier")
        ]
        entries.append(entry)
    return entries


def _decode_results(quick: bool) -> list[Result]:
    data = etree.tostring(build_query_response(_entries(1000)))
    assert len(read_query_response(parse_untrusted(data)).documents) == len(_bare_extract(data)) == 1000
    repeat = 5 if quick else 11
    ours = median_seconds(lambda: read_query_response(parse_untrusted(data)), repeat=repeat)
    bare = median_seconds(lambda: _bare_extract(data), repeat=repeat)
    return [
        Result(
            f"decode FindDocuments LeafClass, 1000 entries ({len(data) // 1000} KB) → models",
            ours * 1000,
            "ms",
            "lxml fromstring + iterfind extraction to dicts",
            bare * 1000,
            "≤ 2×",
        )
    ]


# --- retrieve a large document --------------------------------------------------------------------


def _add_document(data_dir: Path, content: bytes) -> str:
    """Register ``content`` as a new document of PATB-QUATRE (beside the seed), returning its uniqueId."""
    with Store.open(database_path(data_dir)) as store:
        template = store.find_documents(INS)[0]
        submission = store.get_submission_set(template.submission_set_id or "")
        assert submission is not None
        set_id, entry_uuid = f"urn:uuid:{uuid.uuid4()}", f"urn:uuid:{uuid.uuid4()}"
        unique_id = f"1.2.250.1.999.77.{uuid.uuid4().int % 10**12}"
        submission = dataclasses.replace(submission, entry_uuid=set_id, unique_id=unique_id + ".0")
        metadata = dataclasses.replace(template.metadata, title="Gros document", mime_type="application/pdf")
        document = NewDocument(entry_uuid, unique_id, INS, metadata, content)
        link = Association(f"urn:uuid:{uuid.uuid4()}", AssociationType.HAS_MEMBER, set_id, entry_uuid)
        store.add_submission(submission, [document], [link], now=dt.datetime.now(dt.UTC))
    return unique_id


def _loopback_copy(data: bytes, target: Path, tls: tuple[ssl.SSLContext, ssl.SSLContext] | None = None) -> float:
    """Seconds to send ``data`` over a loopback socket (plain TCP, or mutual TLS) into a file (the baselines)."""
    server = socket.create_server(("127.0.0.1", 0))

    def send() -> None:
        connection, _ = server.accept()
        if tls is not None:
            connection = tls[0].wrap_socket(connection, server_side=True)
        with connection:
            connection.sendall(data)

    sender = threading.Thread(target=send)
    sender.start()
    started = time.perf_counter()
    buffer = bytearray(1 << 16)
    with socket.create_connection(server.getsockname()) as raw, target.open("wb") as out:
        sock = tls[1].wrap_socket(raw, server_hostname="127.0.0.1") if tls is not None else raw
        while received := sock.recv_into(buffer):
            out.write(memoryview(buffer)[:received])
    elapsed = time.perf_counter() - started
    sender.join()
    server.close()
    return elapsed


def _server_context(pki: TestPki) -> ssl.SSLContext:
    """The mock's TLS side: its server certificate, client certificates required from the test CA."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca_bundle))
    context.load_cert_chain(pki.server.cert, pki.server.key)
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def _retrieve_results(quick: bool) -> list[Result]:
    size = (20 if quick else 200) * MB
    with tempfile.TemporaryDirectory(prefix="bench-xds-") as tmp:
        root = Path(tmp)
        pki = init_test_pki(root / "pki")
        prepare(root / "data", pki_dir=pki.directory, now=dt.datetime.now(dt.UTC)).close()
        content = os.urandom(size)
        unique_id = _add_document(root / "data", content)
        context = client_context(load_pem(pki.org_auth.cert, pki.org_auth.key), pki.ca_bundle)
        baseline = min(_loopback_copy(content, root / "copy.bin") for _ in range(3))
        tls_copy = min(_loopback_copy(content, root / "copy.bin", (_server_context(pki), context)) for _ in range(3))
        del content
        (root / "copy.bin").unlink()
        port = _free_port()
        args = [
            "mock_server",
            "serve",
            "--data",
            str(root / "data"),
            "--pki",
            str(pki.directory),
            *MOCK_DMP_ONLY,
            "--no-seed",
        ]
        server = _serve([*args, "--port", str(port)], root / "mock.log", context, port)
        try:
            runs = [
                _measured_client(root / "data" / "dmpclient.toml", unique_id, root / f"out{n}.pdf") for n in range(3)
            ]
        finally:
            server.terminate()
            server.wait(timeout=30)
    best = min(runs, key=lambda run: run["seconds"])
    growth = max(run["growth_mb"] for run in runs)
    label = f"{size // MB} MB"
    return [
        Result(f"retrieve {label} over mTLS, streamed to disk, checked", size / MB / best["seconds"], "MB/s",
               "loopback TCP copy of the same bytes into a file", size / MB / baseline),
        Result(f"retrieve {label}: client side alone (MB per CPU second)", size / MB / best["cpu"], "MB/s",
               "loopback mutual-TLS copy of the same bytes into a file", size / MB / tls_copy),
        Result(f"loopback mutual-TLS copy of {label} into a file", size / MB / tls_copy, "MB/s",
               "loopback TCP copy of the same bytes into a file", size / MB / baseline),
        Result(f"retrieve {label}: client peak RSS growth", growth, "MB", "", None, "< 64 MB"),
    ]  # fmt: skip


def _measured_client(config: Path, unique_id: str, out: Path) -> dict[str, float]:
    completed = subprocess.run(  # noqa: PLW1510 - checked below with the output shown
        [sys.executable, "-m", "benchmarks.bench_xds", "retrieve", str(config), unique_id, str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the measured client failed:\n{completed.stdout}\n{completed.stderr}")
    data: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return data


def _rss_bytes() -> int:
    """The resident set size now (Linux ``/proc``; elsewhere the peak so far, a coarser measure)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return pages * os.sysconf("SC_PAGE_SIZE")


class _RssSampler(threading.Thread):
    """Samples the RSS every millisecond while the retrieval runs: the high-water mark of *this* call."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = _rss_bytes()
        self.running = True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, _rss_bytes())
            time.sleep(0.001)


def _client_main(config_file: str, unique_id: str, out: str) -> None:
    """The measured process: one warm-up search (TLS session, imports), then the timed retrieval."""
    config = DmpConfig.load(config_file)
    with DmpClient(config) as client:
        entry = client.get_documents(INS, DOCTOR, ins_oid=InsOid.TEST, unique_ids=[unique_id]).documents[0]
        before = _rss_bytes()
        sampler = _RssSampler()
        sampler.start()
        started, cpu = time.perf_counter(), time.process_time()
        document = client.retrieve_document(INS, DOCTOR, entry, ins_oid=InsOid.TEST, out=Path(out))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        sampler.running = False
        sampler.join()
    assert document.size == entry.size == Path(out).stat().st_size
    growth = (sampler.peak - before) / MB
    print(json.dumps({"seconds": seconds, "cpu": cpu, "growth_mb": growth, "size": document.size}))


# --- new versions -------------------------------------------------------------------------------


def _patient_with(store: Store, count: int, replaced: int) -> tuple[list[KnownDocument], str]:
    """A fresh patient with ``count`` documents, ``replaced`` of them since replaced by a new version."""
    ins = make_ins(f"18808888888{replaced:02d}")
    template = store.find_documents(INS)[0]
    submission = store.get_submission_set(template.submission_set_id or "")
    assert submission is not None
    store.upsert_patient(Patient(ins, InsOid.TEST, "BENCH", "Patient", dt.date(1988, 8, 8), "M"))
    known: list[KnownDocument] = []
    now = dt.datetime.now(dt.UTC)
    for n in range(count + replaced):
        entry_uuid, set_id = f"urn:uuid:{uuid.uuid4()}", f"urn:uuid:{uuid.uuid4()}"
        unique_id = f"1.2.250.1.999.88.{replaced}.{n}"
        links = [Association(f"urn:uuid:{uuid.uuid4()}", AssociationType.HAS_MEMBER, set_id, entry_uuid)]
        if n >= count:  # a new version of document n - count
            links.append(
                Association(
                    f"urn:uuid:{uuid.uuid4()}", AssociationType.RPLC, entry_uuid, known[n - count].entry_uuid or ""
                )
            )
        store.add_submission(
            dataclasses.replace(submission, entry_uuid=set_id, unique_id=unique_id + ".0", patient_ins=ins),
            [NewDocument(entry_uuid, unique_id, ins, template.metadata, f"document {n}".encode())],
            links,
            now=now,
        )  # fmt: skip
        if n < count:
            known.append(KnownDocument(unique_id=unique_id, entry_uuid=entry_uuid))
    return known, ins


def _versions_results(quick: bool) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="bench-xds-") as tmp:
        root = Path(tmp)
        pki = init_test_pki(root / "pki")
        runtime = prepare(root / "data", pki_dir=pki.directory, now=dt.datetime.now(dt.UTC))
        results = []
        try:
            server = start_in_thread(
                runtime.app, server_cert=pki.server.cert, server_key=pki.server.key, client_ca=pki.ca_bundle
            )
            config = DmpConfig.for_test_pki(pki, base_url=server.services_url)
            with DmpClient(config) as client:
                for replaced in (0, 5):
                    known, ins = _patient_with(runtime.store, 200, replaced)
                    results += _time_versions(client, known, ins, replaced, quick)
            server.stop()
        finally:
            runtime.close()
    return results


def _time_versions(client: DmpClient, known: list[KnownDocument], ins: str, replaced: int, quick: bool) -> list[Result]:
    report = client.find_new_versions(ins, DOCTOR, known, ins_oid=InsOid.TEST)
    assert len(report.replaced) == replaced
    repeat = 3 if quick else 7
    ours = median_seconds(lambda: client.find_new_versions(ins, DOCTOR, known, ins_oid=InsOid.TEST), repeat=repeat)

    def naive() -> None:  # one GetRelatedDocuments per integrated document
        for document in known:
            client.query(GetRelatedDocuments(entry_uuid=document.entry_uuid), DOCTOR, ins=ins, ins_oid=InsOid.TEST)

    baseline = median_seconds(naive, repeat=1, warmup=0)
    return [
        Result(f"find_new_versions, 200 documents, {replaced} replaced: round trips", report.round_trips, "calls",
               "one query per document", len(known), "1" if replaced == 0 else ""),
        Result(f"find_new_versions, 200 documents, {replaced} replaced: time", ours * 1000, "ms",
               "one GetRelatedDocuments per document", baseline * 1000),
    ]  # fmt: skip


def run(quick: bool) -> list[Result]:
    """Decode, retrieve and new-version figures (see the module docstring)."""
    return [*_decode_results(quick), *_retrieve_results(quick), *_versions_results(quick)]


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "retrieve":
    _client_main(*sys.argv[2:])
