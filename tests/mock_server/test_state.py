"""SQLite store of the mock: migrations, round trips, atomic submissions, registry effects, crash safety."""

from __future__ import annotations

import dataclasses
import hashlib
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from dmpclient.codes import Code, ValueSetId, load_value_set
from dmpclient.errors import DmpValidationError
from dmpclient.xds.codes import AssociationType, AvailabilityStatus
from mock_server.domain.search import DocumentFilter
from mock_server.store import Store
from mock_server.store.migrations import SCHEMA_VERSION
from mock_server.store.records import (
    Association,
    Author,
    Authorisation,
    AuthorisationStatus,
    AuthorKind,
    DmpStatus,
    DocumentMetadata,
    DuplicateUniqueIdError,
    LegalRepresentative,
    NewDocument,
    Outcome,
    Patient,
    StatusConflictError,
    StoreError,
    SubjectKind,
    SubmissionSet,
    TraceEntry,
    UnknownObjectError,
)

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
INS = "207058575627097"
OTHER_INS = "153078987658513"
APPROVED, DEPRECATED = AvailabilityStatus.APPROVED, AvailabilityStatus.DEPRECATED
ARCHIVED, DELETED = AvailabilityStatus.ARCHIVED, AvailabilityStatus.DELETED
AUTHOR = Author(AuthorKind.PROFESSIONAL, "899900063480", "LIBRE", "MAX", "10B0127189", "CENTRE DE SANTE RPPS12718")


def patient(ins: str = INS, **changes: object) -> Patient:
    fields: dict[str, object] = {
        "ins": ins,
        "ins_oid": "1.2.250.1.213.1.4.10",
        "family_name": "PATB-QUATRE",
        "given_name": "Laurence",
        "birth_date": date(2007, 5, 26),
        "gender": "F",
    }
    return Patient(**{**fields, **changes})  # type: ignore[arg-type]


def metadata(*confidentiality: str, type_code: str = "11488-4", when: datetime = NOW) -> DocumentMetadata:
    codes = load_value_set(ValueSetId.CONFIDENTIALITY_CODE)
    return DocumentMetadata(
        title="Compte rendu de consultation",
        class_code=load_value_set(ValueSetId.CLASS_CODE).require("10"),
        type_code=load_value_set(ValueSetId.TYPE_CODE).require(type_code),
        format_code=load_value_set(ValueSetId.FORMAT_CODE).require("urn:ihe:iti:xds-sd:pdf:2008"),
        healthcare_facility_type_code=load_value_set(ValueSetId.HEALTHCARE_FACILITY_TYPE_CODE).require("SA05"),
        practice_setting_code=load_value_set(ValueSetId.PRACTICE_SETTING_CODE).require("AMBULATOIRE"),
        creation_time=when,
        author=AUTHOR,
        confidentiality=tuple(codes.require(c) for c in ("N", *confidentiality)),
        event_codes=(load_value_set(ValueSetId.EVENT_CODE).require("I10"),),
        service_start_time=when - timedelta(hours=2),
        service_stop_time=when,
        extra_slots={"sourcePatientInfo": ("PID-7|20070526", "PID-8|F")},
    )


def submission(
    n: int,
    *,
    ins: str = INS,
    documents: int = 1,
    content: bytes = b"<ClinicalDocument/>",
    associations: tuple[Association, ...] = (),
) -> tuple[SubmissionSet, list[NewDocument], list[Association]]:
    """Submission set ``n`` holding documents ``urn:uuid:doc-{n}-{i}`` (uniqueId ``1.2.3.{n}.{i}``)."""
    ss = SubmissionSet(
        entry_uuid=f"urn:uuid:ss-{n}",
        unique_id=f"1.2.4.{n}",
        patient_ins=ins,
        source_id="1.2.250.1.999.1.1.7898",
        submission_time=NOW,
        author=AUTHOR,
        content_type_code=load_value_set(ValueSetId.CONTENT_TYPE_CODE).require("07"),
        title=f"lot {n}",
    )
    docs = [
        NewDocument(f"urn:uuid:doc-{n}-{i}", f"1.2.3.{n}.{i}", ins, metadata(), content + str(i).encode())
        for i in range(documents)
    ]
    members = [
        Association(
            f"urn:uuid:hm-{n}-{i}",
            AssociationType.HAS_MEMBER,
            ss.entry_uuid,
            d.entry_uuid,
            {"SubmissionSetStatus": ("Original",)},
        )
        for i, d in enumerate(docs)
    ]
    return ss, docs, [*members, *associations]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store.open(tmp_path / "dmp.sqlite3")
    opened.upsert_patient(patient())
    opened.upsert_patient(patient(OTHER_INS, family_name="PAT-TROIS", given_name="Dominique"))
    return opened


