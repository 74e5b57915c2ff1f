"""Authorisation precedence: which status a caller has on a DMP given the stored authorisations.

A pure rule over records (no SQL), shared by TD0.2 (``AUTORISATION`` attention line), the gate (a
patient's block of a professional) and the habilitations handlers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from mock_server.store.records import Authorisation, AuthorisationStatus, SubjectKind

__all__ = ["effective_status"]


def effective_status(
    authorisations: Iterable[Authorisation], ps_id: str, structure_id: str | None, now: datetime
) -> AuthorisationStatus:
    """The caller's status on the DMP whose ``authorisations`` these are.

    A block of the PS wins; then a valid authorisation of the PS or of his structure (606 note 1);
    then an expired one; then a blocked structure; else NON_EXISTE.
    """
    by_kind = {
        (a.subject_kind, a.subject_id): a.status_at(now)
        for a in authorisations
        if a.subject_id in (ps_id, structure_id)
    }
    mine = by_kind.get((SubjectKind.PROFESSIONAL, ps_id))
    structure = by_kind.get((SubjectKind.STRUCTURE, structure_id)) if structure_id else None
    for status in (AuthorisationStatus.INTERDIT, AuthorisationStatus.VALIDE, AuthorisationStatus.EXPIRE):
        if mine is status or (structure is status and status is not AuthorisationStatus.INTERDIT):
            return status
    return structure or AuthorisationStatus.NON_EXISTE
