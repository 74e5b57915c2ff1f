"""VIHF terminologies shipped as package data, and scripts/refresh_value_sets.py on tiny SVS files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from dmpclient.codes import VALUE_SET_FILES, ValueSetId, display_name, load_value_set, parse_value_set

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "refresh_value_sets.py"
DATA = REPO / "dmpclient" / "data"


@pytest.mark.parametrize(
    ("vs_id", "oid", "code", "label"),
    [
        (ValueSetId.PROFESSION, "1.2.250.1.71.1.2.7", "10", "Médecin"),
        (ValueSetId.PROFESSION, "1.2.250.1.71.1.2.7", "21", "Pharmacien"),
        (ValueSetId.SAVOIR_FAIRE, "1.2.250.1.71.4.2.5", "SM26", "Qualifié en médecine générale (SM)"),
        (ValueSetId.SAVOIR_FAIRE, "1.2.250.1.71.4.2.5", "SM04", "Cardiologie et maladies vasculaires (SM)"),
        (ValueSetId.SECTION_PHARMACIEN, "1.2.250.1.71.4.2.6", "A", "Pharmacien titulaire d'officine"),
        (ValueSetId.SECTEUR_ACTIVITE, "1.2.250.1.71.4.2.4", "SA07", "Cabinet individuel"),
        (ValueSetId.SECTEUR_ACTIVITE, "1.2.250.1.71.4.2.4", "SA01", "Etablissement public de santé"),
        (ValueSetId.MODE_ACCES, "1.2.250.1.213.1.1.4.248", "bris_de_glace", "Accès en bris de glace"),
        (ValueSetId.PRODUCTEUR_NON_PS, "1.2.250.1.213.1.1.4.6", "AUTOMATE", "Automate"),
    ],
)
def test_shipped_terminologies(vs_id: ValueSetId, oid: str, code: str, label: str) -> None:
    terminology = load_value_set(vs_id)
    assert terminology.oid == oid
    assert code in terminology
    concept = terminology.get(code)
    assert concept is not None
    assert concept.display == label
    assert terminology.version
    assert terminology.source
    assert display_name(oid, code) == label


def test_every_file_carries_its_provenance() -> None:
    for vs_id, name in VALUE_SET_FILES.items():
        data = json.loads((DATA / name).read_text(encoding="utf-8"))
        shared = vs_id is ValueSetId.HEALTHCARE_FACILITY_TYPE_CODE  # JDV_J61 is the whole TRE_R02 (§4.6)
        assert data["id"] == (ValueSetId.SECTEUR_ACTIVITE.value if shared else vs_id.value)
        assert {"name", "oid", "kind", "version", "date", "source", "concepts"} <= data.keys()


def test_subject_roles_are_the_union_of_the_vihf_role_code_systems() -> None:
    j65 = load_value_set(ValueSetId.SUBJECT_ROLE)
    assert j65.oid == "1.2.250.1.213.1.1.5.470"
    counts = Counter(concept.system for concept in j65.concepts)
    assert counts == {
        "1.2.250.1.71.4.2.5": 244,
        "1.2.250.1.71.1.2.7": 29,
        "1.2.250.1.71.4.2.6": 16,
        "1.2.250.1.71.1.2.8": 4,
        "1.2.250.1.213.1.1.4.6": 5,
    }
    for vs_id in (ValueSetId.PROFESSION, ValueSetId.SAVOIR_FAIRE, ValueSetId.SECTION_PHARMACIEN):
        terminology = load_value_set(vs_id)
        assert all(j65.get(code, terminology.oid) for code in terminology.codes())
    assert display_name("1.2.250.1.71.1.2.8", "10") == "Médecin en formation"
    assert display_name("1.2.3", "10") is None


def test_loading_is_cached() -> None:
    assert load_value_set("TRE_G15") is load_value_set(ValueSetId.PROFESSION)


SVS = """<?xml version="1.0" encoding="UTF-8"?>
<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008">
  <ValueSet id="{oid}" displayName="{name}" version="20250101120000" typeFichier="{kind}">
    <ConceptList>
      {concepts}
    </ConceptList>
  </ValueSet>
