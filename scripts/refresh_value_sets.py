"""Rebuild the VIHF terminologies of ``dmpclient/data`` from ANS NOS files (SVS format). No network.

Download the files yourself from the ANS terminology server (NOS: ``TRE_G15-ProfessionSante.xml``,
``TRE_R02-SecteurActivite.xml``, ``JDV_J65-SubjectRole-DMP.xml``…, "format SVS") and pass their paths::

    python scripts/refresh_value_sets.py ~/Downloads/TRE_R02-SecteurActivite.xml ~/Downloads/JDV_J65-*.xml

Each input is an IHE SVS ``RetrieveValueSetResponse`` (namespace ``urn:ihe:iti:svs:2008`` or none) holding one
``ValueSet`` (``@id`` = OID, ``@displayName`` = name, ``@version`` or ``@dateMaj``) and its ``Concept`` list
(``@code``, ``@displayName``, ``@codeSystem``, ``@dateFin`` — a non-empty end date marks a retired code).

The target file is the one ``dmpclient.codes.VALUE_SET_FILES`` maps to the name prefix (``TRE_R02``…) or,
failing that, the shipped file with the same OID; other inputs are written as ``<prefix>.json`` (add them to
``VALUE_SET_FILES`` to use them). Our own annotations of an existing file (``code_system_name`` and its note,
``notes``) are kept; concepts, version, date and source are replaced.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lxml import etree

from dmpclient.codes import VALUE_SET_FILES, ValueSetId

DATA_DIR = Path(__file__).resolve().parent.parent / "dmpclient" / "data"
_KEPT = ("code_system_name", "code_system_name_note", "notes")


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def read_svs(path: Path) -> dict[str, Any]:
    """Parse one SVS file into the JSON layout of ``dmpclient/data`` (without our annotations)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.parse(str(path), parser).getroot()
    value_set = next((e for e in root.iter() if isinstance(e.tag, str) and _local(e) == "ValueSet"), None)
    if value_set is None:
        raise SystemExit(f"{path}: no ValueSet element (is this an ANS file in SVS format?)")
    oid = value_set.get("id", "")
    name = value_set.get("displayName", path.stem).removesuffix(".tabs")
    version = value_set.get("version") or value_set.get("dateMaj") or ""
    kind = value_set.get("typeFichier") or name.split("_", 1)[0]
    concepts = []
    for concept in (e for e in value_set.iter() if isinstance(e.tag, str) and _local(e) == "Concept"):
        entry: dict[str, Any] = {"code": concept.get("code", ""), "display": concept.get("displayName", "")}
        system = concept.get("codeSystem") or oid
        if system != oid:
            entry["system"] = system
        if concept.get("dateFin"):
            entry["retired"] = True
        concepts.append(entry)
    return {
        "id": name.split("-", 1)[0],
        "name": name,
        "oid": oid,
        "kind": kind,
        "code_system_name": None,
        "version": version,
        "date": f"{version[:4]}-{version[4:6]}-{version[6:8]}" if len(version) >= 8 else "",
        "source": f"ANS NOS {name} (SVS file {path.name}, version {version})",
        "notes": "",
        "concepts": concepts,
    }


def target_file(data: dict[str, Any], out_dir: Path) -> Path:
    """Where ``data`` goes: the mapped file for its prefix, else the shipped file with its OID."""
    if data["id"] in {member.value for member in ValueSetId}:
        return out_dir / VALUE_SET_FILES[ValueSetId(data["id"])]
    for name in VALUE_SET_FILES.values():
        existing = out_dir / name
        if existing.exists() and json.loads(existing.read_text(encoding="utf-8")).get("oid") == data["oid"]:
            return existing
    return out_dir / f"{data['id'].lower()}.json"


def render(data: dict[str, Any]) -> str:
    """The JSON text: header keys one per line, then one concept per line (diff-friendly)."""
    header = [f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in data.items() if k != "concepts"]
    concepts = [f"  {json.dumps(c, ensure_ascii=False)}" for c in data["concepts"]]
    return "{\n" + "\n".join(header) + '\n "concepts": [\n' + ",\n".join(concepts) + "\n ]\n}\n"


def refresh(path: Path, out_dir: Path) -> Path:
    """Convert one SVS file and write it over its target, keeping our annotations."""
    data = read_svs(path)
    target = target_file(data, out_dir)
    if target.exists():
        previous = json.loads(target.read_text(encoding="utf-8"))
        data["id"] = previous.get("id", data["id"])
        data.update({key: previous[key] for key in _KEPT if key in previous})
    target.write_text(render(data), encoding="utf-8")
    return target


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path, help="ANS NOS files in SVS format (TRE_*.xml, JDV_*.xml)")
    parser.add_argument("--out-dir", type=Path, default=DATA_DIR, help="where the JSON files live")
    args = parser.parse_args(argv)
    for path in args.files:
        target = refresh(path, args.out_dir)
        print(f"{path.name} -> {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
