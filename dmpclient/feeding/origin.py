"""Who is at the origin of a submission (SEED, DMP-CONF 12; reference §4.5): made explicit, never implied.

Two different answers, both recorded:

* the **author** of each document (``authorPerson``: a natural person, or a medical device; with the
  structure as ``authorInstitution``) and its **legal authenticator** (a natural person) — from the CDA, see
  :func:`dmpclient.xds.checks.check_authors`;
* the **sender**: the VIHF subject of the call. When no professional sends (a secretary, an automated
  process, an integration platform's application mailbox), it is that device or role (``Actor.device``:
  TRE_A00 ``AUTOMATE``, ``DISPOSITIF``, ``SECRETARIAT_MEDICAL``…), named with the person who answers for it,
  for the structure of the establishment certificate (INDIRECTE).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from dmpclient.codes import ValueSetId, load_value_set
from dmpclient.config import Structure as StructureConfig
from dmpclient.ids import PS_ID_OID, STRUCTURE_ID_OID
from dmpclient.security.issuer import CallerIdentity
from dmpclient.security.vihf import Actor
from dmpclient.xds.identifiers import Xcn, Xon
from dmpclient.xds.models import Author

__all__ = ["Origin", "SenderKind", "author_of"]


class SenderKind(StrEnum):
    """What the VIHF subject of a submission is."""

    PROFESSIONAL = "professional"  # a health professional (TRE_G15 profession)
    DEVICE = "device"  # an automated process or device (AUTOMATE, DISPOSITIF, ALIM_AM)
    ROLE = "role"  # a non-PS person acting in a role (SECRETARIAT_MEDICAL…)


def _kind(actor: Actor) -> SenderKind:
    if actor.is_device:
        return SenderKind.DEVICE
    non_ps = load_value_set(ValueSetId.PRODUCTEUR_NON_PS).oid
    return SenderKind.ROLE if actor.profession.code_system == non_ps else SenderKind.PROFESSIONAL


class Origin(BaseModel):
    """The sender of a submission as the journal and the report record it.

    Attributes:
        sender_id: the VIHF ``NameID`` (a professional's idNat_PS, or the person answering for a device).
        sender_name: the VIHF ``subject-id`` ("Prénom NOM", or "software, model, service").
        sender_kind: professional, device or role.
        sender_role: the first VIHF role code (profession or TRE_A00 code).
        structure_id: the structure the call is made for.
        mode: the ``Authentification_mode`` actually sent (feeding: INDIRECTE for an AIR identity).
    """

    model_config = ConfigDict(frozen=True)

    sender_id: str
    sender_name: str | None = None
    sender_kind: SenderKind
    sender_role: str
    structure_id: str
    mode: str

    @classmethod
    def of(cls, identity: CallerIdentity, *, structure_id: str, mode: str) -> Origin:
        """The origin of a call made for ``identity`` in ``mode``."""
        actor = identity.actor
        return cls(
            sender_id=actor.national_id,
            sender_name=actor.subject_id,
            sender_kind=_kind(actor),
            sender_role=actor.profession.code,
            structure_id=structure_id,
            mode=mode,
        )


def author_of(actor: Actor, structure: StructureConfig) -> Author:
    """The XDS author a VIHF actor stands for (the submission set of a TD3.3 update, §6.1): a person (``D``,
    ``IDNPS``) or a device (``U``, ``RI``), with the configured structure as ``authorInstitution``."""
    device = actor.is_device
    name = (actor.subject_id or "").strip()
    given, _, family = ("", "", name) if device else name.rpartition(" ")  # "Prénom NOM"
    person = Xcn(
        id=actor.national_id,
        family=family,
        given=given,
        assigning_authority=PS_ID_OID,
        name_type="U" if device else "D",
        id_type="RI" if device else "IDNPS",
    )
    institution = Xon(
        name=structure.name or structure.id, assigning_authority=STRUCTURE_ID_OID, id_type="IDNST", id=structure.id
    )
    return Author(person=person, institutions=(institution,))
