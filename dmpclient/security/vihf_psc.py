"""VIHF from a Pro Santé Connect UserInfo document (reference §11.3, §11.6).

Mapping: ``SubjectNameID`` → NameID; family + given name → subject-id; the *exercice* matching the user's
current work situation (selector ``codeProfession`` + ``codeCategorieProfessionnelle``, e.g. ``"10C"``;
default: the first) → role 1 (TRE_G15) and role 2 (``codeSavoirFaire``, or the pharmacist's
``codeSectionPharmacien``); ``Secteur_Activite`` (or the activity's ``codeSecteurDactivite``);
``Identifiant_Structure`` from configuration or the activity's ``ancienIdentifiantDeLaStructure``.
The DMP channel stays organisation mTLS + a VIHF signed with ORG SIGN; the mode defaults to AIR for
consultation (DRIMBOX) — pass ``mode=AuthMode.INDIRECTE`` for feeding.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dmpclient.errors import DmpValidationError
from dmpclient.security.vihf_build import Actor, Structure, VihfRequest
from dmpclient.security.vihf_model import (
    AuthMode,
    AuthnContextClass,
    LpsIdentity,
    PatientId,
    PurposeOfUse,
)

__all__ = ["PSC_AUTHN_CONTEXT_CLASS", "PscActivity", "PscExercice", "PscUserInfo", "psc_actor", "psc_request"]

#: Local authentication class declared for a PSC login (e-CPS / CPS through PSC; GENVIHF).
PSC_AUTHN_CONTEXT_CLASS: Final = AuthnContextClass.MOBILE_TWO_FACTOR_UNREGISTERED


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class PscActivity(_Lenient):
    """One ``SubjectRefPro.exercices[].activities[]`` entry (a place of practice)."""

    secteur_activite: str | None = Field(default=None, alias="codeSecteurDactivite")
    section_pharmacien: str | None = Field(default=None, alias="codeSectionPharmacien")
    structure_id: str | None = Field(default=None, alias="ancienIdentifiantDeLaStructure")
    raison_sociale: str | None = Field(default=None, alias="raisonSocialeSite")


class PscExercice(_Lenient):
    """One ``SubjectRefPro.exercices[]`` entry (a profession practised)."""

    profession: str = Field(alias="codeProfession")
    categorie: str = Field(default="", alias="codeCategorieProfessionnelle")
    savoir_faire: str | None = Field(default=None, alias="codeSavoirFaire")
    activities: tuple[PscActivity, ...] = ()

    @property
    def selector(self) -> str:
        """The work-situation key: ``codeProfession`` + ``codeCategorieProfessionnelle`` (``"10C"``)."""
        return f"{self.profession}{self.categorie}"


class _SubjectRefPro(_Lenient):
    exercices: tuple[PscExercice, ...] = ()


class PscUserInfo(_Lenient):
    """The PSC UserInfo claims the VIHF needs (scope ``scope_all``); unknown claims are ignored."""

    subject_name_id: str = Field(alias="SubjectNameID", min_length=1)
    given_name: str = ""
    family_name: str = ""
    secteur_activite: str | None = Field(default=None, alias="Secteur_Activite")
    subject_ref_pro: _SubjectRefPro = Field(default_factory=_SubjectRefPro, alias="SubjectRefPro")

    @classmethod
    def parse(cls, document: Mapping[str, Any]) -> PscUserInfo:
        """Validate a decoded UserInfo JSON document (``SubjectNameID`` falls back to ``preferred_username``)."""
        data = dict(document)
        data.setdefault("SubjectNameID", data.get("preferred_username", ""))
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            where = ".".join(str(part) for part in exc.errors()[0]["loc"])
            raise DmpValidationError(f"userinfo: missing or invalid PSC claim {where}", field="userinfo") from None

    def exercice(self, work_situation: str | None = None) -> PscExercice:
        """The exercice matching ``work_situation`` (``"10C"``), or the first one."""
        exercices = self.subject_ref_pro.exercices
        if not exercices:
            raise DmpValidationError("userinfo: SubjectRefPro.exercices is empty (no practice)", field="userinfo")
        if work_situation is None:
            return exercices[0]
        for exercice in exercices:
            if exercice.selector == work_situation:
                return exercice
        known = ", ".join(e.selector for e in exercices)
        raise DmpValidationError(
            f"work_situation: {work_situation!r} matches no exercice; available: {known}", field="work_situation"
        )


def _activity(exercice: PscExercice, structure_id: str | None) -> PscActivity:
    for activity in exercice.activities:
        if structure_id is None or activity.structure_id == structure_id:
            return activity
    return PscActivity()


def psc_actor(userinfo: PscUserInfo, exercice: PscExercice, activity: PscActivity) -> Actor:
    """The :class:`Actor` of a PSC user practising ``exercice`` at ``activity``."""
    specialty = exercice.savoir_faire or (activity.section_pharmacien if exercice.profession == "21" else None)
    name = " ".join(part for part in (userinfo.family_name, userinfo.given_name) if part) or None
    return Actor.professional(
        userinfo.subject_name_id, name=name, profession=exercice.profession, specialty=specialty or None
    )


def _structure(userinfo: PscUserInfo, activity: PscActivity, structure_id: str | None) -> Structure:
    secteur = (userinfo.secteur_activite or activity.secteur_activite or "").split("^", 1)[0]
    identifier = structure_id or activity.structure_id
    if not identifier:
        raise DmpValidationError(
            "structure_id: not in the PSC activity (ancienIdentifiantDeLaStructure); configure it", field="structure_id"
        )
    return Structure.of(identifier, secteur)


def psc_request(
    userinfo: PscUserInfo | Mapping[str, Any],
    *,
    lps: LpsIdentity,
    now: dt.datetime,
    work_situation: str | None = None,
    structure_id: str | None = None,
    mode: AuthMode = AuthMode.AIR,
    patient: PatientId | None = None,
    purpose: PurposeOfUse = PurposeOfUse.NORMAL,
) -> VihfRequest:
    """The :class:`VihfRequest` of a PSC-authenticated user (AIR by default; INDIRECTE for feeding; §11.6).

    The actor and the structure come from the UserInfo (``SubjectNameID``, the chosen exercice and activity);
    the local authentication is PSC's (``MobileTwoFactorUnregistered``, GENVIHF). Change other fields with
    ``request.model_copy(update=...)``, then :func:`~dmpclient.security.vihf_build.build_vihf`.

    Args:
        userinfo: the UserInfo document (decoded JSON) or an already parsed :class:`PscUserInfo`.
        work_situation: ``codeProfession`` + ``codeCategorieProfessionnelle`` of the current practice.
        structure_id: ``Identifiant_Structure`` (must equal the ORG certificate OU); default from the activity.

    Raises:
        DmpValidationError: DIRECTE (a PSC user has no card here), or no exercice/structure to map.
    """
    if mode not in (AuthMode.AIR, AuthMode.INDIRECTE):
        raise DmpValidationError(
            "mode: a PSC VIHF is INDIRECTE_RENFORCEE or INDIRECTE (DIRECTE needs a card)", field="mode"
        )
    info = userinfo if isinstance(userinfo, PscUserInfo) else PscUserInfo.parse(userinfo)
    exercice = info.exercice(work_situation)
    activity = _activity(exercice, structure_id)
    return VihfRequest(
        mode=mode,
        actor=psc_actor(info, exercice, activity),
        structure=_structure(info, activity, structure_id),
        lps=lps,
        now=now,
        patient=patient,
        purpose=purpose,
        authn_context_class=PSC_AUTHN_CONTEXT_CLASS,
    )
