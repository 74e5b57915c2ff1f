"""What a VIHF may say, given who signed it: mode ↔ certificate, sizes, and coded values (project design).

* **Identity** (reference §1.4, §2.2–§2.5, §2.10, §12.6). ``DIRECTE`` means the card holder signed with the
  card's *signature* certificate: a personal certificate (``CN=idNat+SN=…+GN=…``) whose key usage includes
  non-repudiation and whose ``CN`` is the ``NameID``. ``INDIRECTE`` and ``INDIRECTE_RENFORCEE`` are signed by
  an organisation certificate (no surname or given name, ``OU`` = ``Identifiant_Structure``): a structure
  cannot pass as a card holder, nor a card holder as a structure.
* **Sizes.** Every field has a bound (:class:`VihfLimits`), checked on the signed subtree before any value is
  used, and the whole assertion is bounded before the signature is computed.
* **Codes.** The profession and savoir-faire roles are JDV_J65-SubjectRole-DMP codes, ``Secteur_Activite`` is a
  TRE_R02 code followed by its OID, the purpose a TRE_R248 code of its code system (package data).

Accepted liberally, because official examples or attested platforms do it (§1.4, §2.6–§2.8): any EKU on an
organisation certificate (clientAuth and emailProtection both occur), ``codeSystemName`` and ``displayName``
free or absent, roles 3 and 4 in terminologies we do not ship (TRE_R85, TRE_R22).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from cryptography import x509
from cryptography.x509.oid import NameOID
from lxml import etree

from dmpclient.codes import ValueSetId, load_value_set
from dmpclient.security.vihf_model import (
    SAVOIR_FAIRE_SYSTEMS,
    SECTEUR_ACTIVITE_OID,
    AuthMode,
    CodedValue,
    PurposeOfUse,
    RawAssertion,
    VihfAttribute,
)
from dmpclient.security.vihf_rules import VihfRule, rule_error

__all__ = [
    "SignerKind",
    "VihfLimits",
    "check_assertion_size",
    "check_codes",
    "check_key_usage",
    "check_signer",
    "check_structure",
    "check_value_sizes",
    "signer_kind",
]

#: Attributes whose values are identifiers or constants (short); the others may be names or labels.
_SHORT_ATTRIBUTES: Final = frozenset(
    {
        VihfAttribute.IDENTIFIANT_STRUCTURE,
        VihfAttribute.SECTEUR_ACTIVITE,
        VihfAttribute.VIHF_VERSION,
        VihfAttribute.AUTHENTIFICATION_MODE,
        VihfAttribute.RESSOURCE_URN,
    }
)
_MAX_ROLES: Final = 4


@dataclass(frozen=True, slots=True)
class VihfLimits:
    """Size bounds of a received VIHF (characters; a real one is ~70 elements and 5–8 KB).

    Attributes:
        max_elements: nodes of the whole assertion (elements, comments), checked before the signature.
        max_element_attributes: attributes of one element (a CE has 5); counted before any is read, since
            lxml reads the attributes of an element in quadratic time.
        max_node_text: any one text or attribute value of the assertion (an X509Certificate is ~2 KB).
        max_total_text: all text and attribute values of the assertion together.
        max_attributes: ``saml2:Attribute`` names (the profile has 14).
        max_values: ``saml2:AttributeValue`` per attribute (roles: at most 4).
        max_identifier: ``NameID``, ``@ID``, instants, structure id, version, mode, codes and code systems.
        max_issuer: the ``Issuer`` DN.
        max_value: every other value (subject-id, LPS names, labels, URNs, resource-id).
    """

    max_elements: int = 512
    max_element_attributes: int = 16
    max_node_text: int = 16 * 1024
    max_total_text: int = 128 * 1024
    max_attributes: int = 32
    max_values: int = 8
    max_identifier: int = 64
    max_issuer: int = 1024
    max_value: int = 256


class SignerKind(StrEnum):
    """What kind of IGC-Santé certificate signed (from the subject DN shapes of §2.2 and §12.6)."""

    PERSONAL = "personal"
    ORGANISATION = "organisation"
    UNKNOWN = "unknown"


def _values(name: x509.Name, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(attribute.value) for attribute in name.get_attributes_for_oid(oid)]


def signer_kind(certificate: x509.Certificate) -> SignerKind:
    """A personal certificate names a person (surname or given name next to ``CN=idNat``); an organisation
    certificate has a ``CN`` and an ``OU`` (the structure id) and names no person."""
    subject = certificate.subject
    if not _values(subject, NameOID.COMMON_NAME):
        return SignerKind.UNKNOWN
    if _values(subject, NameOID.SURNAME) or _values(subject, NameOID.GIVEN_NAME):
        return SignerKind.PERSONAL
    if _values(subject, NameOID.ORGANIZATIONAL_UNIT_NAME):
        return SignerKind.ORGANISATION
    return SignerKind.UNKNOWN


def _key_usage(certificate: x509.Certificate) -> x509.KeyUsage | None:
    try:
        return certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None


def check_key_usage(certificate: x509.Certificate) -> None:
    """A signing certificate whose key usage is declared must allow signatures (an ORG CONF encryption
    certificate must not sign a VIHF). EKUs are not checked (§1.4: both clientAuth and emailProtection occur)."""
    usage = _key_usage(certificate)
    if usage is not None and not (usage.digital_signature or usage.content_commitment):
        raise rule_error(VihfRule.CERTIFICATE_KEY_USAGE, "the signing certificate's key usage does not allow signing")


def check_signer(raw: RawAssertion, certificate: x509.Certificate, mode: AuthMode | None) -> None:
    """The mode agrees with the signing certificate (DIRECTE: the card holder's signature certificate;
    INDIRECTE/AIR: an organisation certificate)."""
    kind = signer_kind(certificate)
    if mode is AuthMode.DIRECTE:
        _check_card_holder(raw, certificate, kind)
    elif mode is not None and kind is not SignerKind.ORGANISATION:
        raise rule_error(
            VihfRule.SIGNER_NOT_ORGANISATION,
            "INDIRECTE and INDIRECTE_RENFORCEE are signed with the structure's organisation certificate "
            "(ORG SIGN, OU = Identifiant_Structure); a personal card signs DIRECTE VIHFs",
        )


def check_structure(raw: RawAssertion, certificate: x509.Certificate, mode: AuthMode | None) -> None:
    """In INDIRECTE/AIR, ``Identifiant_Structure`` is the OU of the signing certificate: a structure cannot
    speak for another (every official example, §1.4/§2.7)."""
    if mode is None or mode is AuthMode.DIRECTE:
        return
    claimed = raw.first(VihfAttribute.IDENTIFIANT_STRUCTURE)
    if claimed is None:
        raise rule_error(
            VihfRule.MISSING_ATTRIBUTE, f"mandatory attribute {VihfAttribute.IDENTIFIANT_STRUCTURE} is missing"
        )
    if claimed.strip() not in _values(certificate.subject, NameOID.ORGANIZATIONAL_UNIT_NAME):
        raise rule_error(VihfRule.STRUCTURE_MISMATCH, "Identifiant_Structure is not the OU of the signing certificate")


def _check_card_holder(raw: RawAssertion, certificate: x509.Certificate, kind: SignerKind) -> None:
    if kind is not SignerKind.PERSONAL:
        raise rule_error(
            VihfRule.SIGNER_NOT_PERSONAL,
            "DIRECTE is signed with the card holder's personal signature certificate "
            "(an organisation certificate signs INDIRECTE or INDIRECTE_RENFORCEE VIHFs)",
        )
    usage = _key_usage(certificate)
    if usage is None or not usage.content_commitment:
        raise rule_error(
            VihfRule.SIGNER_NOT_SIGNATURE_CERTIFICATE,
            "DIRECTE is signed with the card's signature key (non-repudiation), not its authentication key",
        )
    if (raw.name_id or "") not in _values(certificate.subject, NameOID.COMMON_NAME):
        raise rule_error(
            VihfRule.NAME_ID_NOT_CARD_HOLDER,
            "in DIRECTE the NameID is the national id of the card holder (the CN of the signing certificate)",
        )


# --- sizes --------------------------------------------------------------------------------------


def check_assertion_size(assertion: etree._Element, limits: VihfLimits) -> None:
    """Bound the whole assertion before its signature is computed (nodes, each value, all values)."""
    total = 0
    for elements, node in enumerate(assertion.iter(), start=1):
        if elements > limits.max_elements:
            raise rule_error(VihfRule.ASSERTION_TOO_LARGE, f"the assertion has more than {limits.max_elements} nodes")
        if len(node.attrib) > limits.max_element_attributes:
            raise rule_error(
                VihfRule.ASSERTION_TOO_LARGE, f"an element has more than {limits.max_element_attributes} attributes"
            )
        for value in (node.text, node.tail, *node.attrib.values()):
            size = len(value) if value else 0
            if size > limits.max_node_text:
                raise rule_error(
                    VihfRule.ASSERTION_TOO_LARGE, f"a value of the assertion exceeds {limits.max_node_text} characters"
                )
            total += size
    if total > limits.max_total_text:
        raise rule_error(
            VihfRule.ASSERTION_TOO_LARGE, f"the assertion carries more than {limits.max_total_text} characters"
        )


def _bound(value: str | None, limit: int, what: str) -> None:
    if value is not None and len(value) > limit:
        raise rule_error(VihfRule.VALUE_TOO_LONG, f"{what} is longer than {limit} characters")


def _bound_coded(value: CodedValue, limits: VihfLimits, what: str) -> None:
    _bound(value.code, limits.max_identifier, f"{what} @code")
    _bound(value.code_system, limits.max_identifier, f"{what} @codeSystem")
    _bound(value.code_system_name, limits.max_value, f"{what} @codeSystemName")
    _bound(value.display_name, limits.max_value, f"{what} @displayName")


def check_value_sizes(raw: RawAssertion, limits: VihfLimits) -> None:
    """Every field of the signed assertion within its bound (messages name the field, never its value)."""
    for value, limit, what in (
        (raw.assertion_id, limits.max_identifier, "Assertion/@ID"),
        (raw.issue_instant, limits.max_identifier, "IssueInstant"),
        (raw.authn_instant, limits.max_identifier, "AuthnInstant"),
        (raw.name_id, limits.max_identifier, "NameID"),
        (raw.issuer, limits.max_issuer, "Issuer"),
        (raw.issuer_format, limits.max_value, "Issuer/@Format"),
        (raw.authn_context_class, limits.max_value, "AuthnContextClassRef"),
        (raw.authn_context_decl, limits.max_value, "AuthnContextDecl"),
    ):
        _bound(value, limit, what)
    if len(raw.attributes) > limits.max_attributes:
        raise rule_error(VihfRule.VALUE_TOO_LONG, f"more than {limits.max_attributes} attributes")
    for name, values in raw.attributes.items():
        _bound(name, limits.max_value, "an Attribute/@Name")
        if len(values) > limits.max_values:
            raise rule_error(VihfRule.VALUE_TOO_LONG, f"more than {limits.max_values} values in an attribute")
        limit = limits.max_identifier if name in _SHORT_ATTRIBUTES else limits.max_value
        for item in values:
            if isinstance(item, CodedValue):
                _bound_coded(item, limits, "a coded value")
            else:
                _bound(item, limit, f"a value of attribute {name}")


# --- codes --------------------------------------------------------------------------------------


def _active(system: str, code: str) -> bool:
    concept = load_value_set(ValueSetId.SUBJECT_ROLE).get(code, system)
    return concept is not None and not concept.retired


def _role_systems() -> frozenset[str]:
    return frozenset(concept.system for concept in load_value_set(ValueSetId.SUBJECT_ROLE).concepts)


def check_codes(raw: RawAssertion) -> None:
    """Roles, secteur and purpose in their value sets (JDV_J65, TRE_R02, TRE_R248; §2.7–§2.9)."""
    _check_roles(raw.coded(VihfAttribute.ROLE))
    _check_secteur(raw.strings(VihfAttribute.SECTEUR_ACTIVITE))
    _check_purpose(raw.coded(VihfAttribute.PURPOSE_OF_USE))


def _check_roles(roles: list[CodedValue]) -> None:
    if not 1 <= len(roles) <= _MAX_ROLES:
        raise rule_error(VihfRule.ROLE_COUNT, f"the role attribute holds 1 to {_MAX_ROLES} hl7:Role, got {len(roles)}")
    profession = roles[0]
    if profession.code_system in SAVOIR_FAIRE_SYSTEMS or not _active(profession.code_system, profession.code):
        raise rule_error(
            VihfRule.PROFESSION_UNKNOWN,
            "the first role is a profession of JDV_J65-SubjectRole-DMP (TRE_G15 such as 10, TRE_A00 such as AUTOMATE)",
        )
    known = _role_systems()
    for role in roles[1:]:
        if role.code_system in known and not _active(role.code_system, role.code):
            rule = (
                VihfRule.SAVOIR_FAIRE_UNKNOWN
                if role.code_system in SAVOIR_FAIRE_SYSTEMS
                else VihfRule.PROFESSION_UNKNOWN
            )
            raise rule_error(rule, "a role is not a code of JDV_J65-SubjectRole-DMP for its codeSystem")


def _check_secteur(values: Iterable[str]) -> None:
    for value in values:
        code, separator, system = value.strip().partition("^")
        if not separator or system != SECTEUR_ACTIVITE_OID or code not in load_value_set(ValueSetId.SECTEUR_ACTIVITE):
            raise rule_error(
                VihfRule.SECTEUR_UNKNOWN,
                f"Secteur_Activite is a TRE_R02 code, ^ and {SECTEUR_ACTIVITE_OID} (e.g. SA07^{SECTEUR_ACTIVITE_OID})",
            )


def _check_purpose(purposes: list[CodedValue]) -> None:
    system = load_value_set(ValueSetId.MODE_ACCES).oid
    for purpose in purposes:
        if purpose.code_system != system or purpose.code not in set(PurposeOfUse):
            raise rule_error(
                VihfRule.PURPOSE_UNKNOWN,
                f"purposeofuse is one of {', '.join(PurposeOfUse)} of code system {system} (TRE_R248)",
            )
