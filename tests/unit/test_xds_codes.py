"""DMP XDS value sets and wire constants loaded from package data."""

from __future__ import annotations

import pytest

from dmpclient.errors import DmpValidationError
from dmpclient.xds.codes import (
    AssociationType,
    AvailabilityStatus,
    Code,
    ValueSetName,
    association_type,
    class_code_for_type,
    format_code_for_media_type,
    value_set,
)


@pytest.mark.parametrize("name", list(ValueSetName))
def test_every_value_set_loads_with_unique_codes(name: ValueSetName) -> None:
    loaded = value_set(name)
    assert loaded.codes
    assert len({(c.code, c.scheme) for c in loaded.codes}) == len(loaded.codes)
    assert all(c.display for c in loaded.codes)


def test_reference_codes() -> None:
    assert value_set("class_code").get("10").display == "Compte rendu"
    assert value_set("confidentiality_code").get("MASQUE_PS").scheme == "1.2.250.1.213.1.1.4.13"
    assert value_set("healthcare_facility_type_code").get("SA07", "1.2.250.1.71.4.2.4").display == "Cabinet individuel"
    assert value_set("type_code").get("E1762").signature
    assert "urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1" not in {c.code for c in value_set("class_code").clinical}


def test_every_clinical_type_code_maps_to_a_clinical_class_code() -> None:
    classes = value_set(ValueSetName.CLASS_CODE)
    for type_code in value_set(ValueSetName.TYPE_CODE).clinical:
        assert class_code_for_type(type_code.code) in classes.clinical
    assert class_code_for_type("11502-2").code == "10"
    assert class_code_for_type("29551-9").code == "42"


def test_format_code_from_media_type() -> None:
    assert format_code_for_media_type("application/pdf").code == "urn:ihe:iti:xds-sd:pdf:2008"
    assert format_code_for_media_type("text/plain").code == "urn:ihe:iti:xds-sd:text:2008"
    with pytest.raises(DmpValidationError, match="application/msword"):
        format_code_for_media_type("application/msword")


def test_codes_compare_on_code_scheme_and_display_only() -> None:
    shipped = value_set("type_code").get("11488-4")
    assert shipped.class_code == "10"
    assert shipped == Code(shipped.code, shipped.scheme, shipped.display)
    assert hash(shipped) == hash(Code(shipped.code, shipped.scheme, shipped.display))


def test_unknown_values_are_refused_clearly() -> None:
    with pytest.raises(DmpValidationError, match="99 is not in JDV_J57"):
        value_set("class_code").get("99")
    with pytest.raises(DmpValidationError, match=r"10\^\^9\.9"):
        value_set("class_code").get("10", "9.9")
    with pytest.raises(DmpValidationError, match="unknown XDS value set"):
        value_set("author_role")


def test_association_types_and_statuses() -> None:
    assert association_type("urn:ihe:iti:2010:AssociationType:RPLC") is AssociationType.RPLC
    assert association_type(AssociationType.HAS_MEMBER.value) is AssociationType.HAS_MEMBER
    with pytest.raises(DmpValidationError, match="APND"):
        association_type("urn:ihe:iti:2007:AssociationType:APND")
    assert AvailabilityStatus("urn:asip:ci-sis:2010:StatusType:Deleted") is AvailabilityStatus.DELETED