def test_open_applies_migrations_once_and_reopen_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "dmp.sqlite3"
    with Store.open(path) as first:
        assert first.schema_version == SCHEMA_VERSION
        first.upsert_patient(patient())
    with Store.open(path) as second:
        assert second.schema_version == SCHEMA_VERSION
        assert second.get_patient(INS) == patient()
    with sqlite3.connect(path) as raw:
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"patients", "authorisations", "documents", "contents", "submission_sets", "associations"} <= tables


def test_database_from_a_newer_mock_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dmp.sqlite3"
    Store.open(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer"):
        Store.open(path)


def test_unknown_synchronous_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DmpValidationError, match="NORMAL or FULL"):
        Store.open(tmp_path / "dmp.sqlite3", synchronous="OFF")  # type: ignore[arg-type]


@pytest.mark.parametrize(("setting", "expected"), [("NORMAL", 1), ("FULL", 2)])
def test_connection_settings(tmp_path: Path, setting: str, expected: int) -> None:
    with (
        Store.open(tmp_path / "dmp.sqlite3", synchronous=setting) as opened,  # type: ignore[arg-type]
        opened.connection() as connection,
    ):
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA synchronous").fetchone()[0] == expected
        assert connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert connection.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000


def test_patient_round_trip_and_update(store: Store) -> None:
    minor = patient(
        "110076986356068",
        dmp_status=DmpStatus.CLOSED,
        opposition_bris_de_glace=True,
        masked_visible_in_emergency=True,
        mes_attached=False,
        secret_connection=True,
        minor=True,
        birth_name="MARCHAND",
        legal_representatives=(LegalRepresentative("MTH", "PATB-QUATRE", "Anne"),),
        closed_at=NOW,
    )
    store.upsert_patient(minor)
    assert store.get_patient("110076986356068") == minor
    store.upsert_patient(patient(web_account=True))
    assert store.get_patient(INS) == patient(web_account=True)
    assert store.get_patient("100000000000000") is None
    assert [p.ins for p in store.list_patients()] == ["110076986356068", OTHER_INS, INS]


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(DmpValidationError, match="timezone"):
        store.upsert_patient(patient(closed_at=datetime(2026, 1, 1)))


def _auth(subject: str, status: AuthorisationStatus, **changes: object) -> Authorisation:
    fields: dict[str, object] = {
        "patient_ins": INS,
        "subject_kind": SubjectKind.PROFESSIONAL,
        "subject_id": subject,
        "status": status,
        "granted_at": NOW - timedelta(days=30),
        "last_action_at": NOW - timedelta(days=30),
    }
    return Authorisation(**{**fields, **changes})  # type: ignore[arg-type]


def test_authorisation_statuses(store: Store) -> None:
    valide = AuthorisationStatus.VALIDE
    assert store.authorisation_status(INS, "899900063480", "10B0127189", NOW) is AuthorisationStatus.NON_EXISTE
    store.set_authorisation(_auth("10B0127189", valide, subject_kind=SubjectKind.STRUCTURE))
    assert store.authorisation_status(INS, "899900063480", "10B0127189", NOW) is valide
    assert store.authorisation_status(INS, "899900063480", None, NOW) is AuthorisationStatus.NON_EXISTE
    store.set_authorisation(_auth("899900063480", AuthorisationStatus.INTERDIT))
    assert store.authorisation_status(INS, "899900063480", "10B0127189", NOW) is AuthorisationStatus.INTERDIT
    store.set_authorisation(_auth("899900077985", valide, expires_at=NOW - timedelta(seconds=1)))
    assert store.authorisation_status(INS, "899900077985", None, NOW) is AuthorisationStatus.EXPIRE
    assert store.authorisation_status(INS, "899900077985", None, NOW - timedelta(days=1)) is valide
    store.set_authorisation(_auth("899900023351", valide, treating_physician=True, family_name="X"))
    treating = store.treating_physician_of(INS, NOW)
    assert treating is not None
    assert (treating.subject_id, treating.family_name) == ("899900023351", "X")
    assert [a.subject_id for a in store.list_authorisations(INS, statuses=(AuthorisationStatus.INTERDIT,))] == [
        "899900063480"
    ]
    assert [a.patient_ins for a in store.authorisations_of("899900063480")] == [INS]
    assert store.remove_authorisation(INS, "899900063480", SubjectKind.PROFESSIONAL)
    assert not store.remove_authorisation(INS, "899900063480", SubjectKind.PROFESSIONAL)
    assert store.authorisation_status(INS, "899900063480", "10B0127189", NOW) is valide


