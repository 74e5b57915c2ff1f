"""SQLite persistence of the mock DMP: patients, authorisations, registry/repository, access trace.

Durability choices (stdlib :mod:`sqlite3`):

* WAL journal + one ``BEGIN IMMEDIATE`` transaction per request (:meth:`Store.transaction`): a request's
  writes are all visible or none are, even if the process is killed mid-way (the uncommitted WAL frames
  are ignored on reopen).
* ``synchronous=NORMAL`` by default: in WAL mode a committed transaction has been written to the OS
  before ``COMMIT`` returns, so it survives ``kill -9`` of the server; only a power loss or OS crash may
  lose the last commits (never corrupt the file). ``FULL`` (fsync at every commit) is available for
  storage that must survive power loss, at a cost in latency.
* Connections: a bounded pool (``pool_size``, :mod:`mock_server._pool`). A thread checks a connection
  out for one transaction or one query (SQLite connections must not be used by two threads at once)
  and gives it back, so worker threads may come and go without leaking connections. Repository methods
  join the caller's open transaction (as a savepoint) or run in their own.
* Writers: the app serialises the writers of its process with an in-process lock, which wakes the next
  writer at once, whereas SQLite's busy handler polls with sleeps of up to 100 ms. ``busy_timeout``
  still bounds waits on the file lock held by another process (``dmp mock seed`` or ``reset`` while a
  server runs) and on a free pooled connection.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Final, Literal

from dmpclient.errors import DmpValidationError
from dmpclient.xds.codes import AssociationType, AvailabilityStatus
from mock_server import _rows
from mock_server._pool import ConnectionPool
from mock_server.migrations import migrate
from mock_server.records import (
    Association,
    Authorisation,
    AuthorisationStatus,
    DocumentRow,
    DuplicateUniqueIdError,
    NewDocument,
    Patient,
    StatusConflictError,
    StoreError,
    SubjectKind,
    SubmissionSet,
    TraceEntry,
    UnknownObjectError,
)
from mock_server.search import DocumentFilter

__all__ = ["DATABASE_FILENAME", "Store", "database_path"]

#: File name of the store inside the mock's data directory.
DATABASE_FILENAME: Final = "dmp-mock.sqlite3"
_TABLES: Final = (
    "access_trace",
    "associations",
    "documents",
    "submission_sets",
    "contents",
    "authorisations",
    "patients",
)
_DOCUMENT_SELECT: Final = "SELECT d.*, c.size FROM documents d JOIN contents c ON c.hash = d.content_hash"


def database_path(data_dir: Path) -> Path:
    """Where the store lives in a data directory (``dmp mock … --data DIR``)."""
    return data_dir / DATABASE_FILENAME


class Store:
    """The mock's persistent state. Open with :meth:`open`; share one instance between threads."""

    def __init__(self, path: Path, *, synchronous: str, busy_timeout_ms: int, pool_size: int) -> None:
        self.path = path
        self._synchronous = synchronous
        self._busy_timeout_ms = busy_timeout_ms
        self._pool = ConnectionPool(self._connect, size=pool_size, wait_seconds=busy_timeout_ms / 1000)
        self._local = threading.local()

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        busy_timeout_ms: int = 10_000,
        pool_size: int = 8,
    ) -> Store:
        """Open (creating if needed) the store at ``path`` and apply pending migrations.

        Args:
            pool_size: the most SQLite connections open at once (threads beyond it wait for one).
        """
        if synchronous not in ("NORMAL", "FULL"):
            raise DmpValidationError("synchronous: NORMAL or FULL", field="synchronous")
        if pool_size < 1:
            raise DmpValidationError("pool_size: at least 1", field="pool_size")
        path.parent.mkdir(parents=True, exist_ok=True)
        store = cls(path, synchronous=synchronous, busy_timeout_ms=busy_timeout_ms, pool_size=pool_size)
        try:
            with store._pool.checkout() as connection:
                migrate(connection)
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        """Close the pooled connections (call once, when the server stops)."""
        self._pool.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute(f"PRAGMA synchronous = {self._synchronous}")
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms:d}")
        except BaseException:
            connection.close()
            raise
        return connection

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """A pooled connection for raw SQL (maintenance, benchmarks); the open transaction's one if any."""
        with self._pool.checkout() as connection:
            yield connection

    @property
    def open_connections(self) -> int:
        """SQLite connections open now (at most ``pool_size``)."""
        return self._pool.open_count

    @property
    def schema_version(self) -> int:
        return int(self._query("PRAGMA user_version")[0][0])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit: ``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` on any exception.

        Nested calls (a repository method inside a request's transaction) are savepoints: a failed inner
        unit is undone even if the caller catches its exception and the outer transaction commits.
        """
        with self._pool.checkout() as connection:
            depth: int = getattr(self._local, "depth", 0)
            if depth:
                begin, commit, rollback = f"SAVEPOINT s{depth}", f"RELEASE s{depth}", f"ROLLBACK TO s{depth}"
            else:
                begin, commit, rollback = "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"
            connection.execute(begin)
            self._local.depth = depth + 1
            try:
                yield
                connection.execute(commit)
            except BaseException:
                if connection.in_transaction:
                    connection.execute(rollback)
                    if depth:
                        connection.execute(commit)
                raise
            finally:
                self._local.depth = depth

    def _query(self, sql: str, params: Sequence[object] | dict[str, object] = ()) -> list[sqlite3.Row]:
        with self._pool.checkout() as connection:
            return connection.execute(sql, params).fetchall()

    def _execute(self, sql: str, params: Sequence[object] | dict[str, object] = ()) -> sqlite3.Cursor:
        """A write statement; call it inside :meth:`transaction` (the cursor stays on that connection)."""
        with self._pool.checkout() as connection:
            return connection.execute(sql, params)

    # --- patients ---------------------------------------------------------------------------------

    def get_patient(self, ins: str) -> Patient | None:
        rows = self._query("SELECT * FROM patients WHERE ins = ?", (ins,))
        return _rows.patient(rows[0]) if rows else None

    def list_patients(self) -> list[Patient]:
        return [_rows.patient(row) for row in self._query("SELECT * FROM patients ORDER BY ins")]

    def upsert_patient(self, patient: Patient) -> None:
        params = _rows.patient_params(patient)
        columns = ", ".join(params)
        updates = ", ".join(f"{name} = excluded.{name}" for name in params if name != "ins")
        placeholders = ", ".join(f":{name}" for name in params)
        sql = f"INSERT INTO patients ({columns}) VALUES ({placeholders}) ON CONFLICT (ins) DO UPDATE SET {updates}"  # noqa: S608 - column names are ours
        with self.transaction():
            self._execute(sql, params)

    # --- authorisations ---------------------------------------------------------------------------

    def list_authorisations(
        self, ins: str, *, statuses: Collection[AuthorisationStatus] | None = None
    ) -> list[Authorisation]:
        """The patient's authorisations (TD1.6), optionally only those with a stored status in ``statuses``."""
        rows = self._query("SELECT * FROM authorisations WHERE patient_ins = ? ORDER BY granted_at, subject_id", (ins,))
        found = [_rows.authorisation(row) for row in rows]
        return [a for a in found if statuses is None or a.status in statuses]

    def authorisations_of(self, subject_id: str) -> list[Authorisation]:
        """Every authorisation held by a PS or a structure (TD0.4)."""
        rows = self._query("SELECT * FROM authorisations WHERE subject_id = ? ORDER BY patient_ins", (subject_id,))
        return [_rows.authorisation(row) for row in rows]

    def set_authorisation(self, authorisation: Authorisation) -> None:
        """Create or replace the authorisation of (patient, kind, subject)."""
        params = _rows.authorisation_params(authorisation)
        columns = ", ".join(params)
        placeholders = ", ".join(f":{name}" for name in params)
        with self.transaction():
            self._require_patient(authorisation.patient_ins)
            self._execute(f"INSERT OR REPLACE INTO authorisations ({columns}) VALUES ({placeholders})", params)  # noqa: S608

    def remove_authorisation(self, ins: str, subject_id: str, kind: SubjectKind) -> bool:
        """Delete an authorisation; False when there was none."""
        with self.transaction():
            cursor = self._execute(
                "DELETE FROM authorisations WHERE patient_ins = ? AND subject_kind = ? AND subject_id = ?",
                (ins, kind.value, subject_id),
            )
        return cursor.rowcount > 0

    def is_authorised(self, ins: str, ps_id: str, structure_id: str | None, now: datetime) -> AuthorisationStatus:
        """The caller's TD0.2 ``AUTORISATION`` status on this DMP.

        A block of the PS wins; then a valid authorisation of the PS or of his structure (606 note 1);
        then an expired one; then a blocked structure; else NON_EXISTE.
        """
        by_kind = {
            (a.subject_kind, a.subject_id): a.status_at(now)
            for a in self.list_authorisations(ins)
            if a.subject_id in (ps_id, structure_id)
        }
        mine = by_kind.get((SubjectKind.PROFESSIONAL, ps_id))
        structure = by_kind.get((SubjectKind.STRUCTURE, structure_id)) if structure_id else None
        for status in (AuthorisationStatus.INTERDIT, AuthorisationStatus.VALIDE, AuthorisationStatus.EXPIRE):
            if mine is status or (structure is status and status is not AuthorisationStatus.INTERDIT):
                return status
        return structure or AuthorisationStatus.NON_EXISTE

    def treating_physician_of(self, ins: str, now: datetime) -> Authorisation | None:
        """The patient's médecin traitant DMP (a valid, unexpired professional authorisation with the MT flag)."""
        for authorisation in self.list_authorisations(ins, statuses=(AuthorisationStatus.VALIDE,)):
            if authorisation.treating_physician and authorisation.status_at(now) is AuthorisationStatus.VALIDE:
                return authorisation
        return None

    # --- submissions (TD2.1, TD3.3) ---------------------------------------------------------------

    def add_submission(
        self,
        submission_set: SubmissionSet,
        documents: Sequence[NewDocument],
        associations: Sequence[Association],
        *,
        now: datetime,
    ) -> None:
        """Register a submission atomically, with the registry effects of its associations.

        RPLC deprecates its (Approved, same-patient) target and must come from a new document of this
        submission other than the target; UpdateAvailabilityStatus changes the target's status from
        ``OriginalStatus`` to ``NewStatus``. Any failure writes nothing.

        Raises:
            UnknownObjectError, DuplicateUniqueIdError, StatusConflictError: see :class:`StoreError`.
            StoreError: an RPLC whose source is not a new document of the submission, or is its target.
        """
        _check_replacements(documents, associations)
        with self.transaction():
            self._require_patient(submission_set.patient_ins)
            if self._query("SELECT 1 FROM submission_sets WHERE unique_id = ?", (submission_set.unique_id,)):
                raise DuplicateUniqueIdError(f"submission set uniqueId {submission_set.unique_id} already registered")
            self._execute(
                "INSERT INTO submission_sets VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    submission_set.entry_uuid,
                    submission_set.unique_id,
                    submission_set.patient_ins,
                    submission_set.status.value,
                    _rows.ts(submission_set.submission_time),
                    _rows.submission_set_json(submission_set),
                    _rows.ts(now),
                ),
            )
            for document in documents:
                self._insert_document(document, submission_set, now)
            for association in associations:
                self._insert_association(association, submission_set.patient_ins, now)

    def _insert_document(self, document: NewDocument, submission_set: SubmissionSet, now: datetime) -> None:
        if document.patient_ins != submission_set.patient_ins:
            raise StatusConflictError(
                "a document's patient differs from its submission set's (XDSPatientIdDoesNotMatch)"
            )
        if self._query("SELECT 1 FROM documents WHERE unique_id = ?", (document.unique_id,)):
            raise DuplicateUniqueIdError(f"document uniqueId {document.unique_id} already registered")
        digest = hashlib.sha1(document.content, usedforsecurity=False).hexdigest()
        self._execute(
            "INSERT OR IGNORE INTO contents (hash, size, data) VALUES (?, ?, ?)",
            (digest, len(document.content), document.content),
        )
        self._write_entry(document.entry_uuid, document.entry_uuid, 1, document, digest, submission_set.entry_uuid, now)

    def _write_entry(
        self,
        entry_uuid: str,
        lid: str,
        version_name: int,
        document: NewDocument,
        digest: str,
        submission_set_id: str | None,
        now: datetime,
    ) -> None:
        self._execute(
            "INSERT INTO documents (entry_uuid, lid, version_name, unique_id, patient_ins, status, masked_to_ps, "
            "invisible_to_patient, invisible_to_legal_reps, content_hash, metadata, submission_set_id, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry_uuid,
                lid,
                version_name,
                document.unique_id,
                document.patient_ins,
                document.status.value,
                *_rows.flags_of(document.metadata),
                digest,
                _rows.metadata_json(document.metadata),
                submission_set_id,
                _rows.ts(now),
            ),
        )

    def _insert_association(self, association: Association, patient_ins: str, now: datetime) -> None:
        if association.type is AssociationType.RPLC:
            target = self.require_document(association.target)
            if target.patient_ins != patient_ins:
                raise StatusConflictError("the replaced document belongs to another patient (XDSPatientIdDoesNotMatch)")
            self._change_status(target, AvailabilityStatus.APPROVED, AvailabilityStatus.DEPRECATED)
        elif association.type is AssociationType.UPDATE_AVAILABILITY_STATUS:
            original, new = (association.slots.get(name, ("",))[0] for name in ("OriginalStatus", "NewStatus"))
            target = self.require_document(association.target)
            self._change_status(target, _status(original), _status(new))
        self._execute(
            "INSERT INTO associations VALUES (?, ?, ?, ?, ?, ?)",
            (
                association.entry_uuid,
                association.type.value,
                association.source,
                association.target,
                json.dumps({k: list(v) for k, v in association.slots.items()}, sort_keys=True),
                _rows.ts(now),
            ),
        )

    def _change_status(self, row: DocumentRow, expected: AvailabilityStatus, new: AvailabilityStatus) -> None:
        if row.status is not expected:
            raise StatusConflictError(f"document status is {row.status.value}, expected {expected.value}")
        self._execute("UPDATE documents SET status = ? WHERE entry_uuid = ?", (new.value, row.entry_uuid))

    def _require_patient(self, ins: str) -> None:
        if not self._query("SELECT 1 FROM patients WHERE ins = ?", (ins,)):
            raise UnknownObjectError("unknown patient")

    def update_document_status(
        self, entry_uuid: str, *, expected: AvailabilityStatus, new: AvailabilityStatus
    ) -> DocumentRow:
        """Change a document entry's status if it is ``expected`` (TD3.3c/d)."""
        with self.transaction():
            self._change_status(self.require_document(entry_uuid), expected, new)
            return self.require_document(entry_uuid)

    def set_document_flags(
        self,
        entry_uuid: str,
        *,
        new_entry_uuid: str,
        now: datetime,
        masked_to_ps: bool | None = None,
        invisible_to_patient: bool | None = None,
        invisible_to_legal_reps: bool | None = None,
        submission_set_id: str | None = None,
    ) -> DocumentRow:
        """Change masking / visibility as an ITI-57 metadata update (TD3.3a/b).

        The current version (which must be the latest of its ``lid`` and not Deprecated or Deleted) is
        copied under ``new_entry_uuid`` with ``version_name`` + 1 and the new flags; it becomes Deprecated.
        """
        with self.transaction():
            current = self.require_document(entry_uuid)
            latest = self.document_versions(current.lid)[-1]
            if latest.entry_uuid != current.entry_uuid or current.status in _FINAL:
                raise StatusConflictError("only the latest, non-deprecated metadata version can be updated")
            old_flags = _rows.flags_of(current.metadata)
            wanted = (masked_to_ps, invisible_to_patient, invisible_to_legal_reps)
            flags = tuple(int(new) if new is not None else old for new, old in zip(wanted, old_flags, strict=True))
            self._execute("UPDATE documents SET status = ? WHERE entry_uuid = ?", (_DEPRECATED, entry_uuid))
            copy = NewDocument(
                new_entry_uuid, current.unique_id, current.patient_ins, current.metadata, b"", current.status
            )
            self._write_entry(
                new_entry_uuid, current.lid, current.version_name + 1, copy, current.hash, submission_set_id, now
            )
            self._execute(
                "UPDATE documents SET masked_to_ps = ?, invisible_to_patient = ?, invisible_to_legal_reps = ? "
                "WHERE entry_uuid = ?",
                (*flags, new_entry_uuid),
            )
            return self.require_document(new_entry_uuid)

    # --- registry queries -------------------------------------------------------------------------

    def get_document(self, identifier: str) -> DocumentRow | None:
        """A document entry by entryUUID (``urn:uuid:…``), or the latest metadata version of a uniqueId."""
        if identifier.startswith("urn:uuid:"):
            rows = self._query(f"{_DOCUMENT_SELECT} WHERE d.entry_uuid = ?", (identifier,))
        else:
            rows = self._query(
                f"{_DOCUMENT_SELECT} WHERE d.unique_id = ? ORDER BY d.version_name DESC LIMIT 1",
                (identifier,),
            )
        return _rows.document(rows[0]) if rows else None

    def require_document(self, identifier: str) -> DocumentRow:
        """:meth:`get_document`, raising :class:`UnknownObjectError` when there is none."""
        row = self.get_document(identifier)
        if row is None:
            raise UnknownObjectError(f"unknown document {identifier}")
        return row

    def get_content(self, unique_id: str) -> bytes | None:
        """The document bytes (TD3.2, by uniqueId)."""
        rows = self._query(
            "SELECT c.data FROM documents d JOIN contents c ON c.hash = d.content_hash WHERE d.unique_id = ? LIMIT 1",
            (unique_id,),
        )
        return bytes(rows[0]["data"]) if rows else None

    def find_documents(
        self,
        ins: str,
        *,
        statuses: Collection[AvailabilityStatus] = (AvailabilityStatus.APPROVED,),
        where: DocumentFilter | None = None,
    ) -> list[DocumentRow]:
        """FindDocuments (TD3.1): the patient's entries with one of ``statuses``, matching ``where``."""
        rows = self._query(
            f"{_DOCUMENT_SELECT} WHERE d.patient_ins = ? AND d.status IN (SELECT value FROM json_each(?)) "  # noqa: S608
            "ORDER BY d.created_at, d.entry_uuid",
            (ins, json.dumps([s.value for s in statuses])),
        )
        found = [_rows.document(row) for row in rows]
        return [row for row in found if where is None or where.matches(row)]

    def document_versions(self, lid: str) -> list[DocumentRow]:
        """The metadata versions of a logical document (ITI-57), oldest first."""
        rows = self._query(f"{_DOCUMENT_SELECT} WHERE d.lid = ? ORDER BY d.version_name", (lid,))
        return [_rows.document(row) for row in rows]

    def associations(
        self, object_ids: Collection[str], *, types: Collection[AssociationType] | None = None
    ) -> list[Association]:
        """Associations whose source or target is one of ``object_ids`` (GetAssociations), oldest first."""
        ids = json.dumps(sorted(object_ids))
        rows = self._query(
            "SELECT * FROM associations WHERE source IN (SELECT value FROM json_each(?)) "
            "OR target IN (SELECT value FROM json_each(?)) ORDER BY created_at, entry_uuid",
            (ids, ids),
        )
        found = [
            Association(
                row["entry_uuid"],
                AssociationType(row["type"]),
                row["source"],
                row["target"],
                {k: tuple(v) for k, v in json.loads(row["slots"]).items()},
            )
            for row in rows
        ]
        return [a for a in found if types is None or a.type in types]

    def replacement_chain(self, entry_uuid: str) -> list[DocumentRow]:
        """The RPLC chain through a document (GetRelatedDocuments), oldest version first.

        Each document appears once, even if the stored associations loop (they cannot through
        :meth:`add_submission`, but the database file may have been edited).
        """
        oldest, seen = entry_uuid, {entry_uuid}
        while (older := [a.target for a in self._rplc(oldest) if a.source == oldest]) and older[0] not in seen:
            oldest = older[0]
            seen.add(oldest)
        chain = [self.require_document(oldest)]
        seen = {oldest}
        current = oldest
        while (newer := [a.source for a in self._rplc(current) if a.target == current]) and newer[0] not in seen:
            current = newer[0]
            seen.add(current)
            chain.append(self.require_document(current))
        return chain

    def _rplc(self, entry_uuid: str) -> list[Association]:
        return self.associations((entry_uuid,), types=(AssociationType.RPLC,))

    def get_submission_set(self, identifier: str) -> SubmissionSet | None:
        """A submission set by entryUUID or uniqueId."""
        rows = self._query(
            "SELECT * FROM submission_sets WHERE entry_uuid = ? OR unique_id = ?", (identifier, identifier)
        )
        return _rows.submission_set(rows[0]) if rows else None

    # --- access trace -----------------------------------------------------------------------------

    def record_access(self, entry: TraceEntry) -> int:
        """Append a trace entry; returns its id."""
        params = _rows.trace_params(entry)
        columns = ", ".join(params)
        placeholders = ", ".join(f":{name}" for name in params)
        with self.transaction():
            cursor = self._execute(f"INSERT INTO access_trace ({columns}) VALUES ({placeholders})", params)  # noqa: S608
        return int(cursor.lastrowid or 0)

    def access_trace(self, *, patient: str | None = None, limit: int = 100) -> list[TraceEntry]:
        """The most recent trace entries first, optionally for one patient."""
        if patient is None:
            rows = self._query("SELECT * FROM access_trace ORDER BY id DESC LIMIT ?", (limit,))
        else:
            rows = self._query(
                "SELECT * FROM access_trace WHERE patient_ins = ? ORDER BY id DESC LIMIT ?", (patient, limit)
            )
        return [_rows.trace(row) for row in rows]

    # --- maintenance ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Wipe every row (the schema stays)."""
        with self.transaction():
            for table in _TABLES:
                self._execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

    def counts(self) -> dict[str, int]:
        """Row count of every table."""
        return {table: int(self._query(f"SELECT count(*) FROM {table}")[0][0]) for table in _TABLES}  # noqa: S608


_DEPRECATED: Final = AvailabilityStatus.DEPRECATED.value
_FINAL: Final = frozenset({AvailabilityStatus.DEPRECATED, AvailabilityStatus.DELETED})


def _check_replacements(documents: Sequence[NewDocument], associations: Sequence[Association]) -> None:
    """An RPLC replaces an existing document by a new one of the same submission (ITI-42), never by itself."""
    new = {document.entry_uuid for document in documents}
    for association in associations:
        if association.type is not AssociationType.RPLC:
            continue
        if association.source not in new:
            raise StoreError("an RPLC association's source must be a new document of the same submission")
        if association.source == association.target:
            raise StoreError("an RPLC association cannot replace a document by itself")


def _status(urn: str) -> AvailabilityStatus:
    try:
        return AvailabilityStatus(urn)
    except ValueError:
        raise StatusConflictError(f"unknown availability status {urn!r}") from None
