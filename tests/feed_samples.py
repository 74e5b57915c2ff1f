"""CDA documents and submission inputs for the feeding tests (TD2.1, TD3.3), built with the mock's CDA writer.

Fixed, realistic values (reference §5.2, §5.6): the test patient PATB-QUATRE, the test doctor (the test PKI's
structure 10B0127189), a consultation report with a PDF body. Every id and time is an argument, so golden
files are reproducible.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from dmpclient.codes import Code
from dmpclient.transactions.feeding import SubmissionOptions
from dmpclient.xds.cda_metadata import MetadataOverrides
from mock_server.seed.cda import CdaAuthor, CdaDocument, CdaPatient, NonXmlBody, build_cda, minimal_pdf

__all__ = ["AUTHOR", "DEFAULTS", "OPTIONS", "PATIENT", "WHEN", "cda", "document_id"]

PATB_QUATRE: Final = "207058575627097"
TEST_OID: Final = "1.2.250.1.213.1.4.10"
WHEN: Final = dt.datetime(2026, 1, 14, 16, 45, 0, tzinfo=dt.UTC)
ROOT: Final = "1.2.250.1.999.888.2.1.7"

PATIENT: Final = CdaPatient(PATB_QUATRE, TEST_OID, "PATB-QUATRE", "LAURENCE", "F", dt.date(1970, 5, 20))
AUTHOR: Final = CdaAuthor(
    "899900063480",
    "LIBRE",
    "MAX",
    "10B0127189",
    "CENTRE HOSPITALIER DE TEST",
    Code("G15_10/SM26", "1.2.250.1.213.1.1.4.5", "Médecin - Qualifié en Médecine Générale (SM)"),
)
CONSULTATION: Final = Code("11488-4", "2.16.840.1.113883.6.1", "CR de consultation")
FACILITY: Final = Code("SA01", "1.2.250.1.71.4.2.4", "Etablissement public de santé")
EVENT: Final = Code("I10", "2.16.840.1.113883.6.3", "Hypertension essentielle")
#: What the CDA header of the mock's writer does not say (practice setting), as submission defaults.
DEFAULTS: Final = MetadataOverrides(practice_setting_code=Code("ETABLISSEMENT", "1.2.250.1.213.1.1.4.9"))
OPTIONS: Final = SubmissionOptions(content_type_code="07", defaults=DEFAULTS)


def document_id(number: int) -> str:
    """The ClinicalDocument/id (and XDS uniqueId) of test document ``number``."""
    return f"{ROOT}.{number}"


def cda(
    number: int,
    *,
    version: int = 1,
    set_number: int | None = None,
    replaces: int | None = None,
    patient: CdaPatient = PATIENT,
    author: CdaAuthor = AUTHOR,
    type_code: Code = CONSULTATION,
    when: dt.datetime = WHEN,
    lines: tuple[str, ...] = ("Consultation de suivi.", "Tension artérielle contrôlée."),
    pdf: bytes | None = None,
) -> bytes:
    """A level-1 CDA (PDF body: ``pdf``, else one showing ``lines``) with id ``document_id(number)``, setId of
    ``set_number`` (default its own)."""
    return build_cda(
        CdaDocument(
            document_id=document_id(number),
            set_id=f"{ROOT}.set.{set_number or number}",
            version=version,
            type_code=type_code,
            title="Compte rendu de consultation",
            effective_time=when,
            patient=patient,
            author=author,
            body=NonXmlBody("application/pdf", pdf if pdf is not None else minimal_pdf(lines, title="Compte rendu")),
            replaces=document_id(replaces) if replaces is not None else None,
            event_code=EVENT,
            facility_type=FACILITY,
        )
    )
