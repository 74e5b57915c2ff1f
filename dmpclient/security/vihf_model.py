"""The VIHF (DMP identity assertion, SAML 2.0) as typed data, and its XML form (reference §2).

:class:`Vihf` is the public, validated model. :func:`vihf_to_element` writes the unsigned assertion in the
order of the official examples (§2.1, §2.7); :func:`read_assertion` reads any assertion leniently into a
:class:`RawAssertion` (prefix-agnostic, ``Authentification_mode`` matched case-insensitively) so that the
verifier can name the exact rule a token breaks before :func:`vihf_from_raw` builds the model.
The profile constants (attribute names, required attributes per mode, code systems) live here, in one place.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, field_validator

from dmpclient.codes import ValueSetId, load_value_set
from dmpclient.errors import DmpValidationError
from dmpclient.ids import format_cx, parse_cx

__all__ = [
    "ATTRIBUTE_ORDER",
    "CONFIDENTIALITY_ELEMENT",
    "DEFAULT_VIHF_VERSION",
    "ISSUER_FORMAT",
    "REQUIRED_ATTRIBUTES",
    "RESSOURCE_URN",
    "SAVOIR_FAIRE_SYSTEMS",
    "SECRET_CONNECTION",
    "SECTEUR_ACTIVITE_OID",
    "SPECIALTY_REQUIRED_PROFESSIONS",
    "VIHF_VERSIONS",
    "AuthMode",
    "AuthnContextClass",
    "CodedValue",
    "LpsIdentity",
    "PatientId",
    "PurposeOfUse",
    "RawAssertion",
    "Vihf",
    "VihfAttribute",
    "find_assertions",
    "format_instant",
    "missing_savoir_faire",
    "parse_instant",
    "read_assertion",
    "vihf_from_raw",
    "vihf_to_element",
]

SAML: Final = "urn:oasis:names:tc:SAML:2.0:assertion"
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
XS: Final = "http://www.w3.org/2001/XMLSchema"
HL7: Final = "urn:hl7-org:v3"
_S = f"{{{SAML}}}"
_XSI_TYPE: Final = f"{{{XSI}}}type"
#: ``<Role xmlns="urn:hl7-org:v3" xsi:type="CE">``: the default namespace makes the unprefixed CE resolve.
_HL7_DEFAULT: Final[Any] = {None: HL7}

ISSUER_FORMAT: Final = "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"
RESSOURCE_URN: Final = "urn:dmp"
VIHF_VERSIONS: Final = frozenset({"3.0", "4.0"})
DEFAULT_VIHF_VERSION: Final = "3.0"
SECTEUR_ACTIVITE_OID: Final = "1.2.250.1.71.4.2.4"
#: Professions whose second role (savoir-faire) is mandatory: médecin, pharmacien (§2.8).
SPECIALTY_REQUIRED_PROFESSIONS: Final = frozenset({"10", "21"})
#: Code systems of a savoir-faire role: TRE_R01 specialties, TRE_G05 pharmacist sections.
SAVOIR_FAIRE_SYSTEMS: Final = frozenset({"1.2.250.1.71.4.2.5", "1.2.250.1.71.4.2.6"})
#: Local name of the HL7 CE element of the confidentiality-code attribute (format **inferred**, §2.7).
CONFIDENTIALITY_ELEMENT: Final = "ConfidentialityCode"


class AuthMode(StrEnum):
    """``Authentification_mode`` (§2.5, §2.10)."""

    DIRECTE = "DIRECTE"
    INDIRECTE = "INDIRECTE"
    AIR = "INDIRECTE_RENFORCEE"


class PurposeOfUse(StrEnum):
    """``purposeofuse`` codes, TRE_R248-ModeAcces (§2.9)."""

    NORMAL = "normal"
    BRIS_DE_GLACE = "bris_de_glace"
    CENTRE_15 = "centre_15"

    def coded(self) -> CodedValue:
        """The ``hl7:PurposeOfUse`` CE (code system, codeSystemName and label from the package data)."""
        return CodedValue.from_value_set(ValueSetId.MODE_ACCES, self.value, field="purpose")


class AuthnContextClass(StrEnum):
    """Standard SAML 2.0 authentication context classes seen in DMP VIHFs (§2.5)."""

    SMARTCARD_PKI = "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI"
    PASSWORD = "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"  # noqa: S105 - a class URN
    TLS_CLIENT = "urn:oasis:names:tc:SAML:2.0:ac:classes:TLSClient"
    UNSPECIFIED = "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"
    MOBILE_TWO_FACTOR_UNREGISTERED = "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered"


class VihfAttribute(StrEnum):
    """``saml2:Attribute/@Name`` values, exactly as on the wire (§2.7)."""

    IDENTIFIANT_STRUCTURE = "Identifiant_Structure"
    SECTEUR_ACTIVITE = "Secteur_Activite"
    SUBJECT_ID = "urn:oasis:names:tc:xspa:1.0:subject:subject-id"
    ROLE = "urn:oasis:names:tc:xacml:2.0:subject:role"
    VIHF_VERSION = "VIHF_Version"
    AUTHENTIFICATION_MODE = "Authentification_mode"
    RESOURCE_ID = "urn:oasis:names:tc:xacml:2.0:resource:resource-id"
    RESSOURCE_URN = "Ressource_URN"
    PURPOSE_OF_USE = "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse"
    CONFIDENTIALITY_CODE = "urn:oasis:names:tc:xspa:1.0:resource:patient:hl7:confidentiality-code"
    LPS_ID = "LPS_ID"
    LPS_NOM = "LPS_Nom"
    LPS_VERSION = "LPS_Version"
    LPS_ID_HOMOLOGATION_DMP = "LPS_ID_HOMOLOGATION_DMP"


#: Emission order of the official examples (§2.7); the confidentiality code (never shown) follows the purpose.
ATTRIBUTE_ORDER: Final = tuple(VihfAttribute)

_COMMON_REQUIRED = frozenset(
    {
        VihfAttribute.IDENTIFIANT_STRUCTURE,
        VihfAttribute.SECTEUR_ACTIVITE,
        VihfAttribute.ROLE,
        VihfAttribute.VIHF_VERSION,
        VihfAttribute.AUTHENTIFICATION_MODE,
        VihfAttribute.RESSOURCE_URN,
        VihfAttribute.PURPOSE_OF_USE,
        VihfAttribute.LPS_NOM,
        VihfAttribute.LPS_VERSION,
        VihfAttribute.LPS_ID_HOMOLOGATION_DMP,
    }
)
#: Mandatory attributes per mode (§2.7 "R"; subject-id is absent from the DIRECTE examples). The
#: resource-id is required per transaction (patient-centred TDs), not here. Change this table, nowhere else.
REQUIRED_ATTRIBUTES: Final[Mapping[AuthMode, frozenset[VihfAttribute]]] = {
    AuthMode.DIRECTE: _COMMON_REQUIRED,
    AuthMode.INDIRECTE: _COMMON_REQUIRED | {VihfAttribute.SUBJECT_ID},
    AuthMode.AIR: _COMMON_REQUIRED | {VihfAttribute.SUBJECT_ID},
}

#: Attribute names read case-insensitively or under a legacy spelling (§2.7): ``Authentification_Mode``
#: (PKG-KIT, DRIMBOX, CI-SIS) and ``Confidentiality_code`` (PKG-KIT). Other names must match exactly.
_ALIASES: Final = {
    "authentification_mode": VihfAttribute.AUTHENTIFICATION_MODE,
    "confidentiality_code": VihfAttribute.CONFIDENTIALITY_CODE,
}


class CodedValue(BaseModel):
    """An HL7 v3 CE value (``hl7:Role``, ``hl7:PurposeOfUse``…): code, code system OID and labels (§2.6)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(min_length=1)
    code_system: str = Field(min_length=1)
    code_system_name: str | None = None
    display_name: str | None = None

    @classmethod
    def from_value_set(cls, vs_id: ValueSetId, code: str, *, field: str = "code") -> CodedValue:
        """The CE for ``code`` of a shipped terminology (label and codeSystemName from the package data).

        Raises:
            DmpValidationError: the code is not in that terminology.
        """
        terminology = load_value_set(vs_id)
        concept = terminology.get(code)
        if concept is None or concept.retired:
            known = ", ".join(terminology.codes()[:12])
            raise DmpValidationError(
                f"{field}: {code!r} is not a code of {terminology.name} (e.g. {known}…)", field=field
            )
        return cls(
            code=code,
            code_system=terminology.oid,
            code_system_name=terminology.code_system_name,
            display_name=concept.display,
        )


