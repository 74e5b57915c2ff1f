"""Issue the VIHF of each call: who acts (:class:`CallerIdentity`), for which structure and software.

The clients ask the issuer for a fresh signed assertion per request (AIR tokens live 30 s and are
single-use, EX_AIR-040). Which mode a transaction uses is the caller's business (feeding forces
``INDIRECTE``, declared by the transaction's spec); building an issuer from a configuration is glue that
lives next to the request preparation (:func:`dmpclient._prepare.issuer_from_config`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dmpclient.security.vihf import (
    AIR_SIMPLIFIE,
    Actor,
    AuthMode,
    LpsIdentity,
    PatientId,
    PurposeOfUse,
    Signer,
    Structure,
    Vihf,
    VihfRequest,
    build_vihf,
    sign_vihf,
)

__all__ = ["CallerIdentity", "VihfIssuer"]


@dataclass(frozen=True, slots=True)
class CallerIdentity:
    """The user (or device) a call is made for, and how.

    Attributes:
        actor: the professional, staff member or device (:meth:`Actor.professional`, :meth:`Actor.device`).
        mode: ``AuthMode.AIR`` for consultation (default), ``INDIRECTE`` for feeding, ``DIRECTE`` with a card.
        purpose: access mode (normal, bris de glace, centre 15).
        authn_context_class: how the user authenticated locally (defaults per mode).
        primary_authentication: AIR ``AuthnContextDecl`` (default ``CONF_EXI_PGSSIS``, AIR simplifié).
    """

    actor: Actor
    mode: AuthMode = AuthMode.AIR
    purpose: PurposeOfUse = PurposeOfUse.NORMAL
    authn_context_class: str | None = None
    primary_authentication: str = AIR_SIMPLIFIE


class VihfIssuer:
    """Builds and signs VIHFs with one signer (keys loaded once) for one structure and software.

    Args:
        signer: ORG SIGN for INDIRECTE/AIR, or a card signer for DIRECTE.
        structure: ``Identifiant_Structure`` + ``Secteur_Activite``.
        lps: the software identity (``LPS_*``).
    """

    def __init__(self, signer: Signer, *, structure: Structure, lps: LpsIdentity) -> None:
        self.signer = signer
        self.structure = structure
        self.lps = lps

    def build(
        self, identity: CallerIdentity, patient: PatientId | None, *, now: dt.datetime, mode: AuthMode | None = None
    ) -> Vihf:
        """The VIHF model for one call (unsigned), in ``mode`` (default: the identity's)."""
        return build_vihf(self.request(identity, patient, now=now, mode=mode), self.signer)

    def request(
        self, identity: CallerIdentity, patient: PatientId | None, *, now: dt.datetime, mode: AuthMode | None = None
    ) -> VihfRequest:
        """What the VIHF of one call states: the identity, this issuer's structure and software, the patient."""
        return VihfRequest(
            mode=mode or identity.mode,
            actor=identity.actor,
            structure=self.structure,
            lps=self.lps,
            now=now,
            patient=patient,
            purpose=identity.purpose,
            authn_context_class=identity.authn_context_class,
            primary_authentication=identity.primary_authentication,
        )

    def issue(
        self, identity: CallerIdentity, patient: PatientId | None, *, now: dt.datetime, mode: AuthMode | None = None
    ) -> bytes:
        """A freshly built and signed assertion, ready to graft into ``wsse:Security``."""
        return sign_vihf(self.build(identity, patient, now=now, mode=mode), self.signer)
