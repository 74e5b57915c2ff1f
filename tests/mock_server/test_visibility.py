"""Document-level rights (526/606 TD3.2 rows, notes 6 and 7) as a decision table over the pure rules."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from dmpclient.codes import Code
from dmpclient.transactions.rights import AccessMode, MatrixActor, RightsAction
from dmpclient.xds.codes import AvailabilityStatus
from mock_server.domain.authorship import is_own
from mock_server.domain.visibility import Viewer, document_rows, may_read, may_reference
from mock_server.handlers.registry import like
from mock_server.store.records import Author, AuthorKind, DocumentMetadata, DocumentRow

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
CODE = Code("x", "1.2")
AUTHOR = Author(AuthorKind.PROFESSIONAL, "899900000001", "AUTEUR", "A", "10B0000001", "STRUCTURE A")
MASKED = Code("MASQUE_PS", "1.2.250.1.213.1.1.4.13")
INVISIBLE = Code("INVISIBLE_PATIENT", "1.2.250.1.213.1.1.4.13")
AIR, DIRECT, INDIRECT = "INDIRECTE_RENFORCEE", "DIRECTE", "INDIRECTE"


def row(
    *, masked: bool = False, invisible: bool = False, status: AvailabilityStatus = AvailabilityStatus.APPROVED
) -> DocumentRow:
    codes = (Code("N", "2.16.840.1.113883.5.25"), *((MASKED,) if masked else ()), *((INVISIBLE,) if invisible else ()))
    metadata = DocumentMetadata("t", CODE, CODE, CODE, CODE, CODE, NOW, AUTHOR, codes)
    return DocumentRow("urn:uuid:1", "urn:uuid:1", 1, "1.2.3", "207058575627097", status, metadata, "h", 1, None, NOW)


def viewer(
    actor: MatrixActor,
    mode: AccessMode = AccessMode.NORMAL,
    auth: str = AIR,
    ps_id: str = "899900000002",
    structure: str = "10B0000009",
    consent: bool = False,
) -> Viewer:
    return Viewer(auth, actor, mode, ps_id, structure, consent)


MED = MatrixActor.MEDECIN
BDG = AccessMode.BRIS_DE_GLACE


@pytest.mark.parametrize(
    ("who", "document", "allowed"),
    [
        (viewer(MED), row(), True),
        (viewer(MED), row(masked=True), False),  # note 6: not his document
        (viewer(MED, ps_id=AUTHOR.id), row(masked=True), True),  # note 6: his own
        (viewer(MatrixActor.MEDECIN_TRAITANT), row(masked=True), True),  # MT: oui
        (viewer(MED, BDG), row(masked=True), False),  # note 7: no consent
        (viewer(MED, BDG, consent=True), row(masked=True), True),  # note 7: consent
        (viewer(MatrixActor.MEDECIN_TRAITANT, BDG), row(masked=True), False),  # MT in BDG: oui(7)
        (viewer(MED, AccessMode.REGULATION, consent=True), row(masked=True), True),
        (viewer(MED), row(invisible=True), True),  # PS read documents hidden from the patient
        (viewer(MED), row(status=AvailabilityStatus.DELETED), True),
        (viewer(MED), row(status=AvailabilityStatus.ARCHIVED, masked=True), False),
        (viewer(MatrixActor.PE), row(), False),  # 606: PE reads no document
        (viewer(MatrixActor.ES, auth=INDIRECT), row(), False),  # 526: establishment certificate reads none
        (viewer(MatrixActor.MEDECIN_DU_TRAVAIL, auth=DIRECT), row(), False),  # 526: MdT non
        (viewer(MatrixActor.PS_NON_MEDECIN, auth=DIRECT), row(status=AvailabilityStatus.DEPRECATED), True),
    ],
)
def test_may_read(who: Viewer, document: DocumentRow, allowed: bool) -> None:
    verdict = may_read(who, document)
    assert verdict.allowed is allowed
    if not allowed:
        assert verdict.reason_fr.startswith("Accès refusé")
        assert verdict.action is not None


def test_rows_of_a_document_in_every_state() -> None:
    assert document_rows(row()) == (RightsAction.TD3_2_DOCS_NON_MASQUES,)
    assert document_rows(row(masked=True, invisible=True, status=AvailabilityStatus.DEPRECATED)) == (
        RightsAction.TD3_2_DOCS_MASQUES,
        RightsAction.TD3_2_DOCS_INVISIBLES_PATIENT,
        RightsAction.TD3_2_DOCS_OBSOLETES,
    )


def test_reference_search_without_read_rights_sees_its_structure_only() -> None:
    es = viewer(MatrixActor.ES, auth=INDIRECT, structure=AUTHOR.structure_id or "")
    assert may_reference(es, row(masked=True)).allowed
    assert not may_reference(viewer(MatrixActor.ES, auth=INDIRECT), row()).allowed
    assert not may_reference(viewer(MED), row(masked=True)).allowed  # a reader: the read rules apply
    assert may_reference(viewer(MED), row()).allowed


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("899900063480^%", "899900063480^LIBRE^MAX", True),
        ("%LIBRE%", "899900063480^LIBRE^MAX", True),
        ("%LIBRE", "899900063480^LIBRE^MAX", False),
        ("8999000634_0^%", "899900063480^X", True),
        ("", "", True),
        ("%", "", True),
        ("a%%b", "ab", True),
        ("a_b", "ab", False),
        ("100%", "100", True),
        ("%a%b%c", "xaybzc", True),
    ],
)
def test_author_person_patterns(pattern: str, text: str, matches: bool) -> None:
    assert like(pattern, text) is matches


def test_a_hostile_pattern_is_answered() -> None:
    assert not like("%a" * 120 + "%b", "a" * 256)  # a backtracking regular expression would never return


@pytest.mark.parametrize(
    ("author", "caller", "own"),
    [
        (AUTHOR, AUTHOR.id, True),
        (AUTHOR, "899900000002", False),
        (Author(AuthorKind.DEVICE, "899900000003", "PFI", "", "10B0000001", None), "899900000003", True),
        (Author(AuthorKind.PATIENT, "207058575627097", "PATIENT", "P", None, None), "207058575627097", False),
        (Author(AuthorKind.PROFESSIONAL, "", "", "", "10B0000001", None), "", False),
    ],
    ids=["professional", "another", "device", "patient", "no-id"],
)
def test_one_definition_of_own_documents(author: Author, caller: str, own: bool) -> None:
    """Notes 6 (TD3.2 reads) and 8 (TD3.3): the same answer everywhere, devices included."""
    assert is_own(author, caller) is own
    document = row(masked=True)
    masked = dataclasses.replace(document, metadata=dataclasses.replace(document.metadata, author=author))
    assert may_read(viewer(MED, ps_id=caller), masked).allowed is own