class PatientId(BaseModel):
    """The patient of the VIHF ``resource-id``: INS and its assigning authority OID (CX on the wire)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ins: str
    oid: str

    def __repr__(self) -> str:  # an INS never goes to logs in clear
        return f"PatientId(ins='…{self.ins[-4:]}', oid={self.oid!r})"

    __str__ = __repr__

    @classmethod
    def from_cx(cls, cx: str) -> PatientId:
        """Parse ``{INS}^^^&{OID}&ISO^NH`` (the INS itself is checked by :func:`dmpclient.ids.validate_ins`)."""
        ins, oid = parse_cx(cx, field="resource-id")
        return cls(ins=ins, oid=oid)

    @property
    def cx(self) -> str:
        """``{INS}^^^&{OID}&ISO^NH``."""
        return format_cx(self.ins, self.oid)


#: The confidentiality code of a "connexion secrète" (minors): CE with a JDV_J58 code **(inferred format)**.
SECRET_CONNECTION: Final = CodedValue(
    code="INVISIBLE_REPRESENTANTS_LEGAUX",
    code_system="1.2.250.1.213.1.1.4.13",
    display_name="Non visible par les représentants légaux du patient",
)


class LpsIdentity(BaseModel):
    """The calling software as registered for DMP homologation (``LPS_*`` attributes)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    nom: str = Field(min_length=1)
    version: str = Field(min_length=1)
    homologation: str = Field(min_length=1, description="LPS_ID_HOMOLOGATION_DMP")
    id: str | None = Field(default=None, description="LPS_ID: installation / serial identifier")


