"""The ANS terminologies the VIHF uses, shipped as package data (``dmpclient/data/*.json``).

Each JSON file holds one terminology (TRE, a code system) or value set (JDV) with its OID, name, version, date
and source, and the list of concepts. They are rebuilt from the ANS NOS SVS files by
``scripts/refresh_value_sets.py``; nothing here reaches the network. Files are read once and cached.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib.resources import files
from typing import Any

__all__ = [
    "VALUE_SET_FILES",
    "Concept",
    "ValueSet",
    "ValueSetId",
    "display_name",
    "load_value_set",
    "parse_value_set",
    "value_set_for_system",
]


class ValueSetId(StrEnum):
    """The terminologies shipped for the VIHF (reference §2.7–§2.9)."""

    PROFESSION = "TRE_G15"
    SAVOIR_FAIRE = "TRE_R01"
    SECTION_PHARMACIEN = "TRE_G05"
    SECTEUR_ACTIVITE = "TRE_R02"
    MODE_ACCES = "TRE_R248"
    PRODUCTEUR_NON_PS = "TRE_A00"
    SUBJECT_ROLE = "JDV_J65"


#: Package-data file of each shipped terminology (``scripts/refresh_value_sets.py`` writes them).
VALUE_SET_FILES: dict[ValueSetId, str] = {
    ValueSetId.PROFESSION: "tre_g15_profession_sante.json",
    ValueSetId.SAVOIR_FAIRE: "tre_r01_savoir_faire.json",
    ValueSetId.SECTION_PHARMACIEN: "tre_g05_section_tableau_cnop.json",
    ValueSetId.SECTEUR_ACTIVITE: "tre_r02_secteur_activite.json",
    ValueSetId.MODE_ACCES: "tre_r248_mode_acces.json",
    ValueSetId.PRODUCTEUR_NON_PS: "tre_a00_producteur_doc_non_ps.json",
    ValueSetId.SUBJECT_ROLE: "jdv_j65_subject_role_dmp.json",
}


@dataclass(frozen=True, slots=True)
class Concept:
    """One code: ``system`` is the OID of its code system (the ``codeSystem`` of an HL7 CE)."""

    code: str
    display: str
    system: str
    retired: bool = False


@dataclass(frozen=True, slots=True)
class ValueSet:
    """A terminology (``kind`` TRE) or a value set (``kind`` JDV) with its provenance."""

    id: str
    name: str
    oid: str
    kind: str
    code_system_name: str | None
    version: str
    date: str
    source: str
    concepts: tuple[Concept, ...] = field(repr=False)
    _index: dict[tuple[str, str], Concept] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {(c.system, c.code): c for c in self.concepts})

    def get(self, code: str, system: str | None = None) -> Concept | None:
        """The concept ``code`` (of ``system``, by default this terminology's own OID)."""
        return self._index.get((system or self.oid, code))

    def __contains__(self, code: object) -> bool:
        """True for an active (not retired) code of this terminology's own code system."""
        concept = self.get(code) if isinstance(code, str) else None
        return concept is not None and not concept.retired

    def codes(self) -> list[str]:
        """Active codes of this terminology's own code system, in file order."""
        return [c.code for c in self.concepts if c.system == self.oid and not c.retired]


def _concept(raw: dict[str, Any], default_system: str) -> Concept:
    return Concept(raw["code"], raw["display"], raw.get("system", default_system), bool(raw.get("retired", False)))


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
    )


def load_value_set(vs_id: ValueSetId | str) -> ValueSet:
    """Load (once) the shipped terminology ``vs_id`` (``"TRE_G15"``, ``ValueSetId.PROFESSION``…)."""
    return _load(ValueSetId(vs_id))


@cache
def _load(vs_id: ValueSetId) -> ValueSet:
    name = VALUE_SET_FILES[vs_id]
    return parse_value_set(json.loads(files("dmpclient.data").joinpath(name).read_text(encoding="utf-8")))


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