</RetrieveValueSetResponse>
"""


def svs(path: Path, oid: str, name: str, kind: str, concepts: str) -> Path:
    path.write_text(SVS.format(oid=oid, name=name, kind=kind, concepts=concepts), encoding="utf-8")
    return path


def refresh(*args: str | Path) -> str:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, check=True, timeout=60
    )
    return result.stdout


def test_refresh_builds_a_terminology_from_an_svs_file(tmp_path: Path) -> None:
    source = svs(
        tmp_path / "TRE_R02-SecteurActivite.xml",
        "1.2.250.1.71.4.2.4",
        "TRE_R02-SecteurActivite",
        "TRE",
        '<Concept code="SA01" displayName="Etablissement public de santé" codeSystem="1.2.250.1.71.4.2.4" dateFin=""/>'
        '<Concept code="SA11" displayName="Ancien secteur" codeSystem="1.2.250.1.71.4.2.4" dateFin="20200101"/>',
    )
    out = tmp_path / "data"
    out.mkdir()
    assert "tre_r02_secteur_activite.json" in refresh(source, "--out-dir", out)
    data = json.loads((out / "tre_r02_secteur_activite.json").read_text(encoding="utf-8"))
    assert (data["id"], data["oid"], data["version"], data["date"]) == (
        "TRE_R02",
        "1.2.250.1.71.4.2.4",
        "20250101120000",
        "2025-01-01",
    )
    terminology = parse_value_set(data)
    assert "SA01" in terminology
    assert "SA11" not in terminology  # retired
    assert terminology.get("SA11") is not None


def test_refresh_keeps_our_annotations(tmp_path: Path) -> None:
    shutil.copy(DATA / VALUE_SET_FILES[ValueSetId.MODE_ACCES], tmp_path)
    source = svs(
        tmp_path / "TRE_R248.xml",
        "1.2.250.1.213.1.1.4.248",
        "TRE_R248-ModeAcces",
        "TRE",
        '<Concept code="normal" displayName="Accès normal" codeSystem="1.2.250.1.213.1.1.4.248"/>',
    )
    refresh(source, "--out-dir", tmp_path)
    data = json.loads((tmp_path / VALUE_SET_FILES[ValueSetId.MODE_ACCES]).read_text(encoding="utf-8"))
    assert data["code_system_name"] == "mode acces VIHF 2.0"
    assert [c["code"] for c in data["concepts"]] == ["normal"]


def test_refresh_of_a_value_set_keeps_each_code_system(tmp_path: Path) -> None:
    shutil.copy(DATA / VALUE_SET_FILES[ValueSetId.SUBJECT_ROLE], tmp_path)
    source = svs(
        tmp_path / "roles.xml",
        "1.2.250.1.213.1.1.5.470",
        "JDV_J05-SubjectRole-CISIS.tabs",  # the name differs: matched by OID
        "JDV",
        '<Concept code="10" displayName="Médecin" codeSystem="1.2.250.1.71.1.2.7"/>'
        '<Concept code="SM26" displayName="Qualifié en médecine générale (SM)" codeSystem="1.2.250.1.71.4.2.5"/>',
    )
    refresh(source, "--out-dir", tmp_path)
    terminology = parse_value_set(
        json.loads((tmp_path / VALUE_SET_FILES[ValueSetId.SUBJECT_ROLE]).read_text(encoding="utf-8"))
    )
    assert terminology.id == "JDV_J65"
    assert [(c.system, c.code) for c in terminology.concepts] == [
        ("1.2.250.1.71.1.2.7", "10"),
        ("1.2.250.1.71.4.2.5", "SM26"),
    ]


def test_refresh_rejects_a_file_without_value_set(tmp_path: Path) -> None:
    source = tmp_path / "x.xml"
    source.write_text("<a/>", encoding="utf-8")
    with pytest.raises(subprocess.CalledProcessError) as caught:
        refresh(source, "--out-dir", tmp_path)
    assert "no ValueSet element" in caught.value.stderr
