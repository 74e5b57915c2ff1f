"""One code system: every value set (VIHF terminologies and DMP XDS value sets) loads the same way; XDS constants."""

from __future__ import annotations

import pytest

from dmpclient.codes import Code, ValueSetId, load_value_set
from dmpclient.errors import DmpValidationError
from dmpclient.xds.codes import (
    AssociationType,
    AvailabilityStatus,
    association_type,
    class_code_for_type,
    format_code_for_media_type,
)


@pytest.mark.parametrize("name", list(ValueSetId))
def test_every_value_set_loads_with_unique_codes(name: ValueSetId) -> None:
    loaded = load_value_set(name)
    assert loaded.concepts
    assert len({(c.code, c.system) for c in loaded.concepts}) == len(loaded.concepts)
    assert all(c.display for c in loaded.concepts)


def test_reference_codes() -> None:
    assert load_value_set(ValueSetId.CLASS_CODE).require("10").display == "Compte rendu"
    assert load_value_set(ValueSetId.CONFIDENTIALITY_CODE).require("MASQUE_PS").system == "1.2.250.1.213.1.1.4.13"
    assert (
        load_value_set(ValueSetId.HEALTHCARE_FACILITY_TYPE_CODE).require("SA07", "1.2.250.1.71.4.2.4").display
        == "Cabinet individuel"
    )
    signature_type = load_value_set(ValueSetId.TYPE_CODE).get("E1762")
    assert signature_type is not None
    assert signature_type.signature_only
    assert "urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1" not in {c.code for c in load_value_set(ValueSetId.CLASS_CODE).clinical}


def test_every_clinical_type_code_maps_to_a_clinical_class_code() -> None:
    classes = load_value_set(ValueSetId.CLASS_CODE)
    for type_code in load_value_set(ValueSetId.TYPE_CODE).clinical:
        assert class_code_for_type(type_code.code) in classes.clinical
    assert class_code_for_type("11502-2").code == "10"
    assert class_code_for_type("29551-9").code == "42"


def test_format_code_from_media_type() -> None:
    assert format_code_for_media_type("application/pdf").code == "urn:ihe:iti:xds-sd:pdf:2008"
    assert format_code_for_media_type("text/plain").code == "urn:ihe:iti:xds-sd:text:2008"
    with pytest.raises(DmpValidationError, match="application/msword"):
        format_code_for_media_type("application/msword")


def test_codes_are_values_whatever_their_value_set_properties() -> None:
    concept = load_value_set(ValueSetId.TYPE_CODE).get("11488-4")
    assert concept is not None
    assert concept.properties["class_code"] == "10"
    shipped = concept.as_code()
    assert shipped == Code(shipped.code, shipped.system, shipped.display)
    assert hash(shipped) == hash(Code(shipped.code, shipped.system, shipped.display))
    assert shipped.key == ("11488-4", "2.16.840.1.113883.6.1")
    assert shipped in load_value_set(ValueSetId.TYPE_CODE)
    assert Code("11488-4", "9.9") not in load_value_set(ValueSetId.TYPE_CODE)


def test_unknown_values_are_refused_clearly() -> None:
    with pytest.raises(DmpValidationError, match="99 is not in JDV_J57"):
        load_value_set(ValueSetId.CLASS_CODE).require("99")
    with pytest.raises(DmpValidationError, match=r"10\^\^9\.9"):
        load_value_set(ValueSetId.CLASS_CODE).require("10", "9.9")
    with pytest.raises(DmpValidationError, match="unknown value set"):
        load_value_set("author_role")


def test_association_types_and_statuses() -> None:
    assert association_type("urn:ihe:iti:2010:AssociationType:RPLC") is AssociationType.RPLC
    assert association_type(AssociationType.HAS_MEMBER.value) is AssociationType.HAS_MEMBER
    with pytest.raises(DmpValidationError, match="APND"):
        association_type("urn:ihe:iti:2007:AssociationType:APND")
    assert AvailabilityStatus("urn:asip:ci-sis:2010:StatusType:Deleted") is AvailabilityStatus.DELETED


def test_a_misspelt_code_field_is_an_error_not_a_lost_label() -> None:
    assert Code("11488-4", "2.16.840.1.113883.6.1", "Compte rendu").display == "Compte rendu"
    with pytest.raises(TypeError):
        Code(code="11488-4", system="2.16.840.1.113883.6.1", dispaly="Compte rendu")  # type: ignore[call-arg]
