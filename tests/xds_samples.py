"""Fixed, realistic XDS objects of the DMP (reference §4.5, §4.6, §5.2) for golden files and codec tests.

Written by hand from the reference tables, not produced by the code under test.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from dmpclient.codes import Code
from dmpclient.ids import DMP_REPOSITORY_OID
from dmpclient.xds.codes import AssociationType, AvailabilityStatus
from dmpclient.xds.identifiers import Cx, Xcn, Xon
from dmpclient.xds.models import Association, Author, DocumentEntry, SubmissionSet

__all__ = ["AUTHOR", "ENTRY", "HAS_MEMBER", "NEW_VERSION", "PATIENT", "REPLACES", "SUBMISSION_SET"]

PATB_QUATRE: Final = "207058575627097"
TEST_OID: Final = "1.2.250.1.213.1.4.10"
PATIENT: Final = Cx.patient(PATB_QUATRE, TEST_OID)

AUTHOR: Final = Author(
    person=Xcn(
        id="899900063480",
        family="LIBRE",
        given="MAX",
        assigning_authority="1.2.250.1.71.4.2.1",
        name_type="D",
        id_type="IDNPS",
    ),
    institutions=(
        Xon(name="CABINET DR LIBRE", assigning_authority="1.2.250.1.71.4.2.2", id_type="IDNST", id="499900063480001"),
    ),
    specialties=(Code("G15_10/SM26", "1.2.250.1.213.1.1.4.5", "Médecin - Qualifié en Médecine Générale (SM)"),),
)

ENTRY: Final = DocumentEntry(
    entry_uuid="urn:uuid:6f6c1ac4-2b7e-4f2d-9b4c-0d1e2f3a4b5c",
    logical_id="urn:uuid:6f6c1ac4-2b7e-4f2d-9b4c-0d1e2f3a4b5c",
    version="1",
    unique_id="1.2.250.1.999.888.2.1.42",
    patient_id=PATIENT,
    status=AvailabilityStatus.DEPRECATED,
    title="Compte rendu de consultation",
    comments="Consultation de suivi",
    class_code=Code("10", "1.2.250.1.213.1.1.4.1", "Compte rendu"),
    type_code=Code("11488-4", "2.16.840.1.113883.6.1", "CR de consultation"),
    format_code=Code("urn:ihe:iti:xds-sd:pdf:2008", "1.3.6.1.4.1.19376.1.2.3", "Document à corps non structuré en PDF"),
    healthcare_facility_type_code=Code("SA07", "1.2.250.1.71.4.2.4", "Cabinet individuel"),
    practice_setting_code=Code("AMBULATOIRE", "1.2.250.1.213.1.1.4.9", "Ambulatoire"),
    confidentiality_codes=(
        Code("N", "2.16.840.1.113883.5.25", "Normal"),
        Code("INVISIBLE_PATIENT", "1.2.250.1.213.1.1.4.13", "Non visible par le patient"),
    ),
    event_codes=(Code("BACA008", "1.2.250.1.213.2.5", "Acte CCAM"),),
    authors=(AUTHOR,),
    legal_authenticator=AUTHOR.person,
    creation_time=dt.datetime(2025, 11, 20, 14, 30, 0, tzinfo=dt.UTC),
    service_start_time=dt.datetime(2025, 11, 20, 14, 0, 0, tzinfo=dt.UTC),
    service_stop_time=dt.datetime(2025, 11, 20, 14, 25, 0, tzinfo=dt.UTC),
    language_code="fr-FR",
    hash="4e1243bd22c66e76c2ba9eddc1f91394e57f9f83",
    size=11,
    repository_unique_id=DMP_REPOSITORY_OID,
    source_patient_id=Cx(id="IPP12345", assigning_authority="1.2.250.1.999.888.2.3", id_type="PI"),
    source_patient_info=("PID-5|PATB-QUATRE^LAURENCE^^^^^L", "PID-7|19700520", "PID-8|F"),
)

NEW_VERSION: Final = ENTRY.model_copy(
    update={
        "entry_uuid": "urn:uuid:8a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d",
        "logical_id": "urn:uuid:8a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d",
        "unique_id": "1.2.250.1.999.888.2.1.43",
        "status": AvailabilityStatus.APPROVED,
        "title": "Compte rendu de consultation (corrigé)",
        "creation_time": dt.datetime(2025, 11, 21, 9, 0, 0, tzinfo=dt.UTC),
    }
)

SUBMISSION_SET: Final = SubmissionSet(
    entry_uuid="urn:uuid:1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
    logical_id="urn:uuid:1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
    version="1",
    unique_id="1.2.250.1.999.888.2.1.41",
    source_id="1.2.250.1.999.1.1.7898",
    patient_id=PATIENT,
    submission_time=dt.datetime(2025, 11, 20, 14, 35, 0, tzinfo=dt.UTC),
    status=AvailabilityStatus.APPROVED,
    title="Lot de consultation",
    content_type_code=Code("07", "1.2.250.1.213.2.2", "Consultation soins externes"),
    authors=(AUTHOR,),
)

HAS_MEMBER: Final = Association(
    entry_uuid="urn:uuid:2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a",
    association_type=AssociationType.HAS_MEMBER,
    source=SUBMISSION_SET.entry_uuid,
    target=ENTRY.entry_uuid,
    status=AvailabilityStatus.APPROVED,
    submission_set_status="Original",
)

REPLACES: Final = Association(
    entry_uuid="urn:uuid:3e4f5a6b-7c8d-4e9f-8a0b-2c3d4e5f6a7b",
    association_type=AssociationType.RPLC,
    source=NEW_VERSION.entry_uuid,
    target=ENTRY.entry_uuid,
    status=AvailabilityStatus.APPROVED,
)
