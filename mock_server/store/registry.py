"""The registry and repository (TD2.1, TD3.1, TD3.2, TD3.3): submissions, document entries and their
metadata versions, contents, associations (RPLC, status updates)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Final

from dmpclient.xds.codes import AssociationType, AvailabilityStatus
from mock_server.domain.search import DocumentFilter
from mock_server.store import rows as _rows
from mock_server.store.patients import PatientStore
from mock_server.store.records import (
    Association,
    DocumentRow,
    DuplicateUniqueIdError,
    NewDocument,
    StatusConflictError,
    StoreError,
    SubmissionSet,
    UnknownObjectError,
)

__all__ = ["RegistryStore"]

_DOCUMENT_SELECT: Final = "SELECT d.*, c.size FROM documents d JOIN contents c ON c.hash = d.content_hash"


class RegistryStore(PatientStore):
    """Submission sets, document entries (every metadata version), contents and associations."""

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

    def find_submission_sets(
        self, ins: str, *, statuses: Collection[AvailabilityStatus] = (AvailabilityStatus.APPROVED,)
    ) -> list[SubmissionSet]:
        """FindSubmissionSets (TD3.1): the patient's submission sets with one of ``statuses``, oldest first."""
        rows = self._query(
            "SELECT * FROM submission_sets WHERE patient_ins = ? AND status IN (SELECT value FROM json_each(?)) "
            "ORDER BY submission_time, entry_uuid",
            (ins, json.dumps([s.value for s in statuses])),
        )
        return [_rows.submission_set(row) for row in rows]


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
