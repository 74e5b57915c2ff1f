"""No loss, no duplicate, no half-written submission: the mock is killed (SIGKILL) in the middle of a bulk feed.

A real ``python -m mock_server serve`` process over mutual TLS receives a feed of 240 CDA files at
concurrency 8 and is killed once about a quarter of them are in. The feed goes on against a dead server
(its last submissions end ``unknown`` or ``not-sent`` in the journal). The mock is restarted on the same
SQLite file and the same feed is run again: it resumes from the journal. Then every document is in the
registry exactly once, none is missing, and every submission set is whole (its document, its signature
entry, its three associations) — SQLite's atomic commit, as the mock promises (``add_submission``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from dmpclient import DmpClient
from dmpclient.feeding import FeedJournal, FeedOutcome, FeedStatus
from dmpclient.security.pki import TestPki
from mock_server.seed import seed
from mock_server.store import Store, database_path
from tests.feed_samples import OPTIONS, cda, document_id
from tests.feeding.conftest import ESTABLISHMENT
from tests.served import ServedMock

pytestmark = pytest.mark.slow

DOCUMENTS = 240
KILL_AFTER = 60


def test_a_bulk_feed_survives_kill_9_of_the_dmp_and_resumes_without_duplicates(tmp_path: Path, pki: TestPki) -> None:
    data = tmp_path / "data"
    with Store.open(database_path(data)) as store:
        seed(store, now=dt.datetime.now(dt.UTC))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    numbers = range(50_000, 50_000 + DOCUMENTS)
    files = []
    for number in numbers:
        files.append(inbox / f"cr-{number}.xml")
        files[-1].write_bytes(cda(number))
    journal = tmp_path / "journal.sqlite3"

    first = ServedMock(data, pki, tmp_path)
    seen: list[FeedOutcome] = []

    def kill_midway(outcome: FeedOutcome) -> None:
        seen.append(outcome)
        if len(seen) == KILL_AFTER:
            first.process.kill()  # SIGKILL while up to 2 × 8 submissions are in flight

    try:
        with DmpClient(first.config) as client:
            interrupted = client.feed_many(
                files, ESTABLISHMENT, options=OPTIONS, journal=journal, concurrency=8, on_outcome=kill_midway
            )
    finally:
        first.stop()
    assert first.process.returncode == -9
    assert interrupted.total == DOCUMENTS
    assert KILL_AFTER <= interrupted.counts.get(FeedStatus.SENT, 0) < DOCUMENTS
    assert not interrupted.ok
    assert set(interrupted.counts) <= {FeedStatus.SENT, FeedStatus.UNKNOWN, FeedStatus.NOT_SENT}

    with contextlib.closing(sqlite3.connect(database_path(data))) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    second = ServedMock(data, pki, tmp_path)
    try:
        with DmpClient(second.config) as client:
            resumed = client.feed_many(files, ESTABLISHMENT, options=OPTIONS, journal=journal, concurrency=8)
    finally:
        second.stop()
    assert resumed.ok
    assert resumed.counts[FeedStatus.ALREADY_SENT] == interrupted.counts[FeedStatus.SENT]
    assert resumed.total == DOCUMENTS
    with FeedJournal(journal) as opened:
        assert opened.counts() == {"succeeded": DOCUMENTS}

    with contextlib.closing(sqlite3.connect(database_path(data))) as db:
        ids = json.dumps([document_id(number) for number in numbers])
        copies = dict(
            db.execute(
                "SELECT unique_id, count(*) FROM documents WHERE unique_id IN (SELECT value FROM json_each(?)) "
                "GROUP BY unique_id",
                (ids,),
            ).fetchall()
        )
        assert len(copies) == DOCUMENTS  # none missing
        assert set(copies.values()) == {1}  # none twice
        sets = db.execute(
            "SELECT d.submission_set_id FROM documents d WHERE d.unique_id IN (SELECT value FROM json_each(?))", (ids,)
        ).fetchall()
        for (set_uuid,) in sets:  # each submission whole: its document, its signature, its three associations
            members = db.execute("SELECT count(*) FROM documents WHERE submission_set_id = ?", (set_uuid,)).fetchone()
            links = db.execute(
                "SELECT count(*) FROM associations WHERE source = ? OR target = ?", (set_uuid, set_uuid)
            ).fetchone()
            assert (members[0], links[0]) == (2, 3)
        orphans = db.execute(
            "SELECT count(*) FROM documents WHERE submission_set_id IS NOT NULL "
            "AND submission_set_id NOT IN (SELECT entry_uuid FROM submission_sets)"
        ).fetchone()[0]
        assert orphans == 0
