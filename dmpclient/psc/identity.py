"""The signed-in professional, his work situations (exercices), and the DMP caller identity they give.

Reference §11.3 (UserInfo claims, ``SubjectRefPro.exercices[]``) and §11.6 (PSC → VIHF mapping): the
exercice is chosen by its selector ``codeProfession`` + ``codeCategorieProfessionnelle`` (``"10C"``,
GENVIHF's ``X-WorkSituation``) or by a callback, then mapped with
:func:`dmpclient.security.vihf_psc.psc_actor`; the VIHF's structure stays the configured one (the
ORG certificate's OU). Pure: no network, no OAuth library.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dmpclient.errors import DmpValidationError
from dmpclient.psc.profile import PscDmpProfile
from dmpclient.security.issuer import CallerIdentity
from dmpclient.security.vihf_model import CodedValue, PurposeOfUse
from dmpclient.security.vihf_psc import PscActivity, PscExercice, PscUserInfo, psc_actor

__all__ = ["PscIdentity", "WorkSituation", "WorkSituationChoice"]


@dataclass(frozen=True, slots=True)
class WorkSituation:
    """One exercice of the professional, as shown to him and as it reaches the VIHF.

    Attributes:
        selector: ``codeProfession`` + ``codeCategorieProfessionnelle`` (``"10C"``).
        roles: the VIHF ``role`` occurrences it gives (profession, then savoir-faire / section).
        places: the ``raisonSocialeSite`` of its activities.
    """

    selector: str
    exercice: PscExercice
    roles: tuple[CodedValue, ...]
    places: tuple[str, ...]


#: A work situation given by selector, or chosen by a callback among the professional's situations.
WorkSituationChoice = str | Callable[[Sequence[WorkSituation]], WorkSituation] | None


class PscIdentity:
    """Who signed in: the validated UserInfo claims (``sub`` checked against the ID token's).

    Args:
        claims: the UserInfo document (JSON object, or the claims of a signed UserInfo).
    """

    def __init__(self, claims: Mapping[str, Any]) -> None:
        self.claims: Mapping[str, Any] = dict(claims)
        self.userinfo = PscUserInfo.parse(claims)

    def __repr__(self) -> str:  # a name is personal data: the national id is enough to debug
        return f"PscIdentity(national_id={self.national_id!r})"

    @property
    def subject(self) -> str:
        """The OpenID ``sub`` (opaque)."""
        return str(self.claims.get("sub", ""))

    @property
    def national_id(self) -> str:
        """``SubjectNameID``: the national PS id (the VIHF ``NameID``)."""
        return self.userinfo.subject_name_id

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.userinfo.given_name, self.userinfo.family_name) if p)

    def work_situations(self) -> tuple[WorkSituation, ...]:
        """Every exercice with the VIHF roles it gives (unknown codes are left out of ``roles``)."""
        situations = []
        for exercice in self.userinfo.subject_ref_pro.exercices:
            activity = exercice.activities[0] if exercice.activities else PscActivity()
            try:
                roles = psc_actor(self.userinfo, exercice, activity).roles
            except DmpValidationError:
                roles = ()
            places = tuple(a.raison_sociale for a in exercice.activities if a.raison_sociale)
            situations.append(WorkSituation(exercice.selector, exercice, roles, places))
        return tuple(situations)

    def work_situation(self, choice: WorkSituationChoice = None) -> WorkSituation:
        """The chosen situation: by selector, by callback, or the only/first one when ``choice`` is None."""
        situations = self.work_situations()
        if not situations:
            raise DmpValidationError("userinfo: SubjectRefPro.exercices is empty (no practice)", field="userinfo")
        if choice is None:
            return situations[0]
        if callable(choice):
            chosen = choice(situations)
            if chosen not in situations:
                raise DmpValidationError(
                    "work_situation: the callback returned an unknown situation", field="work_situation"
                )
            return chosen
        for situation in situations:
            if situation.selector == choice:
                return situation
        known = ", ".join(s.selector for s in situations)
        raise DmpValidationError(
            f"work_situation: {choice!r} matches no exercice; available: {known}", field="work_situation"
        )

    def caller_identity(
        self,
        work_situation: WorkSituationChoice = None,
        *,
        profile: PscDmpProfile | None = None,
        purpose: PurposeOfUse = PurposeOfUse.NORMAL,
    ) -> CallerIdentity:
        """The :class:`CallerIdentity` of a PSC-mode DMP call (VIHF mode and contexts from ``profile``)."""
        profile = profile or PscDmpProfile()
        exercice = self.work_situation(work_situation).exercice
        activity = exercice.activities[0] if exercice.activities else PscActivity()
        return CallerIdentity(
            psc_actor(self.userinfo, exercice, activity),
            mode=profile.mode,
            purpose=purpose,
            authn_context_class=profile.authn_context_class,
            primary_authentication=profile.primary_authentication,
        )