def test_authorisation_needs_a_known_patient_and_a_storable_status(store: Store) -> None:
    with pytest.raises(UnknownObjectError):
        store.set_authorisation(_auth("899900063480", AuthorisationStatus.VALIDE, patient_ins="100000000000000"))
    with pytest.raises(DmpValidationError, match="NON_EXISTE"):
        store.set_authorisation(_auth("899900063480", AuthorisationStatus.NON_EXISTE))


def test_submission_round_trip(store: Store) -> None:
    ss, docs, members = submission(1, documents=2)
    store.add_submission(ss, docs, members, now=NOW)
    row = store.get_document("urn:uuid:doc-1-0")
    assert row is not None
    assert row.metadata == docs[0].metadata
    assert (row.lid, row.version_name, row.status, row.unique_id) == (row.entry_uuid, 1, APPROVED, "1.2.3.1.0")
    assert row.hash == hashlib.sha1(docs[0].content).hexdigest()
    assert row.size == len(docs[0].content)
    assert store.get_document("1.2.3.1.1") == store.get_document("urn:uuid:doc-1-1")
    assert store.get_content("1.2.3.1.1") == docs[1].content
    assert store.get_content("9.9.9") is None
    assert store.get_submission_set("1.2.4.1") == ss
    assert store.get_submission_set("urn:uuid:ss-1") == ss
    assert {a.target for a in store.associations(["urn:uuid:ss-1"])} == {"urn:uuid:doc-1-0", "urn:uuid:doc-1-1"}


def test_failed_submission_writes_nothing(store: Store) -> None:
    store.add_submission(*submission(1), now=NOW)
    before = store.counts()
    ss, docs, members = submission(2, documents=3)
    clash = NewDocument("urn:uuid:doc-2-9", "1.2.3.1.0", INS, metadata(), b"already registered")
    with pytest.raises(DuplicateUniqueIdError):
        store.add_submission(ss, [*docs, clash], members, now=NOW)
    assert store.counts() == before
    other_patient = NewDocument("urn:uuid:doc-2-8", "1.2.3.2.8", OTHER_INS, metadata(), b"x")
    with pytest.raises(StatusConflictError, match="XDSPatientIdDoesNotMatch"):
        store.add_submission(ss, [*docs, other_patient], members, now=NOW)
    assert store.counts() == before
    with pytest.raises(UnknownObjectError):
        store.add_submission(*submission(3, ins="100000000000000"), now=NOW)
    assert store.counts() == before


def test_an_exception_inside_a_request_transaction_rolls_everything_back(store: Store) -> None:
    before = store.counts()

    def failing_request() -> None:
        with store.transaction():
            store.add_submission(*submission(1), now=NOW)
            store.record_access(TraceEntry(NOW, "TD2.1", Outcome.ALLOWED, patient_ins=INS))
            raise RuntimeError("handler failed after writing")

    with pytest.raises(RuntimeError):
        failing_request()
    assert store.counts() == before


def test_a_failed_submission_inside_a_request_is_undone_even_if_the_handler_carries_on(store: Store) -> None:
    store.add_submission(*submission(1), now=NOW)
    before = store.counts()
    ss, docs, members = submission(2, documents=2)
    clash = NewDocument("urn:uuid:doc-2-9", "1.2.3.1.0", INS, metadata(), b"already registered")
    with store.transaction():
        with pytest.raises(DuplicateUniqueIdError):
            store.add_submission(ss, [*docs, clash], members, now=NOW)
        store.record_access(TraceEntry(NOW, "TD2.1", Outcome.ERROR, patient_ins=INS, detail="XDSDuplicateUniqueId"))
    assert store.counts() == {**before, "access_trace": before["access_trace"] + 1}
    assert store.get_submission_set("urn:uuid:ss-2") is None


