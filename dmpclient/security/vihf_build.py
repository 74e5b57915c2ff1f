"""Building the VIHF in every mode from one request object, and signing (reference §2.4–§2.11).

A :class:`VihfRequest` says what one VIHF states — the mode, who acts (:class:`Actor`), for which structure and
software, when, about which patient, why — and :func:`build_vihf` applies the rules of its mode:

* ``INDIRECTE`` — organisation certificate (ORG SIGN); feeding; automated senders use an :class:`Actor` from
  :meth:`Actor.device` (role AUTOMATE / DISPOSITIF of TRE_A00, DMP-CONF 12); local authentication class
  ``unspecified`` for a device, ``Password`` otherwise, unless given.
* ``INDIRECTE_RENFORCEE`` (AIR) — a person only; one fresh token per request (30 s, single use, EX_AIR-040)
  with ``AuthnContextDecl`` = the user's primary authentication method (``CONF_EXI_PGSSIS`` by default).
* ``DIRECTE`` — card mode: the CPS signature certificate signs (through a :class:`Signer`); no subject-id;
  ``SmartcardPKI``.

A Pro Santé Connect user's request comes from :func:`dmpclient.security.vihf_psc.psc_request`. The result is the
typed :class:`Vihf`; :func:`sign_vihf` returns the signed assertion as bytes. Time and ids are fields of the
request, so outputs are reproducible.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from dmpclient.codes import ValueSetId, load_value_set
from dmpclient.errors import DmpValidationError
from dmpclient.ids import validate_ins, validate_oid, validate_ps_id, validate_structure_id
from dmpclient.security.vihf_dn import certificate_dn
from dmpclient.security.vihf_model import (
    DEFAULT_VIHF_VERSION,
    AuthMode,
    AuthnContextClass,
    CodedValue,
    LpsIdentity,
    PatientId,
    PurposeOfUse,
    Vihf,
    missing_savoir_faire,
    vihf_to_element,
)
from dmpclient.security.xmldsig import DigestAlgorithm, SignatureAlgorithm, Signer, sign_enveloped

__all__ = [
    "AIR_SIMPLIFIE",
    "SPECIALTY_MISSING_MESSAGE",
    "Actor",
    "NonPsRole",
    "Structure",
    "VihfRequest",
    "build_vihf",
    "new_assertion_id",
    "sign_vihf",
]

#: ``AuthnContextDecl`` of "AIR simplifié": the structure declares PGSSI-S compliance (EX_AIR-050).
AIR_SIMPLIFIE: Final = "CONF_EXI_PGSSIS"
#: The DMP's text when a physician or pharmacist VIHF has no savoir-faire role (§9.6).
SPECIALTY_MISSING_MESSAGE: Final = (
    "Aucune spécialité dans le vihf. Spécialité obligatoire pour les Médecins et les Pharmaciens"
)


class NonPsRole(StrEnum):
    """TRE_A00-ProducteurDocNonPS: first role of a VIHF issued for a non-PS producer (DMP-CONF 12)."""

    AUTOMATE = "AUTOMATE"
    DISPOSITIF = "DISPOSITIF"
    SECRETARIAT_MEDICAL = "SECRETARIAT_MEDICAL"
    EXP_PATIENT = "EXP_PATIENT"
    ALIM_AM = "ALIM_AM"


_PROCESS_ROLES: Final = frozenset({"AUTOMATE", "DISPOSITIF", "ALIM_AM"})


class Actor(BaseModel):
    """Who the VIHF speaks for: a health professional, a staff member, or an automated process.

    Attributes:
        national_id: ``NameID`` — national PS id, or the id of the person responsible for an automated feed.
        subject_id: ``subject-id`` — "Prénom NOM" of a user, or "software, model, service" of a process.
        profession: role 1 (TRE_G15 profession or TRE_A00 non-PS producer).
        savoir_faire: role 2 (TRE_R01 specialty, or TRE_G05 section for pharmacists); mandatory for 10 and 21.
        role_prise_en_charge: role 3 (TRE_R85), for professionals characterised by their role.
        genre_activite: role 4 (TRE_R22), optional.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    national_id: str = Field(min_length=1)
    subject_id: str | None = None
    profession: CodedValue
    savoir_faire: CodedValue | None = None
    role_prise_en_charge: CodedValue | None = None
    genre_activite: CodedValue | None = None

    @classmethod
    def professional(
        cls, national_id: str, *, name: str | None = None, profession: str = "10", specialty: str | None = None
    ) -> Actor:
        """A health professional from codes (``profession="10"``, ``specialty="SM26"``; pharmacists may give a
        TRE_G05 section such as ``"A"``). Labels come from the shipped terminologies."""
        savoir_faire = None
        if specialty:
            sections = load_value_set(ValueSetId.SECTION_PHARMACIEN)
            terminology = ValueSetId.SECTION_PHARMACIEN if specialty in sections else ValueSetId.SAVOIR_FAIRE
            savoir_faire = CodedValue.from_value_set(terminology, specialty, field="specialty")
        return cls(
            national_id=validate_ps_id(national_id, field="ps_id"),
            subject_id=name,
            profession=CodedValue.from_value_set(ValueSetId.PROFESSION, profession, field="profession"),
            savoir_faire=savoir_faire,
        )

    @classmethod
    def device(cls, responsible_id: str, *, name: str, kind: NonPsRole = NonPsRole.AUTOMATE) -> Actor:
        """An automated sender: ``name`` = "software, model, service"; ``responsible_id`` = who answers for it."""
        return cls(
            national_id=responsible_id,
            subject_id=name,
            profession=CodedValue.from_value_set(ValueSetId.PRODUCTEUR_NON_PS, kind.value, field="role"),
        )

    @property
    def roles(self) -> tuple[CodedValue, ...]:
        """The role occurrences in wire order (§2.8)."""
        optional = (self.savoir_faire, self.role_prise_en_charge, self.genre_activite)
        return (self.profession, *(role for role in optional if role is not None))

    @property
    def is_device(self) -> bool:
        """True for an automated producer (AUTOMATE, DISPOSITIF, ALIM_AM): not a person, never in AIR.

        Medical secretaries (SECRETARIAT_MEDICAL) are persons: the AIR matrix has a column for them (PE).
        """
        non_ps = load_value_set(ValueSetId.PRODUCTEUR_NON_PS).oid
        return self.profession.code_system == non_ps and self.profession.code in _PROCESS_ROLES


