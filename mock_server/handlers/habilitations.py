"""``habilitations`` service of the mock: TD0.3 (setAuthorization) and TD1.6 (listAuthorizationByPatient).

The patient is the VIHF ``resource-id`` (the gate requires it). Rules, beyond the matrices the gate applied:

* no DMP / closed DMP → ``status`` ``DMPPatientNotFound`` / ``DMPClosed`` (business answers, not faults);
* TD0.3 by non-PS staff (606 note 1, 526 note 1) authorises the **structure**, not the person;
* TD0.3 ``AJOUT`` renews an expired authorisation; on a valid one it changes nothing and says so in the
  official words ("Autorisation déjà présente aucune action effectuée"); ``AJOUT`` + ``MEDECIN_TRAITANT`` is
  for médecins only and makes the caller the DMP's one médecin traitant (project design: the previous one keeps
  a plain authorisation);
* TD0.3 ``SUPPRESSION`` without an authorisation → ``DMPAuthorizationNotFound``;
* TD1.6 is for professionals authorised on the DMP (``DMPAuthorizationExpired`` / ``DMPAuthorizationNotFound``
  otherwise); expired authorisations are not listed (project design).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Final

from dmpclient.custom.habilitations import (
    AuthorizationAction,
    AuthorizationListMode,
    AuthorizedParty,
    build_list_authorizations_response,
    build_set_authorization_response,
    parse_list_authorizations,
    parse_set_authorization,
)
from dmpclient.ids import PS_ID_OID, STRUCTURE_ID_OID
from dmpclient.transactions import habilitations
from dmpclient.transactions.rights import NoteCondition
from mock_server.context import Caller, Reply, RequestContext
from mock_server.domain.professionals import specialty_code, specialty_label, split_name
from mock_server.domain.refusals import authorisation_refusal, dmp_refusal
from mock_server.errors import MockFault
from mock_server.gate import RIGHTS_SUBCODE
from mock_server.routing import Route
from mock_server.store import Store
from mock_server.store.records import Authorisation, AuthorisationStatus, SubjectKind

__all__ = ["ROUTES", "listed_parties"]

ALREADY_PRESENT: Final = "Autorisation déjà présente aucune action effectuée"
_TREATING: Final = "MEDECIN_TRAITANT"


def _patient_ins(ctx: RequestContext) -> str:
    if ctx.caller.patient is None:  # pragma: no cover - the gate requires a resource-id for these TDs
        raise MockFault(None, "resource-id absent")
    return ctx.caller.patient.ins


def _subject(ctx: RequestContext) -> tuple[SubjectKind, str]:
    """Who the authorisation is for: the structure for non-PS staff (note 1), else the professional."""
    conditions = ctx.decision.conditions if ctx.decision else frozenset()
    if NoteCondition.AUTHORISATION_TO_STRUCTURE in conditions:
        return SubjectKind.STRUCTURE, ctx.caller.structure_id
    return SubjectKind.PROFESSIONAL, ctx.caller.ps_id


def _new_authorisation(ins: str, kind: SubjectKind, subject: str, caller: Caller, now: dt.datetime) -> Authorisation:
    family, given = split_name(caller.name) if kind is SubjectKind.PROFESSIONAL else (None, None)
    return Authorisation(
        patient_ins=ins,
        subject_kind=kind,
        subject_id=subject,
        status=AuthorisationStatus.VALIDE,
        granted_at=now,
        last_action_at=now,
        family_name=family,
        given_name=given,
        specialty=specialty_code(caller.profession, caller.specialty) if kind is SubjectKind.PROFESSIONAL else None,
        structure_id=caller.structure_id,
    )


def _current(ctx: RequestContext, ins: str, kind: SubjectKind, subject: str) -> Authorisation | None:
    return next(
        (a for a in ctx.store.list_authorisations(ins) if (a.subject_kind, a.subject_id) == (kind, subject)), None
    )


def _add(ctx: RequestContext, ins: str, treating: bool) -> str:
    kind, subject = _subject(ctx)
    store, now = ctx.store, ctx.now
    if treating and ctx.caller.profession != "10":
        raise MockFault(RIGHTS_SUBCODE, "Accès refusé : seul un médecin peut être déclaré médecin traitant du DMP")
    current = _current(ctx, ins, kind, subject)
    if current is not None and current.status is AuthorisationStatus.INTERDIT:  # a blocked structure (note 1)
        raise MockFault(
            RIGHTS_SUBCODE, "Accès refusé : le patient a bloqué cette structure", refusal="DMPProfessionalBlocked"
        )
    valid = current is not None and current.status_at(now) is AuthorisationStatus.VALIDE
    if valid and current is not None and (not treating or current.treating_physician):
        return ALREADY_PRESENT
    if treating:
        for other in store.list_authorisations(ins):
            if other.treating_physician and other.subject_id != subject:
                store.set_authorisation(dataclasses.replace(other, treating_physician=False, last_action_at=now))
    if valid and current is not None:
        store.set_authorisation(dataclasses.replace(current, treating_physician=True, last_action_at=now))
        return "Médecin traitant déclaré"
    store.set_authorisation(
        dataclasses.replace(_new_authorisation(ins, kind, subject, ctx.caller, now), treating_physician=treating)
    )
    return "Médecin traitant déclaré" if treating else "Autorisation ajoutée"


def _remove(ctx: RequestContext, ins: str, treating: bool) -> tuple[str, str]:
    kind, subject = _subject(ctx)
    current = _current(ctx, ins, kind, subject)
    if current is None or current.status is AuthorisationStatus.INTERDIT:
        return "DMPAuthorizationNotFound", "Aucune autorisation à supprimer"
    if treating:
        ctx.store.set_authorisation(dataclasses.replace(current, treating_physician=False, last_action_at=ctx.now))
        return "DMPOk", "Droit de médecin traitant supprimé"
    ctx.store.remove_authorisation(ins, subject, kind)
    return "DMPOk", "Autorisation supprimée"


def _set_authorization(ctx: RequestContext) -> Reply:
    request = parse_set_authorization(ctx.body)
    ins = _patient_ins(ctx)
    refusal = dmp_refusal(ctx.store.get_patient(ins))
    if refusal is not None:
        status, context = refusal
    elif request.action is AuthorizationAction.ADD:
        status, context = "DMPOk", _add(ctx, ins, request.treating_physician)
    else:
        status, context = _remove(ctx, ins, request.treating_physician)
    body = build_set_authorization_response(status=status, context=context)
    return Reply(body, detail=f"{request.action.value} mt={request.treating_physician} → {status}")


def authorized_party(authorisation: Authorisation, now: dt.datetime) -> AuthorizedParty:
    """A stored authorisation as TD1.6 (and the web PS management page) shows it."""
    professional = authorisation.subject_kind is SubjectKind.PROFESSIONAL
    blocked = authorisation.status_at(now) is AuthorisationStatus.INTERDIT
    label = specialty_label(authorisation.specialty)
    return AuthorizedParty(
        national_id=authorisation.subject_id,
        national_id_type=PS_ID_OID if professional else STRUCTURE_ID_OID,
        first_name=authorisation.given_name,
        last_name=authorisation.family_name,
        specialty_codes=(authorisation.specialty,) if authorisation.specialty else (),
        specialty_labels=(label,) if label else (),
        start=authorisation.granted_at,
        last_action=authorisation.last_action_at,
        mode=AuthorizationListMode.FORBIDDEN.value if blocked else AuthorizationListMode.ACTIVE.value,
        specific_rights=(_TREATING,) if authorisation.treating_physician else (),
    )


def listed_parties(
    store: Store, ins: str, now: dt.datetime, mode: AuthorizationListMode | None = None
) -> list[AuthorizedParty]:
    """The authorisations TD1.6 lists (``mode``: ACTIVE, INTERDITE, or both), as the web PS management page shows
    them too: valid and blocked ones, never expired ones (read at ``now``)."""
    wanted = _wanted(mode)
    return [authorized_party(a, now) for a in store.list_authorisations(ins) if a.status_at(now) in wanted]


def _wanted(mode: AuthorizationListMode | None) -> frozenset[AuthorisationStatus]:
    if mode is AuthorizationListMode.ACTIVE:
        return frozenset({AuthorisationStatus.VALIDE})
    if mode is AuthorizationListMode.FORBIDDEN:
        return frozenset({AuthorisationStatus.INTERDIT})
    return frozenset({AuthorisationStatus.VALIDE, AuthorisationStatus.INTERDIT})


def _list_authorizations(ctx: RequestContext) -> Reply:
    mode = parse_list_authorizations(ctx.body)
    ins, caller = _patient_ins(ctx), ctx.caller
    refusal = dmp_refusal(ctx.store.get_patient(ins))
    if refusal is None and not caller.treating_physician:
        refusal = authorisation_refusal(ctx.store.authorisation_status(ins, caller.ps_id, caller.structure_id, ctx.now))
    if refusal is not None:
        body = build_list_authorizations_response((), status=refusal[0], context=refusal[1])
        return Reply(body, detail=refusal[0])
    parties = listed_parties(ctx.store, ins, ctx.now, mode)
    body = build_list_authorizations_response(parties, context=f"{len(parties)} autorisation(s)")
    return Reply(body, detail=f"mode={mode.value if mode else 'TOUTE'} n={len(parties)}")


ROUTES: Final = (
    Route(habilitations.SET_AUTHORIZATION, _set_authorization),
    Route(habilitations.LIST_AUTHORIZATIONS, _list_authorizations),
)
