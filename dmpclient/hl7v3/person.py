"""A person as the DMP's HL7v3 messages describe one: names, sex, birth, addresses, telecoms, representatives.

Shared by TD1.3a (answer), TD1.3b (request) and TD0.5 (candidates), both directions (reference §3.1, §3.9,
§3.10, §3.6). ``patientPerson`` children are written in the order of the HL7 Person model (name, telecom,
administrativeGenderCode, birthTime, deceasedInd, addr, personalRelationship, birthPlace) and read from the
patient's **own** children only: a legal representative's ``relationshipHolder1/name`` is never taken for the
patient's.

Telecoms are HL7 ``TEL`` URLs: ``mailto:`` (mail), ``tel:`` (phone; a mobile when ``@use`` holds ``MC``),
``fax:`` (fax); anything else is kept raw as ``other``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Any, ClassVar, Final

from lxml import etree
from pydantic import BaseModel, ConfigDict, computed_field

from dmpclient.hl7v3.wrapper import HL7, XSI, child, parse_date, sub

__all__ = [
    "RELATIONSHIP_CODE_SYSTEM",
    "Address",
    "LegalRepresentative",
    "Observation",
    "PersonTraits",
    "Telecom",
    "TelecomKind",
    "read_address",
    "read_names",
    "read_observations",
    "read_person",
    "read_pn",
    "split_person_name",
    "write_address",
    "write_name",
    "write_observations",
    "write_person",
]

#: HL7 PersonalRelationshipRoleType value set (``FTH`` father, ``MTH`` mother, ``GUARD`` guardian…).
RELATIONSHIP_CODE_SYSTEM: Final = "2.16.840.1.113883.1.11.19579"
#: Default code system of the DMP's administrative observations (reference §3.1).
OBSERVATION_CODE_SYSTEM: Final = "1.2.250.1.213.4.1.2.3"
_GENDER_CODE_SYSTEM: Final = "2.16.840.1.113883.5.1"
_MOBILE_USE: Final = "MC"
_XSI_TYPE: Final = f"{{{XSI}}}type"


class _Private(BaseModel):
    """A frozen model whose repr shows field names only (values are personal data: never in logs), except the
    fields its ``_shown`` names (codes, statuses: no personal data)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    _shown: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Refuse a ``_shown`` naming a field the model does not have (it would silently show nothing)."""
        super().__pydantic_init_subclass__(**kwargs)
        unknown = cls._shown - set(cls.model_fields)
        if unknown:
            raise TypeError(f"{cls.__name__}._shown names fields it does not have: {sorted(unknown)}")

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value in (None, (), ""):
                continue
            if name == "ins":
                yield name, f"…{str(value)[-4:]}"
            else:
                yield name, value if name in self._shown else "…"

    def __str__(self) -> str:
        return repr(self)


class TelecomKind(StrEnum):
    """What a telecom address reaches (from its URL scheme and ``@use``)."""

    MAIL = "mail"
    MOBILE = "mobile"
    PHONE = "phone"
    FAX = "fax"
    OTHER = "other"


_SCHEMES: Final = {
    TelecomKind.MAIL: "mailto:",
    TelecomKind.PHONE: "tel:",
    TelecomKind.MOBILE: "tel:",
    TelecomKind.FAX: "fax:",
}


class Telecom(_Private):
    """One HL7 ``telecom``: its kind, the address without scheme, and the HL7 ``@use`` codes (``H``, ``WP``, ``MC``…).

    ``OTHER`` keeps the whole URL in ``value``.
    """

    _shown: ClassVar[frozenset[str]] = frozenset({"kind", "use"})

    kind: TelecomKind
    value: str
    use: str | None = None

    @property
    def uri(self) -> str:
        """The ``@value`` URL (``mailto:…``, ``tel:…``, ``fax:…``)."""
        if self.kind is TelecomKind.OTHER:
            return self.value
        return f"{_SCHEMES[self.kind]}{self.value}"

    @property
    def wire_use(self) -> str | None:
        """The ``@use`` to send: a mobile always carries ``MC``."""
        if self.kind is not TelecomKind.MOBILE:
            return self.use
        codes = (self.use or "").split()
        return " ".join(codes if _MOBILE_USE in codes else [*codes, _MOBILE_USE])

    @classmethod
    def from_uri(cls, uri: str, use: str | None = None) -> Telecom:
        """Read a TEL URL: the scheme gives the kind, ``MC`` in ``use`` makes a ``tel:`` a mobile."""
        scheme, sep, rest = uri.strip().partition(":")
        scheme = scheme.lower() if sep else ""
        if scheme == "mailto":
            return cls(kind=TelecomKind.MAIL, value=rest, use=use)
        if scheme == "fax":
            return cls(kind=TelecomKind.FAX, value=rest, use=use)
        if scheme == "tel":
            mobile = _MOBILE_USE in (use or "").split()
            return cls(kind=TelecomKind.MOBILE if mobile else TelecomKind.PHONE, value=rest, use=use)
        return cls(kind=TelecomKind.OTHER, value=uri.strip(), use=use)


class Address(_Private):
    """An HL7 ``addr`` (AD) as the DMP fills it (reference §3.9)."""

    _shown: ClassVar[frozenset[str]] = frozenset({"use", "country"})

    street_lines: tuple[str, ...] = ()
    additional_locator: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    use: str | None = None


class Observation(_Private):
    """An ``administrativeObservation``: its code and value, whatever the code (unknown codes are kept).

    ``value`` is a bool for ``BL`` values (the oppositions), else the raw ``@value`` / ``@code`` / text.
    """

    _shown: ClassVar[frozenset[str]] = frozenset({"code", "code_system", "value"})

    code: str
    code_system: str | None = None
    value: bool | str | None = None


class LegalRepresentative(_Private):
    """A ``personalRelationship`` of the patient (legal representative of a minor, reference §3.1, §3.9).

    Attributes:
        relationship: the role code (``FTH``, ``MTH``, ``GUARD``…) and its code system / display name.
    """

    _shown: ClassVar[frozenset[str]] = frozenset({"relationship", "relationship_system"})

    relationship: str
    relationship_system: str | None = RELATIONSHIP_CODE_SYSTEM
    relationship_display: str | None = None
    family: str | None = None
    birth_family: str | None = None
    given_names: tuple[str, ...] = ()
    prefix: str | None = None
    addresses: tuple[Address, ...] = ()
    telecoms: tuple[Telecom, ...] = ()


class PersonTraits(_Private):
    """The ``patientPerson`` of a patient.

    Attributes:
        family: the used name (``family@qualifier=SP``, or without qualifier).
        birth_family: the birth name (``family@qualifier=BR``).
        given_names: every ``given``, in order.
        gender: ``administrativeGenderCode/@code`` (``M``, ``F``, ``U``).
        birth_time: the raw HL7 ``birthTime/@value`` (partial dates such as ``1980`` are legal);
            :attr:`birth_date` is the calendar day when it names one.
        deceased: ``deceasedInd/@value``.
        birth_place: ``birthPlace/addr``.
    """

    family: str | None = None
    birth_family: str | None = None
    given_names: tuple[str, ...] = ()
    prefix: str | None = None
    gender: str | None = None
    birth_time: str | None = None
    deceased: bool | None = None
    birth_place: Address | None = None
    addresses: tuple[Address, ...] = ()
    telecoms: tuple[Telecom, ...] = ()
    legal_representatives: tuple[LegalRepresentative, ...] = ()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def birth_date(self) -> dt.date | None:
        """The birth day, or None when ``birth_time`` is partial or odd."""
        return parse_date(self.birth_time) if self.birth_time else None


def split_person_name(full_name: str | None) -> tuple[str | None, str | None]:
    """(family, given) of a VIHF ``subject-id`` "NOM Prénom[, service]" (project design: the first word is the
    family name, as in the official examples' ``MAX LIBRE``-style values read family-first)."""
    if not full_name:
        return None, None
    words = full_name.split(",", 1)[0].split()
    if not words:
        return None, None
    return words[0], " ".join(words[1:]) or None


# --- writing ------------------------------------------------------------------------------------


def write_name(
    parent: etree._Element, family: str | None, birth_family: str | None, given: Iterable[str], prefix: str | None
) -> etree._Element:
    """An HL7 ``name`` (PN): prefix, given names, used name (``SP``), birth name (``BR``)."""
    name = sub(parent, "name")
    if prefix:
        sub(name, "prefix", prefix)
    for given_name in given:
        sub(name, "given", given_name)
    if family:
        sub(name, "family", family, qualifier="SP")
    if birth_family:
        sub(name, "family", birth_family, qualifier="BR")
    return name


def write_telecom(parent: etree._Element, telecom: Telecom) -> None:
    use = telecom.wire_use
    sub(parent, "telecom", value=telecom.uri, **({"use": use} if use else {}))


def write_address(parent: etree._Element, address: Address, tag: str = "addr") -> None:
    """An HL7 ``addr`` (AD) with the parts the DMP uses, in the reference's order."""
    node = sub(parent, tag, **({"use": address.use} if address.use else {}))
    for line in address.street_lines:
        sub(node, "streetAddressLine", line)
    parts = (
        ("additionalLocator", address.additional_locator),
        ("postalCode", address.postal_code),
        ("city", address.city),
        ("country", address.country),
    )
    for part, value in parts:
        if value:
            sub(node, part, value)


def _write_representative(parent: etree._Element, representative: LegalRepresentative) -> None:
    relation = sub(parent, "personalRelationship", classCode="PRS")
    code = {"code": representative.relationship}
    if representative.relationship_system:
        code["codeSystem"] = representative.relationship_system
    if representative.relationship_display:
        code["displayName"] = representative.relationship_display
    sub(relation, "code", **code)
    for address in representative.addresses:
        write_address(relation, address)
    for telecom in representative.telecoms:
        write_telecom(relation, telecom)
    holder = sub(relation, "relationshipHolder1", classCode="PSN", determinerCode="INSTANCE")
    write_name(
        holder, representative.family, representative.birth_family, representative.given_names, representative.prefix
    )


def write_person(parent: etree._Element, traits: PersonTraits, *, with_names: bool = True) -> etree._Element:
    """Append ``patientPerson`` with every trait that is set, in the HL7 Person model order."""
    person = sub(parent, "patientPerson", classCode="PSN", determinerCode="INSTANCE")
    if with_names:
        write_name(person, traits.family, traits.birth_family, traits.given_names, traits.prefix)
    for telecom in traits.telecoms:
        write_telecom(person, telecom)
    if traits.gender:
        sub(person, "administrativeGenderCode", code=traits.gender, codeSystem=_GENDER_CODE_SYSTEM)
    if traits.birth_time:
        sub(person, "birthTime", value=traits.birth_time)
    if traits.deceased is not None:
        sub(person, "deceasedInd", value=str(traits.deceased).lower())
    for address in traits.addresses:
        write_address(person, address)
    for representative in traits.legal_representatives:
        _write_representative(person, representative)
    if traits.birth_place is not None:
        write_address(sub(person, "birthPlace", classCode="BIRTHPL"), traits.birth_place)
    return person


def write_observations(patient: etree._Element, observations: Iterable[Observation], *, via: str = "subjectOf") -> None:
    """Append one ``{via}/administrativeObservation`` per observation (BL for booleans, ST for text)."""
    for observation in observations:
        node = sub(sub(patient, via, typeCode="SBJ"), "administrativeObservation", classCode="OBS", moodCode="EVN")
        sub(node, "code", code=observation.code, codeSystem=observation.code_system or OBSERVATION_CODE_SYSTEM)
        if isinstance(observation.value, bool):
            sub(node, "value", xsi_type="BL", value=str(observation.value).lower())
        elif observation.value is not None:
            sub(node, "value", observation.value, xsi_type="ST")


# --- reading ------------------------------------------------------------------------------------


def _children(parent: etree._Element, local: str) -> list[etree._Element]:
    """The direct HL7 children named ``local`` (never descendants: a representative's name is not ours)."""
    return parent.findall(f"{{{HL7}}}{local}")


_XML_SPACE: Final = " \t\r\n"


def _text(node: etree._Element | None) -> str | None:
    """The text of a name or address part, without the XML white space around it (inner spaces are data)."""
    if node is None:
        return None
    return (node.text or "").strip(_XML_SPACE) or None


def read_pn(names: Iterable[etree._Element]) -> tuple[str | None, str | None, tuple[str, ...], str | None]:
    """Used name, birth name, given names and prefix from HL7 ``PN`` elements, merged in order.

    A ``family`` without qualifier is the used name; one ``name`` per qualifier is merged too.
    """
    families: dict[str, str] = {}
    given: list[str] = []
    prefix = None
    for name in names:
        for family in _children(name, "family"):
            text = _text(family)
            qualifier = (family.get("qualifier") or "SP").split()
            if text:
                families.setdefault("BR" if "BR" in qualifier else "SP", text)
        given.extend(text for node in _children(name, "given") if (text := _text(node)))
        prefix = prefix or _text(child(name, "prefix"))
    return families.get("SP"), families.get("BR"), tuple(given), prefix


def read_names(person: etree._Element) -> tuple[str | None, str | None, tuple[str, ...], str | None]:
    """:func:`read_pn` of ``person``'s **own** ``name`` children (never a representative's)."""
    return read_pn(_children(person, "name"))


def read_telecoms(node: etree._Element) -> tuple[Telecom, ...]:
    return tuple(
        Telecom.from_uri(value, telecom.get("use"))
        for telecom in _children(node, "telecom")
        if (value := (telecom.get("value") or "").strip())
    )


def read_address(node: etree._Element) -> Address:
    lines = tuple(text for line in _children(node, "streetAddressLine") if (text := _text(line)))
    return Address(
        street_lines=lines,
        additional_locator=_text(child(node, "additionalLocator")),
        postal_code=_text(child(node, "postalCode")),
        city=_text(child(node, "city")),
        country=_text(child(node, "country")),
        use=node.get("use"),
    )


def _read_representative(relation: etree._Element) -> LegalRepresentative:
    code = child(relation, "code")
    holder = child(relation, "relationshipHolder1")
    family, birth_family, given, prefix = read_names(holder) if holder is not None else (None, None, (), None)
    return LegalRepresentative(
        relationship=(code.get("code") if code is not None else None) or "",
        relationship_system=code.get("codeSystem") if code is not None else None,
        relationship_display=code.get("displayName") if code is not None else None,
        family=family,
        birth_family=birth_family,
        given_names=given,
        prefix=prefix,
        addresses=tuple(read_address(a) for a in _children(relation, "addr")),
        telecoms=read_telecoms(relation),
    )


def _bool(value: str | None) -> bool | None:
    return {"true": True, "false": False}.get((value or "").strip().lower())


def read_person(person: etree._Element | None) -> PersonTraits:
    """Every trait of a ``patientPerson`` (empty traits when there is none)."""
    if person is None:
        return PersonTraits()
    family, birth_family, given, prefix = read_names(person)
    gender = child(person, "administrativeGenderCode")
    birth = child(person, "birthTime")
    deceased = child(person, "deceasedInd")
    birth_place = child(person, "birthPlace/addr")
    return PersonTraits(
        family=family,
        birth_family=birth_family,
        given_names=given,
        prefix=prefix,
        gender=gender.get("code") if gender is not None else None,
        birth_time=((birth.get("value") or "").strip() or None) if birth is not None else None,
        deceased=_bool(deceased.get("value")) if deceased is not None else None,
        birth_place=read_address(birth_place) if birth_place is not None else None,
        addresses=tuple(read_address(a) for a in _children(person, "addr")),
        telecoms=read_telecoms(person),
        legal_representatives=tuple(_read_representative(r) for r in _children(person, "personalRelationship")),
    )


def _observation_value(value: etree._Element | None) -> bool | str | None:
    if value is None:
        return None
    kind = (value.get(_XSI_TYPE) or "").rpartition(":")[2] or None
    if kind == "BL" or (kind is None and value.get("value") in ("true", "false")):
        return _bool(value.get("value"))
    return value.get("value") or value.get("code") or _text(value)


def read_observations(patient: etree._Element, *, via: str = "subjectOf") -> tuple[Observation, ...]:
    """Every ``{via}/administrativeObservation`` of a patient, unknown codes included."""
    found = []
    for node in patient.iterfind(f"{{{HL7}}}{via}/{{{HL7}}}administrativeObservation"):
        code = child(node, "code")
        if code is None or not code.get("code"):
            continue
        value = _observation_value(child(node, "value"))
        found.append(Observation(code=code.get("code", ""), code_system=code.get("codeSystem"), value=value))
    return tuple(found)
