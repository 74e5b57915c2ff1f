"""CDA header → XDS metadata (reference §5.2), overrides and defaults, and the DMP checks of the result."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dmpclient.codes import Code, ValueSetId, load_value_set
from dmpclient.errors import DmpValidationError
from dmpclient.xds.cda_metadata import MetadataOverrides, Visibility, document_entry, read_cda
from dmpclient.xds.checks import check_authors, check_document_entry, checked_code
from dmpclient.xds.identifiers import Cx, Xcn, Xon
from dmpclient.xds.models import Author

VECTORS = Path(__file__).parent.parent / "vectors" / "feeding"
LAB = (VECTORS / "lab_report_device_author.xml").read_bytes()


def test_every_value_of_a_hand_written_cda_header() -> None:
    meta = read_cda(LAB).metadata
    assert meta.unique_id == "1.2.250.1.999.777.1^DOC-42"
    assert meta.title == "Résultats de biologie"
    assert meta.type_code == Code("11502-2", "2.16.840.1.113883.6.1", "CR d'examens biologiques")
    assert meta.creation_time == dt.datetime(2025, 3, 14, 9, 26, 53, tzinfo=dt.UTC)  # +0100 → UTC
    assert meta.service_start_time == dt.datetime(2025, 3, 13, 7, 0, tzinfo=dt.UTC)
    assert meta.service_stop_time == dt.datetime(2025, 3, 13, 8, 0, tzinfo=dt.UTC)
    assert meta.confidentiality_code == Code("N", "2.16.840.1.113883.5.25")
    assert meta.language_code == "fr-FR"
    assert meta.event_codes == (Code("E11", "2.16.840.1.113883.6.3", "Diabète de type 2"),)
    assert meta.practice_setting_code == Code("AMBULATOIRE", "1.2.250.1.213.1.1.4.9", "Ambulatoire")
    assert meta.healthcare_facility_type_code is not None
    assert meta.healthcare_facility_type_code.code == "SA29"
    assert meta.format_code is not None
    assert meta.format_code.code == "urn:ihe:iti:xds-sd:text:2008"
    assert meta.patient_id == Cx(id="207058575627097", assigning_authority="1.2.250.1.213.1.4.10", id_type="NH")
    assert str(meta.source_patient_id) == "IPP-1234^^^&1.2.250.1.999.777.2&ISO^PI"
    assert meta.source_patient_info == ("PID-5|PATB-QUATRE^LAURENCE^^^^^L", "PID-7|19700520", "PID-8|F")
    (author,) = meta.authors
    assert str(author.person) == "3400000000001/AUTO-7^SIL LABO^ANALYSEUR XR-500^^^^^^&1.2.250.1.71.4.2.1&ISO^U^^^RI"
    assert str(author.institutions[0]) == "LABORATOIRE DE TEST^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^10B0127189"
    assert str(meta.legal_authenticator) == "899900063480^LIBRE^MAX^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"


def test_the_entry_follows_the_header_and_is_valid_for_the_dmp() -> None:
    entry = check_document_entry(document_entry(read_cda(LAB).metadata, entry_id="Document01"))
    assert entry.class_code is not None
    assert entry.class_code.code == "10"
    assert entry.confidentiality_codes == (Code("N", "2.16.840.1.113883.5.25", "Normal"),)
    assert entry.practice_setting_code == Code("AMBULATOIRE", "1.2.250.1.213.1.1.4.9", "Ambulatoire")
    assert entry.healthcare_facility_type_code is not None
    assert (
        entry.healthcare_facility_type_code.display
        == load_value_set(ValueSetId.SECTEUR_ACTIVITE).require("SA29").display
    )
    assert entry.mime_type == "text/xml"


def test_overrides_win_and_defaults_only_fill_gaps() -> None:
    meta = read_cda(LAB).metadata
    when = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    overrides = MetadataOverrides(title="Biologie (corrigé)", creation_time=when, event_codes=())
    defaults = MetadataOverrides(
        practice_setting_code=Code("ETABLISSEMENT", "1.2.250.1.213.1.1.4.9"),  # the CDA gives one: ignored
        comments="Envoi automatique",  # the CDA gives none: used
    )
    entry = document_entry(meta, entry_id="D1", overrides=overrides, defaults=defaults)
    assert (entry.title, entry.creation_time, entry.event_codes) == ("Biologie (corrigé)", when, ())
    assert entry.practice_setting_code is not None
    assert entry.practice_setting_code.code == "AMBULATOIRE"
    assert entry.comments == "Envoi automatique"


def test_a_header_without_service_event_gives_empty_lists() -> None:
    bare = LAB.replace(b'<code code="E11"', b'<!-- no code --><foo code="E11"')
    entry = document_entry(read_cda(bare).metadata, entry_id="D1")
    assert entry.event_codes == ()
    assert check_document_entry(entry).event_codes == ()


def test_masking_and_invisibility_are_explicit_choices() -> None:
    meta = read_cda(LAB).metadata
    entry = document_entry(
        meta, entry_id="D1", visibility=Visibility(masked=True, invisible_to_legal_representatives=True)
    )
    assert [code.code for code in check_document_entry(entry).confidentiality_codes] == [
        "N",
        "MASQUE_PS",
        "INVISIBLE_REPRESENTANTS_LEGAUX",
    ]


@pytest.mark.parametrize(
    ("overrides", "field", "value_set"),
    [
        (
            MetadataOverrides(
                type_code=Code("99999-9", "2.16.840.1.113883.6.1"), class_code=Code("10", "1.2.250.1.213.1.1.4.1")
            ),
            "typeCode",
            "JDV_J66",
        ),
        (
            MetadataOverrides(practice_setting_code=Code("CLINIQUE", "1.2.250.1.213.1.1.4.9")),
            "practiceSettingCode",
            "JDV_J62",
        ),
        (MetadataOverrides(format_code=Code("urn:ihe:iti:xds-sd:pdf:2008", "1.2.3")), "formatCode", "JDV_J60"),
        (MetadataOverrides(confidentiality_code=Code("R", "2.16.840.1.113883.5.25")), "confidentialityCode", "JDV_J58"),
        (
            MetadataOverrides(healthcare_facility_type_code=Code("SA99", "1.2.250.1.71.4.2.4")),
            "healthcareFacilityTypeCode",
            "J61",
        ),
    ],
)
def test_a_code_outside_its_value_set_is_refused_naming_the_field_and_the_set(
    overrides: MetadataOverrides, field: str, value_set: str
) -> None:
    entry = document_entry(read_cda(LAB).metadata, entry_id="D1", overrides=overrides)
    with pytest.raises(DmpValidationError) as caught:
        check_document_entry(entry)
    assert field in caught.value.message
    assert value_set in caught.value.message
    assert "207058575627097" not in caught.value.message  # never the INS


def test_signature_only_codes_are_refused_on_clinical_documents_and_vice_versa() -> None:
    signature_class = Code("urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1", "URN")
    with pytest.raises(DmpValidationError, match="signature entry only"):
        checked_code(signature_class, ValueSetId.CLASS_CODE, "classCode")
    with pytest.raises(DmpValidationError, match="clinical documents only"):
        checked_code(Code("10", "1.2.250.1.213.1.1.4.1"), ValueSetId.CLASS_CODE, "classCode", signature=True)


def test_an_event_code_of_an_unknown_system_is_refused() -> None:
    entry = document_entry(
        read_cda(LAB).metadata, entry_id="D1", overrides=MetadataOverrides(event_codes=(Code("X", "1.2.3.4"),))
    )
    with pytest.raises(DmpValidationError, match="eventCodeList"):
        check_document_entry(entry)


_STRUCTURE = Xon(name="CH", assigning_authority="1.2.250.1.71.4.2.2", id_type="IDNST", id="10B0127189")
_DOCTOR = Xcn(
    id="899900063480",
    family="LIBRE",
    given="MAX",
    assigning_authority="1.2.250.1.71.4.2.1",
    name_type="D",
    id_type="IDNPS",
)
_DEVICE = Xcn(
    id="AUTO-7", family="SIL", given="XR", assigning_authority="1.2.250.1.71.4.2.1", name_type="U", id_type="RI"
)


def test_who_is_at_the_origin_follows_dmp_conf_12() -> None:
    check_authors([Author(person=_DEVICE, institutions=(_STRUCTURE,))], _DOCTOR, where="d")  # device author: fine
    structure_as_person = Xcn(id="10B0127189", family="CH", assigning_authority="1.2.250.1.71.4.2.2", id_type="IDNST")
    with pytest.raises(DmpValidationError, match="natural person or a device"):
        check_authors([Author(person=structure_as_person, institutions=(_STRUCTURE,))], None, where="d")
    with pytest.raises(DmpValidationError, match="authorInstitution"):
        check_authors([Author(person=_DOCTOR)], None, where="d")
    with pytest.raises(DmpValidationError, match="legalAuthenticator must be a natural person"):
        check_authors([Author(person=_DOCTOR, institutions=(_STRUCTURE,))], _DEVICE, where="d")
    with pytest.raises(DmpValidationError, match="author: required"):
        check_authors([], None, where="d")


@given(code=st.text(min_size=1, max_size=12).filter(lambda c: c not in load_value_set(ValueSetId.TYPE_CODE)))
def test_any_type_code_outside_j66_is_refused(code: str) -> None:
    with pytest.raises(DmpValidationError) as caught:
        checked_code(Code(code, "2.16.840.1.113883.6.1"), ValueSetId.TYPE_CODE, "typeCode")
    assert caught.value.message.startswith("typeCode:")
    assert "JDV_J66" in caught.value.message


@pytest.mark.parametrize("birth", ["1970²520", "١٩٧٠٠٥٢٠"])
def test_a_birth_time_in_other_digits_is_not_sent_as_pid7(birth: str) -> None:
    hostile = LAB.replace(b'<birthTime value="19700520"/>', f'<birthTime value="{birth}"/>'.encode())
    assert read_cda(hostile).metadata.source_patient_info == ("PID-5|PATB-QUATRE^LAURENCE^^^^^L", "PID-8|F")


def test_a_structured_lab_report_gets_the_xd_lab_format_with_its_value_set_label() -> None:
    """Reference §4.6, JDV_J60: ``urn:ihe:lab:xd-lab:2008`` is "CR structuré d'examens de biologie médicale"."""
    structured = LAB.replace(
        b'<templateId root="1.2.250.1.213.1.1.1.1"/>',
        b'<templateId root="1.2.250.1.213.1.1.1.1"/><templateId root="1.3.6.1.4.1.19376.1.3.3"/>',
    )
    start, end = structured.index(b"<component>"), structured.index(b"</component>") + len(b"</component>")
    structured = structured[:start] + b"<component><structuredBody/></component>" + structured[end:]
    assert read_cda(structured).metadata.format_code == Code(
        "urn:ihe:lab:xd-lab:2008", "1.3.6.1.4.1.19376.1.2.3", "CR structuré d'examens de biologie médicale"
    )
