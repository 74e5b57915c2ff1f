"""Coded values and value sets: one :class:`Code` type and one :class:`ValueSet` type for the whole SDK.

A :class:`Code` is what travels on the wire — a code, its code system (an OID, or a URN scheme name such as
``URN``/``ASTM`` for the signature entry) and a display name — whether it is a VIHF role, an XDS classCode or a
CDA typeCode. A :class:`ValueSet` is a shipped terminology (TRE, one code system) or value set (JDV, possibly
several code systems) with its provenance and concepts; concepts may carry properties (the classCode of a
typeCode, the mediaType of a formatCode, whether a code is reserved to the signature entry).

They live as package data (``dmpclient/data/*.json``, one layout for all), read once: the VIHF terminologies
(TRE_G15, TRE_R01, TRE_G05, TRE_R02, TRE_R248, TRE_A00, JDV_J65) are rebuilt from the ANS NOS SVS files by
``scripts/refresh_value_sets.py``; the DMP XDS value sets (JDV_J57… reference §4.6) are transcribed from the
reference (their exact membership at the current terminology version is an open question, §14 item 14: they
are data to update, not code). Nothing here reaches the network.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict

from dmpclient.errors import DmpValidationError

__all__ = [
    "VALUE_SET_FILES",
    "Code",
    "Concept",
    "ValueSet",
    "ValueSetId",
    "display_name",
    "load_value_set",
    "parse_value_set",
    "value_set_for_system",
]


class Code(BaseModel):
    """A coded value: ``code`` in code system ``system`` (OID or scheme name), with its display name.

    Equality and hashing use all three fields; compare ``(code, system)`` when labels may differ.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    system: str
    display: str = ""

    def __init__(self, code: str, system: str, display: str = "") -> None:  # positional, as codes are written
        super().__init__(code=code, system=system, display=display)

    @property
    def key(self) -> tuple[str, str]:
        """``(code, system)``: what identifies the value whatever its label."""
        return (self.code, self.system)

    def __str__(self) -> str:
        return f"{self.code}^^{self.system}"


class ValueSetId(StrEnum):
    """The terminologies and value sets shipped with the SDK."""

    # VIHF (reference §2.7–§2.9)
    PROFESSION = "TRE_G15"
    SAVOIR_FAIRE = "TRE_R01"
    SECTION_PHARMACIEN = "TRE_G05"
    SECTEUR_ACTIVITE = "TRE_R02"
    MODE_ACCES = "TRE_R248"
    PRODUCTEUR_NON_PS = "TRE_A00"
    SUBJECT_ROLE = "JDV_J65"
    # XDS metadata of the DMP (reference §4.6)
    CLASS_CODE = "JDV_J57"
    CONFIDENTIALITY_CODE = "JDV_J58"
    CONTENT_TYPE_CODE = "JDV_J59"
    FORMAT_CODE = "JDV_J60"
    HEALTHCARE_FACILITY_TYPE_CODE = "JDV_J61"
    PRACTICE_SETTING_CODE = "JDV_J62"
    TYPE_CODE = "JDV_J66"
    EVENT_CODE = "EVENT_CODES"


#: Package-data file of each value set (the healthcare facility types are the whole TRE_R02, §4.6).
VALUE_SET_FILES: Mapping[ValueSetId, str] = MappingProxyType(
    {
        ValueSetId.PROFESSION: "tre_g15_profession_sante.json",
        ValueSetId.SAVOIR_FAIRE: "tre_r01_savoir_faire.json",
        ValueSetId.SECTION_PHARMACIEN: "tre_g05_section_tableau_cnop.json",
        ValueSetId.SECTEUR_ACTIVITE: "tre_r02_secteur_activite.json",
        ValueSetId.MODE_ACCES: "tre_r248_mode_acces.json",
        ValueSetId.PRODUCTEUR_NON_PS: "tre_a00_producteur_doc_non_ps.json",
        ValueSetId.SUBJECT_ROLE: "jdv_j65_subject_role_dmp.json",
        ValueSetId.CLASS_CODE: "xds_class_code.json",
        ValueSetId.CONFIDENTIALITY_CODE: "xds_confidentiality_code.json",
        ValueSetId.CONTENT_TYPE_CODE: "xds_content_type_code.json",
        ValueSetId.FORMAT_CODE: "xds_format_code.json",
        ValueSetId.HEALTHCARE_FACILITY_TYPE_CODE: "tre_r02_secteur_activite.json",
        ValueSetId.PRACTICE_SETTING_CODE: "xds_practice_setting_code.json",
        ValueSetId.TYPE_CODE: "xds_type_code.json",
        ValueSetId.EVENT_CODE: "xds_event_code.json",
    }
)


@dataclass(frozen=True, slots=True)
class Concept:
    """One member of a value set: its code, label and code system, whether it is retired, its properties."""

    code: str
    display: str
    system: str
    retired: bool = False
    properties: Mapping[str, str] = field(default_factory=dict)

    def as_code(self) -> Code:
        """The coded value to put on the wire."""
        return Code(self.code, self.system, self.display)

    @property
    def signature_only(self) -> bool:
        """Reserved to the signature entry of a submission (reference §5.3)."""
        return self.properties.get("signature") == "true"


