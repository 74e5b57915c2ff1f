"""Bulk feeding with a journal: resume, never twice, conflicts, unknown outcomes resumed by asking the registry,
the origin recorded, the async twin, and ``dmp feed`` / ``dmp replace`` / ``dmp archive`` from the command line."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dmpclient import AsyncDmpClient, DmpClient
from dmpclient.cli import app
from dmpclient.config import DmpConfig
from dmpclient.errors import DmpConnectError, DmpTimeoutError
from dmpclient.feeding import FeedJournal, FeedOutcome, FeedStatus, JournalState, SenderKind
from dmpclient.soap.request import PreparedRequest
from dmpclient.soap.response import ResponseReader
from dmpclient.transport import Deadline, HttpTransport
from mock_server.runtime import MockRuntime, write_client_config
from mock_server.server import RunningServer
from tests.feed_samples import OPTIONS, PATB_QUATRE, TEST_OID, cda, document_id
from tests.feeding.conftest import AUTOMATE, ESTABLISHMENT, fresh, recording_submission_signer


def _files(directory: Path, count: int) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    files = []
    for _ in range(count):
        number = fresh()
        path = directory / f"cr-{number}.xml"
        path.write_bytes(cda(number))
        files.append(path)
    return files


def _registered(runtime: MockRuntime, files: list[Path]) -> dict[str, int]:
    """How many registry entries each file's document has (one, whatever happened to the client)."""
    ids = [document_id(int(path.stem.removeprefix("cr-"))) for path in files]
    with runtime.store.connection() as connection:
        rows = connection.execute(
            "SELECT unique_id, count(*) FROM documents WHERE unique_id IN (SELECT value FROM json_each(?)) "
            "GROUP BY unique_id",
            (json.dumps(ids),),
        ).fetchall()
    counts = dict.fromkeys(ids, 0)
    counts.update({row[0]: row[1] for row in rows})
    return counts


def test_a_second_run_sends_nothing_again(client: DmpClient, feed_runtime: MockRuntime, tmp_path: Path) -> None:
    files = _files(tmp_path / "in", 12)
    journal = tmp_path / "journal.sqlite3"
    outcomes: list[FeedOutcome] = []
    first = client.feed_many(
        files, AUTOMATE, options=OPTIONS, journal=journal, concurrency=4, on_outcome=outcomes.append
    )
    assert first.counts == {FeedStatus.SENT: 12}
    assert {outcome.origin.sender_kind for outcome in outcomes} == {SenderKind.DEVICE}
    assert {outcome.origin.mode for outcome in outcomes} == {"INDIRECTE"}
    second = client.feed_many(iter(files), AUTOMATE, options=OPTIONS, journal=journal, concurrency=4)
    assert second.counts == {FeedStatus.ALREADY_SENT: 12}
    assert set(_registered(feed_runtime, files).values()) == {1}
    with FeedJournal(journal) as opened:
        assert opened.counts() == {"succeeded": 12}
        events = list(opened.events())
    assert len(events) == 12
    assert {(e["sender_kind"], e["author_kind"], e["mode"], e["outcome"]) for e in events} == {
        ("device", "person", "INDIRECTE", "succeeded")
    }


def test_other_bytes_under_a_sent_uniqueid_are_never_sent(
    client: DmpClient, feed_runtime: MockRuntime, tmp_path: Path
) -> None:
    files = _files(tmp_path / "in", 2)
    journal = tmp_path / "journal.sqlite3"
    client.feed_many(files, ESTABLISHMENT, options=OPTIONS, journal=journal)
    number = int(files[0].stem.removeprefix("cr-"))
    files[0].write_bytes(cda(number, lines=("Contenu modifié après envoi.",)))
    not_cda = tmp_path / "in" / "notes.xml"
    not_cda.write_bytes(b"<notes>pas un CDA</notes>")
    outcomes: list[FeedOutcome] = []
    report = client.feed_many(
        [*files, not_cda], ESTABLISHMENT, options=OPTIONS, journal=journal, on_outcome=outcomes.append
    )
    assert report.counts == {FeedStatus.CONFLICT: 1, FeedStatus.ALREADY_SENT: 1, FeedStatus.INVALID: 1}
    assert not report.ok
    invalid = next(o for o in outcomes if o.status is FeedStatus.INVALID)
    assert invalid.source == str(not_cda)
    assert invalid.message is not None
    assert "ClinicalDocument" in invalid.message
    assert set(_registered(feed_runtime, files).values()) == {1}


class _Unreachable(HttpTransport):
    """Registers the first TD2.1 and loses its answer, then finds the registry unreachable (the DMP went down)."""

    def __init__(self, config: DmpConfig) -> None:
        super().__init__(config)
        self.sent = 0

    def exchange(self, request: PreparedRequest, reader: ResponseReader, deadline: Deadline) -> None:
        if request.td == "TD2.1" and not self.sent:
            self.sent += 1
            super().exchange(request, reader, deadline)
            reader.abort()
            raise DmpTimeoutError("read timeout", td=request.td, message_id=request.message_id)
        raise DmpConnectError("connection refused", td=request.td, message_id=request.message_id)


