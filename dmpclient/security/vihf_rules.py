"""The rules a received VIHF can break: stable ids, DMP fault subcodes and French reasons (reference §2.12, §9).

Every refusal of :func:`dmpclient.security.verify.verify_vihf` is a :class:`~dmpclient.errors.DmpSecurityError`
whose ``rule`` is a :class:`VihfRule` value and whose ``dmp_code`` is :attr:`VihfRule.dmp_code`. Only
``DMPInvalidCertificate`` and its text "Not a valid signature certificate" are attested (§2.3, §9.2);
``DMPInvalidSignature``, ``DMPVihfExpired``, ``DMPVihfNotYetValid``, ``DMPVihfReplayed`` and ``DMPInvalidVihf``
are **project design**, plausible names for the mock.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from dmpclient.errors import DmpSecurityError
from dmpclient.security.vihf_build import SPECIALTY_MISSING_MESSAGE

__all__ = ["VihfRule", "rule_error"]

_CERTIFICATE: Final = "DMPInvalidCertificate"
_SIGNATURE: Final = "DMPInvalidSignature"
_INVALID: Final = "DMPInvalidVihf"
_BAD_CERTIFICATE: Final = "Le certificat ayant signé le VIHF est invalide"


class VihfRule(StrEnum):
    """Stable ids of the verification rules (``DmpSecurityError.rule``); see :attr:`dmp_code`."""

    MALFORMED = "malformed"
    ASSERTION_TOO_LARGE = "assertion_too_large"
    VALUE_TOO_LONG = "value_too_long"
    WRAPPED_ASSERTION = "wrapped_assertion"
    CERTIFICATE_WEAK_KEY = "certificate_weak_key"
    CERTIFICATE_NOT_END_ENTITY = "certificate_not_end_entity"
    CERTIFICATE_KEY_USAGE = "certificate_key_usage"
    STRUCTURE_MISMATCH = "structure_mismatch"
    SIGNER_NOT_PERSONAL = "signer_not_personal"
    SIGNER_NOT_SIGNATURE_CERTIFICATE = "signer_not_signature_certificate"
    SIGNER_NOT_ORGANISATION = "signer_not_organisation"
    NAME_ID_NOT_CARD_HOLDER = "name_id_not_card_holder"
    UNSIGNED = "unsigned"
    SIGNATURE_INVALID = "signature_invalid"
    DIGEST_MISMATCH = "digest_mismatch"
    REFERENCE_COUNT = "reference_count"
    REFERENCE_TARGET = "reference_target"
    TRANSFORM_NOT_ALLOWED = "transform_not_allowed"
    ALGORITHM_NOT_ALLOWED = "algorithm_not_allowed"
    CERTIFICATE_MISSING = "certificate_missing"
    CERTIFICATE_UNTRUSTED = "certificate_untrusted"
    CERTIFICATE_EXPIRED = "certificate_expired"
    ISSUER_MISMATCH = "issuer_mismatch"
    TLS_SUBJECT_MISMATCH = "tls_subject_mismatch"
    ISSUE_INSTANT_FUTURE = "issue_instant_future"
    ISSUE_INSTANT_STALE = "issue_instant_stale"
    AIR_TOKEN_EXPIRED = "air_token_expired"  # noqa: S105 - a rule id
    REPLAY = "replay"
    AUTH_MODE = "auth_mode"
    MISSING_ATTRIBUTE = "missing_attribute"
    AIR_AUTHN_CONTEXT_DECL = "air_authn_context_decl"
    SPECIALTY_REQUIRED = "specialty_required"
    ROLE_COUNT = "role_count"
    PROFESSION_UNKNOWN = "profession_unknown"
    SAVOIR_FAIRE_UNKNOWN = "savoir_faire_unknown"
    SECTEUR_UNKNOWN = "secteur_unknown"
    PURPOSE_UNKNOWN = "purpose_unknown"
    PURPOSE_COUNT = "purpose_count"
    VIHF_VERSION = "vihf_version"
    RESSOURCE_URN = "ressource_urn"
    RESOURCE_ID = "resource_id"

    @property
    def dmp_code(self) -> str:
        """The DMP-style SOAP fault subcode the mock answers with (project design except DMPInvalidCertificate)."""
        return _DMP_CODES.get(self, _INVALID)

    @property
    def reason_fr(self) -> str:
        """A French fault reason for the mock (texts of §9.6 where known)."""
        return _REASONS_FR.get(self, "Le VIHF est invalide")


_DMP_CODES: Final[Mapping[VihfRule, str]] = {
    **dict.fromkeys(
        (
            VihfRule.CERTIFICATE_MISSING,
            VihfRule.CERTIFICATE_UNTRUSTED,
            VihfRule.CERTIFICATE_EXPIRED,
            VihfRule.ISSUER_MISMATCH,
            VihfRule.TLS_SUBJECT_MISMATCH,
            VihfRule.CERTIFICATE_WEAK_KEY,
            VihfRule.CERTIFICATE_NOT_END_ENTITY,
            VihfRule.CERTIFICATE_KEY_USAGE,
            VihfRule.SIGNER_NOT_PERSONAL,
            VihfRule.SIGNER_NOT_SIGNATURE_CERTIFICATE,
            VihfRule.SIGNER_NOT_ORGANISATION,
        ),
        _CERTIFICATE,
    ),
    **dict.fromkeys(
        (
            VihfRule.UNSIGNED,
            VihfRule.SIGNATURE_INVALID,
            VihfRule.DIGEST_MISMATCH,
            VihfRule.REFERENCE_COUNT,
            VihfRule.REFERENCE_TARGET,
            VihfRule.WRAPPED_ASSERTION,
            VihfRule.TRANSFORM_NOT_ALLOWED,
            VihfRule.ALGORITHM_NOT_ALLOWED,
        ),
        _SIGNATURE,
    ),
    VihfRule.ISSUE_INSTANT_STALE: "DMPVihfExpired",
    VihfRule.AIR_TOKEN_EXPIRED: "DMPVihfExpired",
    VihfRule.ISSUE_INSTANT_FUTURE: "DMPVihfNotYetValid",
    VihfRule.REPLAY: "DMPVihfReplayed",
}
_REASONS_FR: Final[Mapping[VihfRule, str]] = {
    VihfRule.CERTIFICATE_MISSING: f"{_BAD_CERTIFICATE} : certificat absent",
    VihfRule.CERTIFICATE_UNTRUSTED: f"{_BAD_CERTIFICATE} : autorité non reconnue",
    VihfRule.CERTIFICATE_EXPIRED: f"{_BAD_CERTIFICATE} : certificat expiré",
    VihfRule.ISSUER_MISMATCH: f"{_BAD_CERTIFICATE} : émetteur différent du signataire",
    VihfRule.TLS_SUBJECT_MISMATCH: f"{_BAD_CERTIFICATE} : différent du certificat TLS",
    VihfRule.CERTIFICATE_WEAK_KEY: f"{_BAD_CERTIFICATE} : clé RSA trop courte",
    VihfRule.CERTIFICATE_NOT_END_ENTITY: f"{_BAD_CERTIFICATE} : certificat d'autorité",
    VihfRule.CERTIFICATE_KEY_USAGE: f"{_BAD_CERTIFICATE} : usage de clé incompatible avec la signature",
    # The DMP's own words when a card's authentication key signs a DIRECTE VIHF (DEHEMPE, reference §2.3).
    VihfRule.SIGNER_NOT_SIGNATURE_CERTIFICATE: f"{_BAD_CERTIFICATE} : Not a valid signature certificate",
    VihfRule.SIGNER_NOT_PERSONAL: f"{_BAD_CERTIFICATE} : le mode DIRECTE exige le certificat de signature de la carte",
    VihfRule.SIGNER_NOT_ORGANISATION: f"{_BAD_CERTIFICATE} : ce mode exige un certificat d'organisation (ORG SIGN)",
    VihfRule.NAME_ID_NOT_CARD_HOLDER: "Le NameID du VIHF n'est pas l'identifiant du porteur de la carte signataire",
    VihfRule.STRUCTURE_MISMATCH: "L'identifiant de structure du VIHF ne correspond pas au certificat de l'organisation",
    VihfRule.UNSIGNED: "Le VIHF n'est pas signé",
    VihfRule.SIGNATURE_INVALID: "La signature du VIHF est invalide",
    VihfRule.DIGEST_MISMATCH: "La signature du VIHF est invalide : contenu modifié",
    VihfRule.ISSUE_INSTANT_STALE: "Le VIHF est expiré",
    VihfRule.AIR_TOKEN_EXPIRED: "Le VIHF est expiré (durée de vie de 30 secondes en AIR)",
    VihfRule.ISSUE_INSTANT_FUTURE: "La date d'émission du VIHF est dans le futur",
    VihfRule.REPLAY: "Le VIHF a déjà été utilisé",
    VihfRule.SPECIALTY_REQUIRED: SPECIALTY_MISSING_MESSAGE,
    VihfRule.ASSERTION_TOO_LARGE: "Le VIHF est trop volumineux",
    VihfRule.VALUE_TOO_LONG: "Le VIHF contient une valeur trop longue",
    VihfRule.ROLE_COUNT: "Le VIHF doit porter de 1 à 4 rôles",
    VihfRule.PROFESSION_UNKNOWN: "Profession inconnue dans le VIHF (JDV_J65-SubjectRole-DMP)",
    VihfRule.SAVOIR_FAIRE_UNKNOWN: "Savoir-faire inconnu dans le VIHF (JDV_J65-SubjectRole-DMP)",
    VihfRule.SECTEUR_UNKNOWN: "Secteur d'activité inconnu dans le VIHF (TRE_R02-SecteurActivite)",
    VihfRule.PURPOSE_UNKNOWN: "Mode d'accès inconnu dans le VIHF (TRE_R248-ModeAcces)",
}


def rule_error(rule: VihfRule, detail: str) -> DmpSecurityError:
    """The refusal for ``rule``; ``detail`` says what to fix and never quotes patient data."""
    return DmpSecurityError(f"VIHF rejected by rule {rule.value}: {detail}", rule=rule.value, dmp_code=rule.dmp_code)