@dataclass(frozen=True, slots=True)
class ValueSet:
    """A terminology (``kind`` TRE) or a value set (``kind`` JDV) with its provenance.

    Attributes:
        oid: the code system of a TRE; for a JDV, its main code system (or its own OID).
        title: the metadata field it codes, for error messages (``typeCode``…); the name when none.
    """

    id: str
    name: str
    oid: str
    kind: str
    code_system_name: str | None
    version: str
    date: str
    source: str
    concepts: tuple[Concept, ...] = field(repr=False)
    title: str = ""
    _index: dict[tuple[str, str], Concept] = field(init=False, repr=False, compare=False)
    _by_code: dict[str, Concept] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {(c.system, c.code): c for c in self.concepts})
        by_code: dict[str, Concept] = {}
        for concept in self.concepts:  # a code of the main system wins over a homonym of another system
            if concept.code not in by_code or concept.system == self.oid:
                by_code[concept.code] = concept
        object.__setattr__(self, "_by_code", by_code)

    def get(self, code: str, system: str | None = None) -> Concept | None:
        """The concept ``code`` (of ``system`` when given; else of the main system, else of any)."""
        if system is not None:
            return self._index.get((system, code))
        return self._by_code.get(code)

    def require(self, code: str, system: str | None = None, *, field: str | None = None) -> Code:
        """The active coded value ``code``; a validation error naming the field and the value set otherwise."""
        concept = self.get(code, system)
        if concept is None or concept.retired:
            where = f"^^{system}" if system else ""
            label = field or self.title or self.name
            raise DmpValidationError(f"{label}: {code}{where} is not in {self.name}", field=label)
        return concept.as_code()

    def __contains__(self, item: object) -> bool:
        """True for an active member: a :class:`Code` by code and system, a string by code."""
        if isinstance(item, Code):
            concept = self.get(item.code, item.system)
        else:
            concept = self.get(item) if isinstance(item, str) else None
        return concept is not None and not concept.retired

    def codes(self) -> list[str]:
        """Active codes of the main code system, in file order."""
        return [c.code for c in self.concepts if c.system == self.oid and not c.retired]

    @property
    def clinical(self) -> tuple[Code, ...]:
        """The active members usable on clinical documents (without the signature-entry ones)."""
        return tuple(c.as_code() for c in self.concepts if not c.retired and not c.signature_only)


def _concept(raw: dict[str, Any], default_system: str) -> Concept:
    return Concept(
        raw["code"],
        raw["display"],
        raw.get("system", default_system),
        bool(raw.get("retired", False)),
        MappingProxyType(dict(raw.get("properties", {}))),
    )


def parse_value_set(data: dict[str, Any]) -> ValueSet:
    """Build a :class:`ValueSet` from the JSON layout of ``dmpclient/data`` (already decoded)."""
    return ValueSet(
        id=data["id"],
        name=data["name"],
        oid=data["oid"],
        kind=data["kind"],
        code_system_name=data.get("code_system_name"),
        version=data["version"],
        date=data["date"],
        source=data["source"],
        concepts=tuple(_concept(raw, data["oid"]) for raw in data["concepts"]),
        title=data.get("title", ""),
    )


def load_value_set(vs_id: ValueSetId | str) -> ValueSet:
    """Load (once) the shipped value set ``vs_id`` (``"TRE_G15"``, ``ValueSetId.TYPE_CODE``…).

    Raises:
        DmpValidationError: no such value set is shipped.
    """
    try:
        which = ValueSetId(vs_id)
    except ValueError:
        raise DmpValidationError(f"unknown value set {vs_id!r}", field="value_set") from None
    return _load(which)


@cache
def _load(vs_id: ValueSetId) -> ValueSet:
    name = VALUE_SET_FILES[vs_id]
    loaded = parse_value_set(json.loads(files("dmpclient.data").joinpath(name).read_text(encoding="utf-8")))
    if vs_id is ValueSetId.HEALTHCARE_FACILITY_TYPE_CODE:  # JDV_J61 = the whole TRE_R02 (reference §4.6)
        loaded = ValueSet(
            id=vs_id.value,
            name="JDV_J61-HealthcareFacilityTypeCode-DMP",
            oid=loaded.oid,
            kind="JDV",
            code_system_name=loaded.code_system_name,
            version=loaded.version,
            date=loaded.date,
            source=loaded.source,
            concepts=loaded.concepts,
            title="healthcareFacilityTypeCode",
        )
    return loaded


@cache
def value_set_for_system(system: str) -> ValueSet | None:
    """The shipped TRE whose code system OID is ``system`` (``None`` if we ship none)."""
    for vs_id in ValueSetId:
        loaded = load_value_set(vs_id)
        if loaded.kind == "TRE" and loaded.oid == system:
            return loaded
    return None


def display_name(system: str, code: str) -> str | None:
    """The French label of ``code`` in code system ``system`` (TRE first, then the J65 union)."""
    own = value_set_for_system(system)
    concept = own.get(code) if own else None
    concept = concept or load_value_set(ValueSetId.SUBJECT_ROLE).get(code, system)
    return concept.display if concept else None
