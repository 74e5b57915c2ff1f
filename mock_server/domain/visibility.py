"""Which documents a caller may see: the document-level rows of the rights matrices (526/606 TD3.2, §8).

The gate checks a transaction's base row (TD3.1a/b, TD3.2 "documents non masqués"). What a caller may
then read depends on each document's state, each state being a row of its own: masked to PS, invisible
to the patient or his legal representatives, archived, obsolete (Deprecated), deleted. Every row a
document falls under must allow the caller, with the row's notes honoured:

* note 6 (``OWN_DOCUMENTS``): a masked document only for its author;
* note 7 (``PATIENT_ALLOWED_MASKED_IN_EMERGENCY``): in break-glass / centre 15, only if the patient allowed it.

TD3.1 lists what TD3.2 would return (masked documents only for their author, the MT, or emergency
access the patient allowed). A reference search (ObjectRef, TD3.1b) by a caller who may read no document
(establishment certificate, CPE, PE: note 5, "e.g. before deleting") sees the documents of his own
structure — those TD3.3c note 9 lets him delete (**project design**: the matrices do not say more).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from dmpclient.transactions.rights import AccessMode, MatrixActor, NoteCondition, RightsAction, decide
from dmpclient.xds.codes import AvailabilityStatus
from mock_server.domain.authorship import is_own
from mock_server.store.records import DocumentRow

__all__ = ["Verdict", "Viewer", "document_rows", "may_read", "may_reference", "visible"]

_STATUS_ROWS: Final = {
    AvailabilityStatus.ARCHIVED: RightsAction.TD3_2_DOCS_ARCHIVES,
    AvailabilityStatus.DEPRECATED: RightsAction.TD3_2_DOCS_OBSOLETES,
    AvailabilityStatus.DELETED: RightsAction.TD3_2_DOCS_SUPPRIMES,
}


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who looks: the matrix column of the caller, his ids, and the patient's emergency consent."""

    auth_mode: str
    actor: MatrixActor
    access_mode: AccessMode
    ps_id: str
    structure_id: str
    patient_allows_masked_in_emergency: bool = False


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a document may be read, and if not which row refused it and why (French, for the answer)."""

    allowed: bool
    action: RightsAction | None = None
    reason_fr: str = ""


_ALLOWED: Final = Verdict(True)


def document_rows(row: DocumentRow) -> tuple[RightsAction, ...]:
    """Every TD3.2 row the document falls under (reference §8.1, §8.2)."""
    rows = [RightsAction.TD3_2_DOCS_MASQUES if row.masked_to_ps else RightsAction.TD3_2_DOCS_NON_MASQUES]
    if row.invisible_to_patient or row.invisible_to_legal_reps:
        rows.append(RightsAction.TD3_2_DOCS_INVISIBLES_PATIENT)
    if row.status in _STATUS_ROWS:
        rows.append(_STATUS_ROWS[row.status])
    return tuple(rows)


def may_read(viewer: Viewer, row: DocumentRow) -> Verdict:
    """Whether the viewer may read (TD3.2) this document: every row allows him, every note is met."""
    for action in document_rows(row):
        decision = decide(action, auth_mode=viewer.auth_mode, actor=viewer.actor, access_mode=viewer.access_mode)
        if not decision.allowed:
            return Verdict(False, action, f"Accès refusé : {decision.reason_fr}")
        conditions = decision.conditions
        if NoteCondition.OWN_DOCUMENTS in conditions and not is_own(row.metadata.author, viewer.ps_id):
            return Verdict(False, action, f"Accès refusé : {decision.reason_fr} (document d'un autre auteur)")
        if (
            NoteCondition.PATIENT_ALLOWED_MASKED_IN_EMERGENCY in conditions
            and not viewer.patient_allows_masked_in_emergency
        ):
            return Verdict(
                False, action, f"Accès refusé : {decision.reason_fr} (le patient n'a pas autorisé cet accès)"
            )
    return _ALLOWED


def _reads_documents(viewer: Viewer) -> bool:
    base = RightsAction.TD3_2_DOCS_NON_MASQUES
    return decide(base, auth_mode=viewer.auth_mode, actor=viewer.actor, access_mode=viewer.access_mode).allowed


def may_reference(viewer: Viewer, row: DocumentRow) -> Verdict:
    """Whether an ObjectRef search (TD3.1b) may return this document (see the module notes)."""
    if _reads_documents(viewer):
        return may_read(viewer, row)
    if row.metadata.author.structure_id == viewer.structure_id:
        return _ALLOWED
    return Verdict(False, None, "Accès refusé : document d'une autre structure (recherche de référence)")


def visible(viewer: Viewer, rows: Iterable[DocumentRow], *, references: bool) -> list[DocumentRow]:
    """The rows the viewer may see, in order."""
    check = may_reference if references else may_read
    return [row for row in rows if check(viewer, row).allowed]