def test_an_unknown_outcome_is_resumed_by_asking_the_registry(
    feed_config: DmpConfig, feed_runtime: MockRuntime, tmp_path: Path
) -> None:
    files = _files(tmp_path / "in", 3)
    journal = tmp_path / "journal.sqlite3"
    with DmpClient(feed_config, transport=_Unreachable(feed_config)) as down:
        report = down.feed_many(files, ESTABLISHMENT, options=OPTIONS, journal=journal, concurrency=1)
    assert report.counts == {FeedStatus.UNKNOWN: 1, FeedStatus.NOT_SENT: 2}
    with FeedJournal(journal) as opened:
        assert opened.counts() == {"unknown": 1, "failed": 2}
        unknown = opened.entry(document_id(int(files[0].stem.removeprefix("cr-"))))
    assert unknown is not None
    assert unknown.state is JournalState.UNKNOWN
    assert unknown.resumable
    outcomes: list[FeedOutcome] = []
    with DmpClient(feed_config) as up:
        report = up.feed_many(files, ESTABLISHMENT, options=OPTIONS, journal=journal, on_outcome=outcomes.append)
    assert report.counts == {FeedStatus.RECOVERED: 1, FeedStatus.SENT: 2}
    recovered = next(o for o in outcomes if o.status is FeedStatus.RECOVERED)
    assert recovered.submission_set_unique_id == unknown.ids.submission_set_unique_id  # type: ignore[union-attr]
    assert set(_registered(feed_runtime, files).values()) == {1}


async def test_the_async_client_feeds_many(feed_config: DmpConfig, feed_runtime: MockRuntime, tmp_path: Path) -> None:
    files = _files(tmp_path / "in", 6)

    async def documents() -> Iterator[Path]:  # type: ignore[misc]
        for path in files:
            yield path

    signer, recording = recording_submission_signer(feed_config)
    async with AsyncDmpClient(feed_config, submission_signer=signer) as client:
        report = await client.feed_many(
            documents(), ESTABLISHMENT, options=OPTIONS, concurrency=3, journal=tmp_path / "j.sqlite3"
        )
    assert report.counts == {FeedStatus.SENT: 6}
    assert set(_registered(feed_runtime, files).values()) == {1}
    assert recording.threads  # documents were drafted and signed off the event loop's thread
    assert threading.get_ident() not in recording.threads


# --- the command line ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def config_file(feed_runtime: MockRuntime, feed_server: RunningServer) -> Path:
    return write_client_config(feed_runtime, feed_server.services_url)


def test_dmp_feed_a_directory_with_a_report(config_file: Path, feed_runtime: MockRuntime, tmp_path: Path) -> None:
    files = _files(tmp_path / "in", 5)
    report = tmp_path / "report.json"
    arguments = ["feed", str(tmp_path / "in"), "--config", str(config_file), "--ps-id", "899900063480",
                 "--device", "AUTOMATE", "--device-name", "PFI, v3, BAL", "--content-type", "07",
                 "--practice-setting", "ETABLISHMENT", "--journal", str(tmp_path / "j.sqlite3"),
                 "--report", str(report), "--json"]  # fmt: skip
    refused = CliRunner().invoke(app, arguments)
    assert refused.exit_code == 2
    assert "JDV_J62" in refused.output  # a code outside its value set, named
    arguments[arguments.index("ETABLISHMENT")] = "ETABLISSEMENT"
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["counts"] == {"sent": 5}
    assert json.loads(result.output)["problems"] == []
    lines = json.loads(report.read_text(encoding="utf-8"))
    assert sorted(line["source"] for line in lines) == sorted(str(path) for path in files)
    assert {line["origin"]["sender_kind"] for line in lines} == {"device"}
    again = CliRunner().invoke(app, arguments)
    assert json.loads(again.output)["counts"] == {"already-sent": 5}
    assert set(_registered(feed_runtime, files).values()) == {1}


def test_dmp_replace_and_archive(config_file: Path, tmp_path: Path) -> None:
    v1, v2 = fresh(), fresh()
    (tmp_path / "v1.xml").write_bytes(cda(v1))
    (tmp_path / "v2.xml").write_bytes(cda(v2, version=2, set_number=v1, replaces=v1))
    common = [
        "--config",
        str(config_file),
        "--ps-id",
        "899900063480",
        "--name",
        "LIBRE MAX",
        "--specialty",
        "SM26",
        "--json",
    ]
    fed = CliRunner().invoke(app, ["feed", str(tmp_path / "v1.xml"), "--journal", str(tmp_path / "j.sqlite3"),
                                   "--practice-setting", "ETABLISSEMENT", *common])  # fmt: skip
    assert fed.exit_code == 0, fed.output
    replaced = CliRunner().invoke(
        app,
        ["replace", document_id(v1), str(tmp_path / "v2.xml"), "--previous-cda", str(tmp_path / "v1.xml"),
         "--practice-setting", "ETABLISSEMENT", *common],
    )  # fmt: skip
    assert replaced.exit_code == 0, replaced.output
    assert json.loads(replaced.output)["documents"][0]["version_number"] == 2
    archived = CliRunner().invoke(app, ["archive", PATB_QUATRE, document_id(v2), "--ins-oid", TEST_OID, *common])
    assert archived.exit_code == 0, archived.output
    assert json.loads(archived.output)["status"] == "urn:asip:ci-sis:2010:StatusType:Archived"
    hidden = CliRunner().invoke(app, ["hide", PATB_QUATRE, document_id(v2), "--ins-oid", TEST_OID, *common])
    assert hidden.exit_code == 2
    assert "invisible" in hidden.output


def test_the_journal_is_sqlite_in_wal_mode(tmp_path: Path) -> None:
    with FeedJournal(tmp_path / "j.sqlite3"):
        pass
    with sqlite3.connect(tmp_path / "j.sqlite3") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