def test_rplc_deprecates_the_replaced_document_and_builds_the_chain(store: Store) -> None:
    store.add_submission(*submission(1), now=NOW)
    rplc = Association("urn:uuid:r2", AssociationType.RPLC, "urn:uuid:doc-2-0", "urn:uuid:doc-1-0")
    store.add_submission(*submission(2, associations=(rplc,)), now=NOW)
    rplc3 = Association("urn:uuid:r3", AssociationType.RPLC, "urn:uuid:doc-3-0", "urn:uuid:doc-2-0")
    store.add_submission(*submission(3, associations=(rplc3,)), now=NOW)
    chain = store.replacement_chain("urn:uuid:doc-2-0")
    assert [r.entry_uuid for r in chain] == ["urn:uuid:doc-1-0", "urn:uuid:doc-2-0", "urn:uuid:doc-3-0"]
    assert [r.status for r in chain] == [DEPRECATED, DEPRECATED, APPROVED]
    again = Association("urn:uuid:r4", AssociationType.RPLC, "urn:uuid:doc-4-0", "urn:uuid:doc-1-0")
    with pytest.raises(StatusConflictError, match="Deprecated"):
        store.add_submission(*submission(4, associations=(again,)), now=NOW)
    foreign = Association("urn:uuid:r5", AssociationType.RPLC, "urn:uuid:doc-5-0", "urn:uuid:doc-3-0")
    with pytest.raises(StatusConflictError, match="another patient"):
        store.add_submission(*submission(5, ins=OTHER_INS, associations=(foreign,)), now=NOW)
    missing = Association("urn:uuid:r6", AssociationType.RPLC, "urn:uuid:doc-6-0", "urn:uuid:nope")
    with pytest.raises(UnknownObjectError):
        store.add_submission(*submission(6, associations=(missing,)), now=NOW)
    assert store.get_document("urn:uuid:doc-6-0") is None


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("urn:uuid:doc-1-1", "urn:uuid:doc-1-0", "must be a new document of the same submission"),
        ("urn:uuid:doc-2-0", "urn:uuid:doc-2-0", "cannot replace a document by itself"),
    ],
    ids=["source-not-in-the-submission", "self-replacement"],
)
def test_rplc_must_come_from_a_new_document_other_than_its_target(
    store: Store, source: str, target: str, expected: str
) -> None:
    store.add_submission(*submission(1, documents=2), now=NOW)
    before = store.counts()
    rplc = Association("urn:uuid:r2", AssociationType.RPLC, source, target)
    with pytest.raises(StoreError, match=expected):
        store.add_submission(*submission(2, associations=(rplc,)), now=NOW)
    assert store.counts() == before
    assert [store.require_document(f"urn:uuid:doc-1-{i}").status for i in range(2)] == [APPROVED, APPROVED]


def test_replacement_chain_stops_on_a_loop_in_the_stored_associations(store: Store) -> None:
    store.add_submission(*submission(1, documents=2), now=NOW)
    with store.transaction(), store.connection() as raw:  # a hand-edited database: two documents replace each other
        for n, (source, target) in enumerate([("1", "0"), ("0", "1")]):
            raw.execute(
                "INSERT INTO associations VALUES (?, ?, ?, ?, '{}', ?)",
                (f"urn:uuid:loop-{n}", AssociationType.RPLC.value, f"urn:uuid:doc-1-{source}",
                 f"urn:uuid:doc-1-{target}", NOW.isoformat()),
            )  # fmt: skip
    chain = [row.entry_uuid for row in store.replacement_chain("urn:uuid:doc-1-0")]
    assert sorted(chain) == ["urn:uuid:doc-1-0", "urn:uuid:doc-1-1"]


def _status_change(
    n: int, target: str, original: AvailabilityStatus, new: AvailabilityStatus
) -> tuple[SubmissionSet, list[NewDocument], list[Association]]:
    slots = {"OriginalStatus": (original.value,), "NewStatus": (new.value,)}
    change = Association(
        f"urn:uuid:u{n}", AssociationType.UPDATE_AVAILABILITY_STATUS, f"urn:uuid:ss-{n}", target, slots
    )
    return submission(n, documents=0, associations=(change,))