class Vihf(BaseModel):
    """One VIHF, every attribute of §2.7 (wire names in :class:`VihfAttribute`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    assertion_id: str = Field(min_length=1)
    issue_instant: dt.datetime
    issuer: str = Field(min_length=1, description="RFC 4514 DN of the signing certificate")
    subject_name_id: str = Field(min_length=1, description="national id of the user (NameID)")
    authn_instant: dt.datetime
    authn_context_class: str
    authn_context_decl: str | None = Field(default=None, description="AIR: primary authentication method")
    mode: AuthMode
    structure_id: str = Field(min_length=1)
    secteur_activite: str = Field(min_length=1, description="TRE_R02 code, e.g. SA07")
    subject_id: str | None = None
    roles: tuple[CodedValue, ...] = Field(min_length=1, max_length=4)
    purpose: PurposeOfUse = PurposeOfUse.NORMAL
    patient: PatientId | None = None
    confidentiality: CodedValue | None = None
    lps: LpsIdentity
    vihf_version: str = DEFAULT_VIHF_VERSION
    ressource_urn: str = RESSOURCE_URN

    @field_validator("issue_instant", "authn_instant")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)

    @property
    def profession(self) -> CodedValue:
        """First role: profession (TRE_G15) or non-PS producer (TRE_A00)."""
        return self.roles[0]

    @property
    def savoir_faire(self) -> CodedValue | None:
        """The savoir-faire role (TRE_R01 specialty or TRE_G05 pharmacist section), if any."""
        return next((role for role in self.roles[1:] if role.code_system in SAVOIR_FAIRE_SYSTEMS), None)


def missing_savoir_faire(roles: Sequence[CodedValue]) -> bool:
    """True when the profession (first role) is 10 or 21 and no savoir-faire role follows (§2.8)."""
    return (
        bool(roles)
        and roles[0].code in SPECIALTY_REQUIRED_PROFESSIONS
        and not any(role.code_system in SAVOIR_FAIRE_SYSTEMS for role in roles[1:])
    )


# --- instants --------------------------------------------------------------------------------


def format_instant(instant: dt.datetime) -> str:
    """xs:dateTime in UTC with milliseconds and ``Z`` (``2020-08-04T07:12:16.918Z``)."""
    utc = instant.astimezone(dt.UTC) if instant.tzinfo else instant
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_instant(value: str) -> dt.datetime:
    """Parse an xs:dateTime (``Z`` or offset, any fraction digits; no zone = UTC)."""
    text = value.strip()
    head, dot, rest = text.partition(".")
    if dot:  # fromisoformat wants 3 or 6 fraction digits: normalise to microseconds
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits) :]
        text = f"{head}.{(digits + '000000')[:6]}{zone}"
    parsed = dt.datetime.fromisoformat(text)
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


# --- writing ------------------------------------------------------------------------------------


def _string_value_prototype() -> etree._Element:
    """``<saml2:AttributeValue xmlns:xs=… xsi:type="xs:string">``: ``xs`` declared on each value (§2.6)."""
    node = etree.Element(_S + "AttributeValue", nsmap={"saml2": SAML, "xsi": XSI, "xs": XS})
    node.set(_XSI_TYPE, "xs:string")
    return node


_STRING_VALUE: Final = _string_value_prototype()  # copied, never modified: copying beats nsmap handling


def _string_attribute(statement: etree._Element, name: str, values: Sequence[str]) -> None:
    attribute = etree.SubElement(statement, _S + "Attribute", Name=name)
    for value in values:
        node = copy.copy(_STRING_VALUE)
        node.text = value
        attribute.append(node)


def _coded_attribute(statement: etree._Element, name: str, local: str, values: Sequence[CodedValue]) -> None:
    attribute = etree.SubElement(statement, _S + "Attribute", Name=name)
    for value in values:
        node = etree.SubElement(attribute, _S + "AttributeValue")
        ce = etree.SubElement(node, f"{{{HL7}}}{local}", nsmap=_HL7_DEFAULT)
        ce.set("code", value.code)
        ce.set("codeSystem", value.code_system)
        if value.code_system_name:
            ce.set("codeSystemName", value.code_system_name)
        if value.display_name:
            ce.set("displayName", value.display_name)
        ce.set(_XSI_TYPE, "CE")


def _attribute_values(vihf: Vihf) -> dict[VihfAttribute, tuple[str, Sequence[str | CodedValue]]]:
    """Each present attribute with its kind (``""`` = string, else the CE element name) and values."""
    a = VihfAttribute
    values: dict[VihfAttribute, tuple[str, Sequence[str | CodedValue]]] = {
        a.IDENTIFIANT_STRUCTURE: ("", [vihf.structure_id]),
        a.SECTEUR_ACTIVITE: ("", [f"{vihf.secteur_activite}^{SECTEUR_ACTIVITE_OID}"]),
        a.SUBJECT_ID: ("", [vihf.subject_id] if vihf.subject_id else []),
        a.ROLE: ("Role", vihf.roles),
        a.VIHF_VERSION: ("", [vihf.vihf_version]),
        a.AUTHENTIFICATION_MODE: ("", [vihf.mode.value]),
        a.RESOURCE_ID: ("", [vihf.patient.cx] if vihf.patient else []),
        a.RESSOURCE_URN: ("", [vihf.ressource_urn]),
        a.PURPOSE_OF_USE: ("PurposeOfUse", [vihf.purpose.coded()]),
        a.CONFIDENTIALITY_CODE: (CONFIDENTIALITY_ELEMENT, [vihf.confidentiality] if vihf.confidentiality else []),
        a.LPS_ID: ("", [vihf.lps.id] if vihf.lps.id else []),
        a.LPS_NOM: ("", [vihf.lps.nom]),
        a.LPS_VERSION: ("", [vihf.lps.version]),
        a.LPS_ID_HOMOLOGATION_DMP: ("", [vihf.lps.homologation]),
    }
    return {name: values[name] for name in ATTRIBUTE_ORDER if values[name][1]}


def vihf_to_element(vihf: Vihf) -> etree._Element:
    """The unsigned ``saml2:Assertion`` (Issuer, Subject, AuthnStatement, AttributeStatement; §2.1)."""
    root = etree.Element(_S + "Assertion", nsmap={"saml2": SAML, "xsi": XSI})
    root.set("ID", vihf.assertion_id)
    root.set("IssueInstant", format_instant(vihf.issue_instant))
    root.set("Version", "2.0")
    etree.SubElement(root, _S + "Issuer", Format=ISSUER_FORMAT).text = vihf.issuer
    etree.SubElement(etree.SubElement(root, _S + "Subject"), _S + "NameID").text = vihf.subject_name_id
    authn = etree.SubElement(root, _S + "AuthnStatement", AuthnInstant=format_instant(vihf.authn_instant))
    context = etree.SubElement(authn, _S + "AuthnContext")
    etree.SubElement(context, _S + "AuthnContextClassRef").text = vihf.authn_context_class
    if vihf.authn_context_decl:
        etree.SubElement(context, _S + "AuthnContextDecl").text = vihf.authn_context_decl
    statement = etree.SubElement(root, _S + "AttributeStatement")
    for name, (local, values) in _attribute_values(vihf).items():
        if local:
            _coded_attribute(statement, name, local, [v for v in values if isinstance(v, CodedValue)])
        else:
            _string_attribute(statement, name, [v for v in values if isinstance(v, str)])
    return root


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RawAssertion:
    """An assertion read without judgement: header fields and attribute values by canonical name.

    ``attributes`` maps a known :class:`VihfAttribute` value (aliases and case of ``Authentification_mode``
    folded) or an unknown name as-is to its values: text, or a :class:`CodedValue` for an HL7 CE child.
    """

    assertion_id: str | None
    issue_instant: str | None
    issuer: str | None
    issuer_format: str | None
    name_id: str | None
    authn_instant: str | None
    authn_context_class: str | None
    authn_context_decl: str | None
    attributes: dict[str, list[str | CodedValue]] = field(default_factory=dict)

    def strings(self, name: VihfAttribute) -> list[str]:
        """The text values of one attribute."""
        return [v for v in self.attributes.get(name, []) if isinstance(v, str)]

    def coded(self, name: VihfAttribute) -> list[CodedValue]:
        """The CE values of one attribute."""
        return [v for v in self.attributes.get(name, []) if isinstance(v, CodedValue)]

    def first(self, name: VihfAttribute) -> str | None:
        """The first text value of one attribute, if any."""
        values = self.strings(name)
        return values[0] if values else None


def _text(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    return "".join(part for part in element.itertext() if isinstance(part, str)).strip()


def _value(node: etree._Element) -> str | CodedValue:
    child = next((c for c in node if isinstance(c.tag, str)), None)
    if child is None:
        return _text(node) or ""
    return CodedValue.model_construct(
        code=child.get("code", ""),
        code_system=child.get("codeSystem", ""),
        code_system_name=child.get("codeSystemName"),
        display_name=child.get("displayName"),
    )


def find_assertions(root: etree._Element) -> list[etree._Element]:
    """``root`` if it is a ``saml2:Assertion``, else every assertion below it (document order)."""
    tag = _S + "Assertion"
    return [root] if root.tag == tag else list(root.iter(tag))


def read_assertion(assertion: etree._Element) -> RawAssertion:
    """Read the fields of a SAML 2.0 assertion (any prefix, or the default namespace)."""
    attributes: dict[str, list[str | CodedValue]] = {}
    for attribute in assertion.iterfind(f"{_S}AttributeStatement/{_S}Attribute"):
        raw_name = attribute.get("Name", "")
        name = _ALIASES.get(raw_name.lower(), raw_name)
        attributes.setdefault(name, []).extend(_value(v) for v in attribute.iterfind(_S + "AttributeValue"))
    issuer = assertion.find(_S + "Issuer")
    authn = assertion.find(_S + "AuthnStatement")
    context = f"{_S}AuthnContext/{_S}"
    return RawAssertion(
        assertion_id=assertion.get("ID"),
        issue_instant=assertion.get("IssueInstant"),
        issuer=_text(issuer),
        issuer_format=issuer.get("Format") if issuer is not None else None,
        name_id=_text(assertion.find(f"{_S}Subject/{_S}NameID")),
        authn_instant=authn.get("AuthnInstant") if authn is not None else None,
        authn_context_class=_text(authn.find(context + "AuthnContextClassRef")) if authn is not None else None,
        authn_context_decl=_text(authn.find(context + "AuthnContextDecl")) if authn is not None else None,
        attributes=attributes,
    )


def _lps(raw: RawAssertion) -> LpsIdentity:
    return LpsIdentity(
        nom=raw.first(VihfAttribute.LPS_NOM) or "",
        version=raw.first(VihfAttribute.LPS_VERSION) or "",
        homologation=raw.first(VihfAttribute.LPS_ID_HOMOLOGATION_DMP) or "",
        id=raw.first(VihfAttribute.LPS_ID),
    )


def vihf_from_raw(raw: RawAssertion) -> Vihf:
    """Build the typed model from a read assertion (the verifier calls it after its rules passed).

    Raises:
        ValueError: a field is missing or malformed (pydantic's ``ValidationError`` or ours).
    """
    resource = raw.first(VihfAttribute.RESOURCE_ID)
    patient = PatientId.from_cx(resource) if resource else None
    purposes = raw.coded(VihfAttribute.PURPOSE_OF_USE)
    confidentiality = raw.coded(VihfAttribute.CONFIDENTIALITY_CODE)
    return Vihf(
        assertion_id=raw.assertion_id or "",
        issue_instant=parse_instant(raw.issue_instant or ""),
        issuer=raw.issuer or "",
        subject_name_id=raw.name_id or "",
        authn_instant=parse_instant(raw.authn_instant or ""),
        authn_context_class=raw.authn_context_class or "",
        authn_context_decl=raw.authn_context_decl or None,
        mode=AuthMode((raw.first(VihfAttribute.AUTHENTIFICATION_MODE) or "").strip().upper()),
        structure_id=raw.first(VihfAttribute.IDENTIFIANT_STRUCTURE) or "",
        secteur_activite=(raw.first(VihfAttribute.SECTEUR_ACTIVITE) or "").split("^", 1)[0],
        subject_id=raw.first(VihfAttribute.SUBJECT_ID),
        roles=tuple(CodedValue.model_validate(r.model_dump()) for r in raw.coded(VihfAttribute.ROLE)),
        purpose=PurposeOfUse(purposes[0].code if purposes else ""),
        patient=patient,
        confidentiality=CodedValue.model_validate(confidentiality[0].model_dump()) if confidentiality else None,
        lps=_lps(raw),
        vihf_version=raw.first(VihfAttribute.VIHF_VERSION) or "",
        ressource_urn=raw.first(VihfAttribute.RESSOURCE_URN) or "",
    )
