"""Mock store costs: a full seed, one TD2.1 submission, one FindDocuments — each against raw sqlite3.

Baselines run in the same process on a file with the same pragmas (WAL, synchronous=NORMAL), so the
ratio is the price of the store's layer (JSON metadata, checks, row objects), not of SQLite itself.
"""

from __future__ import annotations

import itertools
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks._harness import Result, median_seconds
from dmpclient.xds.codes import AssociationType
from mock_server.seed import seed
from mock_server.store import Store
from mock_server.store.records import Association, NewDocument, SubmissionSet

NOW = datetime(2026, 11, 25, tzinfo=UTC)
INS = "207058575627097"
_CONTENT = b"<ClinicalDocument>" + b"x" * 20_000 + b"</ClinicalDocument>"


def _raw(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, meta TEXT, data BLOB)")
    return connection


def run(quick: bool) -> list[Result]:
    repeat = 3 if quick else 7
    documents = 120 if quick else 240
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "seed.sqlite3") as store:
        start = time.perf_counter()
        seed(store, documents=documents, now=NOW)
        seed_seconds = time.perf_counter() - start
        template = store.find_documents(INS)[0]
        submission_set = store.get_submission_set(template.submission_set_id or "")
        assert submission_set is not None
        counter = itertools.count(1)

        def submit() -> None:
            n = next(counter)
            ss = SubmissionSet(
                f"urn:uuid:bench-ss-{n}",
                f"1.2.250.1.999.9.{n}",
                INS,
                submission_set.source_id,
                NOW,
                submission_set.author,
                submission_set.content_type_code,
            )
            doc = NewDocument(
                f"urn:uuid:bench-{n}", f"1.2.250.1.999.8.{n}", INS, template.metadata, _CONTENT + b"%d" % n
            )
            member = Association(f"urn:uuid:bench-hm-{n}", AssociationType.HAS_MEMBER, ss.entry_uuid, doc.entry_uuid)
            store.add_submission(ss, [doc], [member], now=NOW)

        raw = _raw(Path(tmp) / "raw.sqlite3")
        meta = "x" * 1500

        def raw_insert() -> None:
            raw.execute("BEGIN IMMEDIATE")
            raw.execute("INSERT INTO t (meta, data) VALUES (?, ?)", (meta, _CONTENT))
            raw.execute("COMMIT")

        submit_baseline = median_seconds(raw_insert, repeat=repeat, number=20)
        submit_seconds = median_seconds(submit, repeat=repeat, number=20)
        raw.close()
        rows = len(store.find_documents(INS))
        find_seconds = median_seconds(lambda: store.find_documents(INS), repeat=repeat, number=20)
        with store.connection() as connection:
            find_baseline = median_seconds(
                lambda: connection.execute("SELECT * FROM documents WHERE patient_ins = ?", (INS,)).fetchall(),
                repeat=repeat,
                number=20,
            )
    return [
        Result(f"state: seed (24 patients, {documents} documents)", seed_seconds, "s", target="< 5 s"),
        Result(
            "state: add_submission (1 doc, 20 KB)",
            submit_seconds * 1e3,
            "ms",
            "raw sqlite3 insert + commit",
            submit_baseline * 1e3,
        ),
        Result(
            f"state: find_documents ({rows} rows)",
            find_seconds * 1e3,
            "ms",
            "raw SELECT of the same rows",
            find_baseline * 1e3,
        ),
    ]