def test_availability_status_changes(store: Store) -> None:
    store.add_submission(*submission(1), now=NOW)
    store.add_submission(*_status_change(2, "urn:uuid:doc-1-0", APPROVED, ARCHIVED), now=NOW)
    assert store.require_document("urn:uuid:doc-1-0").status is ARCHIVED
    with pytest.raises(StatusConflictError, match="expected"):
        store.add_submission(*_status_change(3, "urn:uuid:doc-1-0", APPROVED, DELETED), now=NOW)
    row = store.update_document_status("urn:uuid:doc-1-0", expected=ARCHIVED, new=DELETED)
    assert row.status is DELETED
    with pytest.raises(StatusConflictError):
        store.update_document_status("urn:uuid:doc-1-0", expected=ARCHIVED, new=APPROVED)
    with pytest.raises(UnknownObjectError):
        store.update_document_status("urn:uuid:nope", expected=APPROVED, new=ARCHIVED)


def test_masking_is_a_metadata_update(store: Store) -> None:
    store.add_submission(*submission(1), now=NOW)
    later = NOW + timedelta(days=1)
    updated = store.set_document_flags("urn:uuid:doc-1-0", new_entry_uuid="urn:uuid:v2", now=later, masked_to_ps=True)
    assert (updated.lid, updated.version_name, updated.status) == ("urn:uuid:doc-1-0", 2, APPROVED)
    assert updated.masked_to_ps
    assert not updated.invisible_to_patient
    assert [c.code for c in updated.metadata.confidentiality] == ["N", "MASQUE_PS"]
    versions = store.document_versions("urn:uuid:doc-1-0")
    assert [(v.entry_uuid, v.status) for v in versions] == [("urn:uuid:doc-1-0", DEPRECATED), ("urn:uuid:v2", APPROVED)]
    assert not versions[0].masked_to_ps
    assert store.get_document("1.2.3.1.0") == updated
    assert store.get_content("1.2.3.1.0") == b"<ClinicalDocument/>0"
    with pytest.raises(StatusConflictError, match="latest"):
        store.set_document_flags("urn:uuid:doc-1-0", new_entry_uuid="urn:uuid:v3", now=later, masked_to_ps=False)
    unmasked = store.set_document_flags(
        "urn:uuid:v2", new_entry_uuid="urn:uuid:v3", now=later, masked_to_ps=False, invisible_to_patient=True
    )
    assert [c.code for c in unmasked.metadata.confidentiality] == ["N", "INVISIBLE_PATIENT"]


def test_find_documents_filters(store: Store) -> None:
    ss, docs, members = submission(1, documents=3)
    docs[1] = NewDocument(
        docs[1].entry_uuid,
        docs[1].unique_id,
        INS,
        metadata("MASQUE_PS", type_code="11502-2", when=NOW - timedelta(days=400)),
        b"lab",
    )
    store.add_submission(ss, docs, members, now=NOW)
    store.update_document_status("urn:uuid:doc-1-2", expected=APPROVED, new=ARCHIVED)
    store.add_submission(*submission(2, ins=OTHER_INS), now=NOW)

    def found(**kwargs: object) -> list[str]:
        return [r.entry_uuid.rsplit("-", 2)[-1] for r in store.find_documents(INS, **kwargs)]  # type: ignore[arg-type]

    assert found() == ["0", "1"]
    assert found(statuses=(ARCHIVED,)) == ["2"]
    assert found(statuses=tuple(AvailabilityStatus)) == ["0", "1", "2"]
    lab = Code("11502-2", "2.16.840.1.113883.6.1", "any display")
    assert found(where=DocumentFilter(type_codes=(lab,))) == ["1"]
    assert found(where=DocumentFilter(type_codes=(Code("11502-2", "other.scheme", ""),))) == []
    masked = load_value_set(ValueSetId.CONFIDENTIALITY_CODE).require("MASQUE_PS")
    assert found(where=DocumentFilter(confidentiality_codes=(masked,))) == ["1"]
    assert found(where=DocumentFilter(creation_from=NOW - timedelta(days=1))) == ["0"]
    assert found(where=DocumentFilter(creation_to=NOW - timedelta(days=1))) == ["1"]
    assert found(where=DocumentFilter(service_stop_from=NOW, service_stop_to=NOW + timedelta(seconds=1))) == ["0"]
    assert found(
        where=DocumentFilter(
            author_ids=("899900063480",), event_codes=(load_value_set(ValueSetId.EVENT_CODE).require("I10"),)
        )
    ) == ["0", "1"]
    assert found(where=DocumentFilter(author_ids=("8000",))) == []


