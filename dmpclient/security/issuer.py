"""Issue the VIHF of each call: who acts (:class:`CallerIdentity`), for which structure and software (config).

The clients ask the issuer for a fresh signed assertion per request (AIR tokens live 30 s and are
single-use, EX_AIR-040). Feeding transactions are refused in AIR by the 606 matrix, so the issuer
switches them to ``INDIRECTE`` (reference §8.3), as the DMP expects from a structure that consults in
AIR.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from dmpclient.config import DmpConfig
from dmpclient.security.vihf import (
    AIR_SIMPLIFIE,
    Actor,
    AuthMode,
    LpsIdentity,
    PatientId,
    PurposeOfUse,
    Signer,
    SoftwareSigner,
    Structure,
    Vihf,
    build_for_mode,
    sign_vihf,
)

__all__ = ["FEEDING_TDS", "CallerIdentity", "VihfIssuer", "effective_mode"]

#: Transactions that feed the DMP: never in AIR (606), always INDIRECTE for an establishment.
FEEDING_TDS: Final = frozenset({"TD2.1", "TD2.2"})


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


def effective_mode(identity: CallerIdentity, td: str) -> AuthMode:
    """The mode actually used for ``td``: AIR callers feed in INDIRECTE (606 refuses TD2.1 in AIR)."""
    return AuthMode.INDIRECTE if td in FEEDING_TDS and identity.mode is AuthMode.AIR else identity.mode


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

    @classmethod
    def from_config(cls, config: DmpConfig) -> VihfIssuer:
        """The issuer of a configuration: its signing credential, structure and LPS identity."""
        return cls(
            SoftwareSigner.from_credential(config.load_signing_credential()),
            structure=Structure.of(config.structure.id, config.structure.secteur_activite),
            lps=LpsIdentity(
                nom=config.lps.nom,
                version=config.lps.version,
                homologation=config.lps.id_homologation_dmp,
                id=config.lps.id or None,
            ),
        )

    def build(self, identity: CallerIdentity, patient: PatientId | None, *, td: str, now: dt.datetime) -> Vihf:
        """The VIHF model for one call of ``td`` (unsigned)."""
        return build_for_mode(
            effective_mode(identity, td),
            identity.actor,
            structure=self.structure,
            lps=self.lps,
            signer=self.signer,
            now=now,
            patient=patient,
            purpose=identity.purpose,
            authn_context_class=identity.authn_context_class,
            primary_authentication=identity.primary_authentication,
        )

    def issue(self, identity: CallerIdentity, patient: PatientId | None, *, td: str, now: dt.datetime) -> bytes:
        """A freshly built and signed assertion, ready to graft into ``wsse:Security``."""
        return sign_vihf(self.build(identity, patient, td=td, now=now), self.signer)