class Structure(BaseModel):
    """The healthcare structure: ``Identifiant_Structure`` (= ORG certificate OU) and ``Secteur_Activite``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    secteur_activite: str = Field(min_length=1, description="TRE_R02 code, e.g. SA01")

    @classmethod
    def of(cls, structure_id: str, secteur_activite: str) -> Structure:
        """Validated constructor (identifier syntax, known TRE_R02 code)."""
        if secteur_activite not in load_value_set(ValueSetId.SECTEUR_ACTIVITE):
            raise DmpValidationError(
                f"secteur_activite: {secteur_activite!r} is not a TRE_R02 code (SA01 public hospital, "
                "SA07 cabinet individuel…)",
                field="secteur_activite",
            )
        return cls(id=validate_structure_id(structure_id), secteur_activite=secteur_activite)


def new_assertion_id() -> str:
    """``_`` + UUID4 (an NCName, as in the official examples)."""
    return f"_{uuid.uuid4()}"


def _millis(instant: dt.datetime) -> dt.datetime:
    if instant.tzinfo is None:
        raise DmpValidationError("now: give an aware datetime (UTC)", field="now")
    return instant.astimezone(dt.UTC).replace(microsecond=instant.microsecond // 1000 * 1000)


def _checked_patient(patient: PatientId | None) -> PatientId | None:
    """The patient with a validated, normalised INS (stripped, upper-case 2A/2B) and OID."""
    if patient is None:
        return None
    return PatientId(
        ins=validate_ins(patient.ins, field="patient.ins"), oid=validate_oid(patient.oid.strip(), field="patient.oid")
    )


class VihfRequest(BaseModel):
    """What one VIHF states, in any mode (the builder applies the mode's rules).

    Attributes:
        mode: ``DIRECTE``, ``INDIRECTE`` or ``INDIRECTE_RENFORCEE`` (AIR).
        actor: the professional, staff member or device the VIHF speaks for.
        structure: ``Identifiant_Structure`` and ``Secteur_Activite``.
        lps: the software (``LPS_*`` attributes).
        now: the issue instant (aware datetime; kept to the millisecond).
        patient: the VIHF ``resource-id`` (the patient of the call), if any.
        purpose: the access mode (normal, bris de glace, centre 15).
        authn_context_class: the local authentication of the user (default per mode; DIRECTE: SmartcardPKI).
        primary_authentication: AIR ``AuthnContextDecl`` (EX_AIR-050).
        confidentiality: the secret-connection attribute, when requested (§2.7).
        vihf_version: ``VIHF_Version``.
        assertion_id: the assertion ``ID`` (a fresh ``_uuid`` by default).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    mode: AuthMode
    actor: Actor
    structure: Structure
    lps: LpsIdentity
    now: dt.datetime
    patient: PatientId | None = None
    purpose: PurposeOfUse = PurposeOfUse.NORMAL
    authn_context_class: str | None = None
    primary_authentication: str = AIR_SIMPLIFIE
    confidentiality: CodedValue | None = None
    vihf_version: str = DEFAULT_VIHF_VERSION
    assertion_id: str | None = None


def _authentication(request: VihfRequest) -> tuple[str, str | None]:
    """``AuthnContextClassRef`` and ``AuthnContextDecl`` of the request's mode (§2.5)."""
    actor, mode = request.actor, request.mode
    if mode is AuthMode.DIRECTE:
        return AuthnContextClass.SMARTCARD_PKI, None
    if mode is AuthMode.AIR:
        if actor.is_device:
            raise DmpValidationError("actor: AIR authenticates a person; devices use INDIRECTE", field="actor")
        return request.authn_context_class or AuthnContextClass.PASSWORD, request.primary_authentication
    default = AuthnContextClass.UNSPECIFIED if actor.is_device else AuthnContextClass.PASSWORD
    return request.authn_context_class or default, None


def build_vihf(request: VihfRequest, signer: Signer) -> Vihf:
    """The VIHF of ``request`` (unsigned); ``signer`` gives the Issuer (its certificate's DN).

    Raises:
        DmpValidationError: no subject-id outside DIRECTE, no savoir-faire for a physician or pharmacist, a
            device in AIR, a naive datetime, an invalid patient.
    """
    actor, mode = request.actor, request.mode
    if mode is not AuthMode.DIRECTE and not actor.subject_id:
        raise DmpValidationError(
            'name: subject-id is mandatory in INDIRECTE/AIR: give the user\'s name ("NOM Prénom, service") or, '
            'for an automated feed, "software, model, service"',
            field="name",
        )
    roles = actor.roles
    if missing_savoir_faire(roles):
        raise DmpValidationError(f"specialty: {SPECIALTY_MISSING_MESSAGE} (give a TRE_R01 code)", field="specialty")
    authn_class, authn_decl = _authentication(request)
    instant = _millis(request.now)
    return Vihf(
        assertion_id=request.assertion_id or new_assertion_id(),
        issue_instant=instant,
        issuer=certificate_dn(signer.certificate),
        subject_name_id=actor.national_id,
        authn_instant=instant,
        authn_context_class=authn_class,
        authn_context_decl=authn_decl,
        mode=mode,
        structure_id=request.structure.id,
        secteur_activite=request.structure.secteur_activite,
        subject_id=None if mode is AuthMode.DIRECTE else actor.subject_id,
        roles=roles,
        purpose=request.purpose,
        patient=_checked_patient(request.patient),
        confidentiality=request.confidentiality,
        lps=request.lps,
        vihf_version=request.vihf_version,
    )


def sign_vihf(
    vihf: Vihf,
    signer: Signer,
    *,
    signature_algorithm: SignatureAlgorithm = SignatureAlgorithm.RSA_SHA256,
    digest_algorithm: DigestAlgorithm = DigestAlgorithm.SHA256,
    engine: Literal["fast", "signxml"] = "fast",
) -> bytes:
    """The signed ``saml2:Assertion`` as bytes (signature right after ``saml2:Issuer``); graft verbatim.

    Raises:
        DmpValidationError: ``vihf.issuer`` is not the DN of the signer's certificate.
    """
    if vihf.issuer != certificate_dn(signer.certificate):
        raise DmpValidationError("issuer: the VIHF Issuer must be the DN of the signing certificate", field="issuer")
    return sign_enveloped(
        vihf_to_element(vihf),
        signer,
        position=1,
        signature_algorithm=signature_algorithm,
        digest_algorithm=digest_algorithm,
        engine=engine,
    )