def test_access_trace(store: Store) -> None:
    for minute in range(3):
        store.record_access(
            TraceEntry(
                NOW + timedelta(minutes=minute),
                "TD3.1",
                Outcome.ALLOWED,
                "899900063480",
                "10B0127189",
                "DIRECTE",
                "10",
                "normal",
                INS,
            )
        )
    refused = TraceEntry(NOW, "TD3.2", Outcome.REFUSED, patient_ins=OTHER_INS, detail="526: non")
    refused_id = store.record_access(refused)
    assert [e.patient_ins for e in store.access_trace(limit=2)] == [OTHER_INS, INS]
    latest = store.access_trace(patient=OTHER_INS)
    assert latest == [dataclasses.replace(refused, id=refused_id)]
    assert len(store.access_trace(patient=INS)) == 3


def test_reset_wipes_rows_but_keeps_the_schema(store: Store) -> None:
    store.add_submission(*submission(1), now=NOW)
    assert store.counts()["documents"] == 1
    store.reset()
    assert set(store.counts().values()) == {0}
    assert store.schema_version == SCHEMA_VERSION


def _in_threads(count: int, work: Callable[[int], None]) -> None:
    """Run ``work(n)`` in ``count`` short-lived threads at once; re-raise the first failure."""
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            work(n)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_threads_share_the_pooled_connections(tmp_path: Path) -> None:
    with Store.open(tmp_path / "dmp.sqlite3", pool_size=2) as small:
        small.upsert_patient(patient())

        def submit_five(n: int) -> None:
            for i in range(5):
                small.add_submission(*submission(n * 100 + i + 1), now=NOW)

        _in_threads(4, submit_five)
        assert small.counts()["documents"] == 20
        # four threads, at most the pool's two connections (one when the scheduler never let two overlap)
        assert 1 <= small.open_connections <= 2


def test_bursts_of_recycled_threads_do_not_leak_connections(store: Store) -> None:
    # anyio ends worker threads idle for 10 s: each burst here runs on threads that then die, as a
    # server idle between bursts of requests would; the connections stay bounded by the pool.
    def request(n: int) -> None:
        with store.transaction():
            store.record_access(TraceEntry(at=NOW, td="TD0.2", outcome=Outcome.ALLOWED, message_id=f"m-{n}"))
        store.get_patient(INS)

    for _ in range(10):
        _in_threads(12, request)
        assert store.open_connections <= 8
    assert len(store.access_trace(limit=1_000)) == 120


def test_a_closed_store_closes_connections_given_back_later(tmp_path: Path) -> None:
    opened = Store.open(tmp_path / "dmp.sqlite3")
    with opened.connection() as connection:
        opened.close()
        assert connection.execute("SELECT 1").fetchone()[0] == 1  # still usable by its holder
    with pytest.raises(sqlite3.ProgrammingError):
        connection.execute("SELECT 1")
    assert opened.open_connections == 0


_CHILD = """
import sys, time
from pathlib import Path
from mock_server.store import Store
from tests.mock_server.test_state import NOW, submission

store = Store.open(Path(sys.argv[1]))
for n in range(1, 6):
    store.add_submission(*submission(n), now=NOW)
with store.transaction():
    store.add_submission(*submission(99, documents=40, content=b"x" * 200_000), now=NOW)
    print("inside", flush=True)
    time.sleep(120)
"""


def test_kill_9_keeps_committed_submissions_and_drops_the_open_one(tmp_path: Path) -> None:
    path = tmp_path / "dmp.sqlite3"
    with Store.open(path) as prepared:
        prepared.upsert_patient(patient())
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(path)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line == b"inside\n", child.stderr.read() if child.stderr else b""
        assert path.with_name(path.name + "-wal").stat().st_size > 1_000_000  # the open transaction spilled to disk
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    with Store.open(path) as reopened:
        counts = reopened.counts()
        assert counts["submission_sets"] == 5
        assert counts["documents"] == 5
        assert counts["contents"] == 1  # content-addressed: the five committed documents share their bytes
        assert reopened.get_submission_set("urn:uuid:ss-99") is None
        assert [reopened.get_content(f"1.2.3.{n}.0") for n in range(1, 6)] == [b"<ClinicalDocument/>0"] * 5
        with reopened.connection() as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
