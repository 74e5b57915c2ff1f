"""Document versions for a consuming system (reference §7): the import rules, and finding newer versions.

**Import rules** (§7.2, the DMP's answer to SC.CDA/DD.05 in SEED), a pure function of CDA header fields:
the same ``id`` already stored → reject; no stored document of the same ``setId`` → import; the same
``setId`` and ``versionNumber`` → reject; otherwise store it, but never over a higher version: the current
version of a set is the one with the highest ``versionNumber``. The decision says which rule applied.

**New versions in the DMP** (§7.3): one FindDocuments per patient with statuses Approved + Deprecated
tells, for every document the caller already integrated, whether it is still current; only those that
came back Deprecated (replaced) cost a GetRelatedDocuments, which returns their whole RPLC chain (a chain
covering several known documents is asked once). :class:`NewVersionSearch` is the plan, without I/O;
the clients drive it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from dmpclient.xds.cda import CdaHeader
from dmpclient.xds.codes import AssociationType, AvailabilityStatus
from dmpclient.xds.identifiers import Cx
from dmpclient.xds.models import DocumentEntry
from dmpclient.xds.queries import FindDocuments, GetRelatedDocuments
from dmpclient.xds.results import QueryResult

__all__ = [
    "ImportAction",
    "ImportDecision",
    "ImportRule",
    "KnownDocument",
    "NewVersionSearch",
    "NewVersionsReport",
    "VersionCheck",
    "VersionState",
    "current_versions",
    "decide_import",
]

_FROZEN = ConfigDict(frozen=True)


class ImportAction(StrEnum):
    """What to do with a received CDA."""

    IMPORT = "import"
    REJECT = "reject"


class ImportRule(StrEnum):
    """Which rule of §7.2 decided."""

    DUPLICATE_ID = "duplicate-id"  # rule 1: the same document id is already stored
    NEW_DOCUMENT = "new-document"  # rule 2: no stored version of this set
    DUPLICATE_VERSION = "duplicate-version"  # rule 3: this set already has this version number
    NEWER_VERSION = "newer-version"  # rule 4/5: stored, and it becomes the current version
    OLDER_VERSION = "older-version"  # rule 4: stored as history; a higher version stays current


class ImportDecision(BaseModel):
    """The verdict on one received CDA, with the rule that gave it and why in words."""

    model_config = _FROZEN

    action: ImportAction
    rule: ImportRule
    becomes_current: bool
    set_id: str
    version_number: int
    current_version: int
    explanation: str


def decide_import(candidate: CdaHeader, stored: Iterable[CdaHeader]) -> ImportDecision:
    """Apply §7.2 to a received CDA against the documents already stored (any sets).

    A candidate without ``setId`` joins the set of the stored document it replaces (``relatedDocument``
    RPLC), else forms its own set; a missing ``versionNumber`` counts as 1 (project design, §7.2).
    """
    documents = list(stored)
    set_id = _set_of(candidate, documents)
    version = candidate.version
    same_set = [doc for doc in documents if _set_of(doc, documents) == set_id]
    current = max((doc.version for doc in same_set), default=0)

    def decision(action: ImportAction, rule: ImportRule, becomes_current: bool, why: str) -> ImportDecision:
        return ImportDecision(
            action=action,
            rule=rule,
            becomes_current=becomes_current,
            set_id=set_id,
            version_number=version,
            current_version=max(current, version) if becomes_current else current,
            explanation=why,
        )

    if any(doc.id == candidate.id for doc in documents):
        return decision(ImportAction.REJECT, ImportRule.DUPLICATE_ID, False, "this document id is already stored")
    if not same_set:
        return decision(ImportAction.IMPORT, ImportRule.NEW_DOCUMENT, True, "no version of this setId is stored")
    if any(doc.version == version for doc in same_set):
        return decision(
            ImportAction.REJECT,
            ImportRule.DUPLICATE_VERSION,
            False,
            f"version {version} of this setId is already stored (with another id)",
        )
    if version > current:
        return decision(
            ImportAction.IMPORT, ImportRule.NEWER_VERSION, True, f"version {version} replaces version {current}"
        )
    return decision(
        ImportAction.IMPORT,
        ImportRule.OLDER_VERSION,
        False,
        f"version {version} is older than the stored version {current}: kept as history, never over it",
    )


def _set_of(header: CdaHeader, stored: Sequence[CdaHeader]) -> str:
    if header.set_id:
        return header.set_id
    for replaced in header.replaces:
        parent = next((doc for doc in stored if doc.id == replaced), None)
        if parent is not None and parent is not header:
            return parent.set_id or parent.id
    return header.id


def current_versions(headers: Iterable[CdaHeader]) -> dict[str, CdaHeader]:
    """The current version of each set: the highest ``versionNumber`` (§7.2 rule 5)."""
    documents = list(headers)
    current: dict[str, CdaHeader] = {}
    for header in documents:
        key = _set_of(header, documents)
        if key not in current or header.version > current[key].version:
            current[key] = header
    return current


# --- newer versions in the DMP ------------------------------------------------------------------


class KnownDocument(BaseModel):
    """A document the caller already integrated, as kept locally (§7.3): its uniqueId, and its entryUUID
    when known (what the registry returned when it was downloaded)."""

    model_config = _FROZEN

    unique_id: str
    entry_uuid: str | None = None

    @classmethod
    def of(cls, entry: DocumentEntry) -> KnownDocument:
        """The identity of a document entry the caller downloaded."""
        return cls(unique_id=entry.unique_id, entry_uuid=entry.entry_uuid)


class VersionState(StrEnum):
    """What became of a known document."""

    CURRENT = "current"  # still the approved version
    METADATA_UPDATED = "metadata-updated"  # same document, new metadata version (masking, visibility; ITI-57)
    REPLACED = "replaced"  # a newer version was published (RPLC)
    NOT_FOUND = "not-found"  # no longer listed: archived, deleted, or hidden from this caller


class VersionCheck(BaseModel):
    """The verdict for one known document.

    Attributes:
        current: the entry that is now current for this document (itself, its new metadata version, or the
            newest version of its chain); ``None`` when not found.
        newer: the versions published after the known one, oldest first (REPLACED only).
    """

    model_config = _FROZEN

    known: KnownDocument
    state: VersionState
    current: DocumentEntry | None = None
    newer: tuple[DocumentEntry, ...] = ()

    @property
    def has_new_version(self) -> bool:
        return self.state is VersionState.REPLACED


class NewVersionsReport(BaseModel):
    """The answer of ``find_new_versions``: one check per known document, and what it cost."""

    model_config = _FROZEN

    checks: tuple[VersionCheck, ...]
    round_trips: int

    @property
    def replaced(self) -> tuple[VersionCheck, ...]:
        """The known documents that have a newer version in the DMP."""
        return tuple(check for check in self.checks if check.has_new_version)


class NewVersionSearch:
    """The plan of ``find_new_versions`` without I/O: queries to send, answers to take, then the report."""

    def __init__(self, patient: Cx, known: Sequence[KnownDocument]) -> None:
        self._patient = patient
        self._known = list(known)
        self._checks: dict[int, VersionCheck] = {}
        self._pending: list[tuple[int, DocumentEntry]] = []
        self._entries: dict[str, DocumentEntry] = {}
        self._round_trips = 0

    def first_query(self) -> FindDocuments:
        """One FindDocuments for the patient, Approved and Deprecated (§7.3)."""
        return FindDocuments(
            patient_id=self._patient, status=(AvailabilityStatus.APPROVED, AvailabilityStatus.DEPRECATED)
        )

    def take_documents(self, result: QueryResult) -> None:
        """Classify every known document from the FindDocuments answer."""
        self._round_trips += 1
        entries = result.documents
        self._entries = {entry.entry_uuid: entry for entry in entries}
        by_unique: dict[str, list[DocumentEntry]] = {}
        for entry in entries:
            by_unique.setdefault(entry.unique_id, []).append(entry)
        for index, known in enumerate(self._known):
            versions = by_unique.get(known.unique_id, [])
            approved = [entry for entry in versions if entry.status == AvailabilityStatus.APPROVED]
            mine = self._entries.get(known.entry_uuid) if known.entry_uuid else None
            if approved:
                state = VersionState.CURRENT if mine is None or mine in approved else VersionState.METADATA_UPDATED
                self._checks[index] = VersionCheck(known=known, state=state, current=approved[0])
            elif versions:
                self._pending.append((index, mine or versions[-1]))
            else:
                self._checks[index] = VersionCheck(known=known, state=VersionState.NOT_FOUND)

    def next_query(self) -> GetRelatedDocuments | None:
        """The GetRelatedDocuments of the next replaced document still unresolved, or ``None`` when done."""
        if not self._pending:
            return None
        _, entry = self._pending[0]
        return GetRelatedDocuments(entry_uuid=entry.entry_uuid, association_types=(AssociationType.RPLC,))

    def take_related(self, result: QueryResult) -> None:
        """Resolve, from one RPLC chain, every pending known document it covers."""
        self._round_trips += 1
        entries = {entry.entry_uuid: entry for entry in result.documents}
        newer_of = {a.target: a.source for a in result.associations if a.is_replacement}
        still: list[tuple[int, DocumentEntry]] = []
        for position, (index, entry) in enumerate(self._pending):
            if entry.entry_uuid not in entries and position > 0:
                still.append((index, entry))
                continue
            chain = _successors(entry.entry_uuid, newer_of, entries)
            state = VersionState.REPLACED if chain else VersionState.NOT_FOUND
            self._checks[index] = VersionCheck(
                known=self._known[index], state=state, current=chain[-1] if chain else None, newer=tuple(chain)
            )
        self._pending = still

    def report(self) -> NewVersionsReport:
        """Every check, in the order the known documents were given."""
        return NewVersionsReport(
            checks=tuple(self._checks[index] for index in range(len(self._known))), round_trips=self._round_trips
        )


def _successors(entry_uuid: str, newer_of: dict[str, str], entries: dict[str, DocumentEntry]) -> list[DocumentEntry]:
    """The versions after ``entry_uuid`` along RPLC, oldest first (loops cut)."""
    chain: list[DocumentEntry] = []
    seen = {entry_uuid}
    current = entry_uuid
    while (successor := newer_of.get(current)) is not None and successor not in seen and successor in entries:
        chain.append(entries[successor])
        seen.add(successor)
        current = successor
    return chain
