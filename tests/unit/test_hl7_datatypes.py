"""The HL7v3 data-type check itself: hand-written vectors pass, broken values are caught (tests/hl7_types.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from tests.hl7_types import assert_hl7_datatypes

VECTORS = sorted((Path(__file__).parent.parent / "vectors" / "hl7v3").glob("*.xml"))
GOLDEN_TD13A = Path(__file__).parent.parent / "vectors" / "golden" / "TD1.3a.response.xml"
H = "{urn:hl7-org:v3}"


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.name)
def test_hand_written_vectors_have_valid_hl7_datatypes(path: Path) -> None:
    root = etree.parse(str(path)).getroot()
    message = root if root.tag.startswith(H) else root[0]  # TD1.3b answers wrap the HL7v3 message
    assert assert_hl7_datatypes(message) >= 10


@pytest.mark.parametrize(
    ("where", "attribute", "value", "type_name"),
    [
        ("birthTime", "value", "1980-05-21", "TS"),
        ("telecom", "use", "XX", "TEL"),
        ("family", "qualifier", "ZZ", "PN"),
        ("patient/{urn:hl7-org:v3}id", "root", "not an oid", "II"),
        ("deceasedInd", "value", "yes", "BL"),
    ],
)
def test_broken_values_are_caught(where: str, attribute: str, value: str, type_name: str) -> None:
    root = etree.parse(str(GOLDEN_TD13A)).getroot()
    root.find(f".//{H}{where}").set(attribute, value)
    with pytest.raises(AssertionError, match=f"as {type_name}"):
        assert_hl7_datatypes(root)


def test_an_unknown_element_is_reported() -> None:
    root = etree.parse(str(GOLDEN_TD13A)).getroot()
    etree.SubElement(root.find(f".//{H}patientPerson"), f"{H}favouriteColour")
    with pytest.raises(AssertionError, match="favouriteColour"):
        assert_hl7_datatypes(root)
