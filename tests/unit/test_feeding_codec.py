"""TD2.1 and TD3.3 messages without a server: the ITI-41 body and its MTOM framing, the XSDs, the real
eHealth Suisse captures, the hand-written registry answers, the ITI-57 bodies and their rights rows."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from dmpclient._xml import NS, parse_untrusted
from dmpclient.errors import (
    DmpConfigError,
    DmpRegistryError,
    DmpRightsPrecheckError,
    DmpUnsafeXmlError,
    DmpValidationError,
)
from dmpclient.ids import InsOid
from dmpclient.soap.mtom import decode, inline_xop
from dmpclient.soap.request import prepare_request
from dmpclient.transactions import feeding, lifecycle
from dmpclient.transactions.context import CallContext
from dmpclient.transactions.operation import PatientRef
from dmpclient.transactions.replacement import check_new_version
from dmpclient.transactions.rights import RightsAction
from dmpclient.xds.cda import read_cda_header
from dmpclient.xds.cda_metadata import MetadataOverrides, Visibility
from dmpclient.xds.codes import AssociationType, AvailabilityStatus
from dmpclient.xds.models import ResponseStatus
from dmpclient.xds.submission import document_digest, read_provide_and_register, read_registry_response
from mock_server.seed.cda import CdaDocument, NonXmlBody, Section, build_cda
from tests.conftest import FIXTURES
from tests.feed_samples import AUTHOR as CDA_AUTHOR
from tests.feed_samples import CONSULTATION, FACILITY, OPTIONS, PATIENT, WHEN, cda, document_id
from tests.golden import frozen_context
from tests.unit.test_mtom_fixtures import capture, recover
from tests.xds_samples import AUTHOR, NEW_VERSION
from tests.xsd import assert_valid

VECTORS = Path(__file__).parent.parent / "vectors" / "feeding"
PNR = f"{{{NS['xdsb']}}}ProvideAndRegisterDocumentSetRequest"


def _draft(tmp_path: Path) -> feeding.SubmissionDraft:
    first = tmp_path / "first.xml"
    first.write_bytes(cda(1))
    documents = [
        feeding.FeedDocument(content=first),  # streamed from its file
        feeding.FeedDocument(content=cda(2), visibility=Visibility(invisible_to_patient=True)),
    ]
    return feeding.draft_submission(frozen_context(), documents, OPTIONS)


def test_the_submission_inventory_of_reference_5_1(tmp_path: Path) -> None:
    op = _draft(tmp_path).operation(b"<signature/>")
    read = read_provide_and_register(op.body)
    objects = read.objects
    assert len(objects.submission_sets) == 1
    assert [d.unique_id for d in objects.documents if not d.is_signature] == [document_id(1), document_id(2)]
    (signature,) = [d for d in objects.documents if d.is_signature]
    assert (signature.title, signature.language_code) == ("Source", "art")
    assert [c.code for c in signature.confidentiality_codes] == ["N", "MASQUE_PS", "INVISIBLE_PATIENT"]
    links = [(a.association_type, a.source, a.target, a.submission_set_status) for a in objects.associations]
    assert links == [
        (AssociationType.HAS_MEMBER, "SubmissionSet01", "Document01", "Original"),
        (AssociationType.HAS_MEMBER, "SubmissionSet01", "Document02", "Original"),
        (AssociationType.HAS_MEMBER, "SubmissionSet01", "Signature01", "Original"),
        (AssociationType.SIGNS, "Signature01", "SubmissionSet01", "Original"),
    ]
    assert set(read.documents) == {"Document01", "Document02", "Signature01"}
    assert op.spec.patient_of(op.body) == PatientRef("207058575627097", InsOid.TEST)


def test_the_mtom_request_streams_files_and_validates_after_xop_decoding(tmp_path: Path) -> None:
    op = _draft(tmp_path).operation(b"<signature/>")
    assert isinstance(op.attachments[0].data, Path)  # never copied into the envelope
    request = prepare_request(
        url="https://dmp.test/si-dmp-server/v2/services/repository",
        service="repository",
        td=op.td,
        action=op.spec.request_action,
        body=op.body,
        message_id="urn:uuid:00000000-0000-4000-8000-000000000099",
        assertion=None,
        idempotent=op.spec.idempotent,
        attachments=op.attachments,
    )
    assert request.mtom is not None
    assert b"%PDF" not in request.envelope
    assert b"ClinicalDocument" not in request.envelope
    with decode(request.headers["Content-Type"], request.iter_content(1000)) as decoded:
        body = etree.fromstring(decoded.root_xml).find(f".//{PNR}")
        assert body is not None
        inline_xop(body, decoded)
        assert_valid(body, "ihe/XDS.b_DocumentRepository.xsd")
        documents = {d.get("id"): base64.b64decode(d.text or "") for d in body.iter(f"{{{NS['xdsb']}}}Document")}
    assert documents["Document01"] == cda(1)
    assert documents["Signature01"] == b"<signature/>"


def test_a_new_version_carries_rplc_to_the_previous_entry(tmp_path: Path) -> None:
    document = feeding.FeedDocument(content=cda(3, version=2, set_number=2, replaces=2), replaces="urn:uuid:1")
    op = feeding.draft_submission(frozen_context(), [document], OPTIONS).operation(b"<s/>")
    (rplc,) = [a for a in read_provide_and_register(op.body).objects.associations if a.is_replacement]
    assert (rplc.source, rplc.target) == ("Document01", "urn:uuid:1")


def test_one_submission_one_patient_and_unique_documents() -> None:
    other = PATIENT.__class__("248039263001064", InsOid.TEST, "DUPONT", "JEAN", "M", dt.date(1948, 3, 9))
    with pytest.raises(DmpValidationError, match="patient differs"):
        feeding.draft_submission(
            frozen_context(),
            [feeding.FeedDocument(content=cda(1)), feeding.FeedDocument(content=cda(2, patient=other))],
            OPTIONS,
        )
    with pytest.raises(DmpValidationError, match="given twice"):
        feeding.draft_submission(frozen_context(), [feeding.FeedDocument(content=cda(1))] * 2, OPTIONS)
    with pytest.raises(DmpValidationError, match="at least one"):
        feeding.draft_submission(frozen_context(), [], OPTIONS)


def test_a_cda_embedding_a_document_over_the_libxml2_text_limit_is_drafted() -> None:
    """An 8 MB PDF is 10.7 MB of base64 in one text node: over libxml2's own limit, within the CDA budget."""
    huge = build_cda(
        CdaDocument(document_id(9), document_id(9), 1, CONSULTATION, "PDF", WHEN, PATIENT, CDA_AUTHOR,
                    NonXmlBody("application/pdf", b"%PDF" * 2_000_000), facility_type=FACILITY)
    )  # fmt: skip
    with pytest.raises(DmpUnsafeXmlError, match="Text node too long"):
        parse_untrusted(huge)  # the SOAP budget refuses it
    (prepared,) = feeding.draft_submission(frozen_context(), [feeding.FeedDocument(content=huge)], OPTIONS).documents
    assert prepared.entry.unique_id == document_id(9)
    assert prepared.entry.format_code is not None
    assert document_digest(huge, xml=True) == prepared.digest  # what the mock recomputes


def test_a_dense_structured_cda_over_the_soap_node_budget_is_fed_and_checked_by_the_mock() -> None:
    """A large lab report (~600,000 elements and attributes) passes the CDA budget, not the SOAP default."""
    row = ("Glycémie à jeun", "0,95", "g/L", "normal")
    sections = tuple(Section(f"Résultats {n}", table=(("Analyse", "Résultat", "Unité", "Interprétation"),
                                                       *([row] * 500))) for n in range(200))  # fmt: skip
    dense = build_cda(
        CdaDocument(document_id(8), document_id(8), 1, CONSULTATION, "Bilan", WHEN, PATIENT, CDA_AUTHOR, sections,
                    extra_template="1.3.6.1.4.1.19376.1.3.3", facility_type=FACILITY)  # XD-LAB
    )  # fmt: skip
    with pytest.raises(DmpUnsafeXmlError, match="max_nodes"):
        parse_untrusted(dense)
    (prepared,) = feeding.draft_submission(frozen_context(), [feeding.FeedDocument(content=dense)], OPTIONS).documents
    assert document_digest(dense, xml=True) == prepared.digest  # what the mock recomputes


def test_unique_ids_are_minted_under_the_software_oid_within_64_characters() -> None:
    ctx = CallContext(None, oid_root="1.2.250.1.999.888.2.1")
    minted = {feeding.mint_unique_id(ctx) for _ in range(1000)}
    assert len(minted) == 1000
    assert all(uid.startswith("1.2.250.1.999.888.2.1.") and len(uid) <= 64 for uid in minted)
    with pytest.raises(DmpConfigError, match=r"lps\.id"):
        feeding.mint_unique_id(CallContext(None, oid_root=""))
    with pytest.raises(DmpConfigError, match=r"lps\.id"):
        feeding.mint_unique_id(CallContext(None, oid_root="1." + "2" * 60))


# --- answers -------------------------------------------------------------------------------------


def test_a_failure_names_the_documents_it_refuses() -> None:
    root = etree.fromstring((VECTORS / "registry_failure_per_document.xml").read_bytes())
    with pytest.raises(DmpRegistryError) as caught:
        read_registry_response(root, td="TD2.1")
    errors = caught.value.errors
    assert [(e.error_code, e.location) for e in errors[:2]] == [
        ("XDSRegistryMetadataError", "1.2.250.1.999.777.1^DOC-42"),
        ("XDSDuplicateUniqueIdInRegistry", "1.2.250.1.999.777.1^DOC-43"),
    ]
    assert errors[1].code_context == "uniqueId déjà enregistré"  # the context given as element text
    assert "XDSExtraMetadataNotSaved" not in caught.value.message  # warnings are not the failure's cause


def test_a_success_keeps_its_warnings() -> None:
    root = etree.fromstring((VECTORS / "registry_success_with_warning.xml").read_bytes())
    answer = read_registry_response(root, td="TD2.1")
    assert answer.status is ResponseStatus.SUCCESS
    assert [(w.error_code, w.location) for w in answer.warnings] == [
        ("XDSExtraMetadataNotSaved", "1.2.250.1.999.777.1^DOC-42")
    ]
    result = feeding.SubmissionResult(
        submission_set_unique_id="1.2.250.1.999.777.9",
        signature_unique_id="1.2.250.1.999.777.10",
        submission_time=dt.datetime(2026, 1, 15, tzinfo=dt.UTC),
        documents=(),
        warnings=answer.warnings,
    )
    assert result.warnings_for("1.2.250.1.999.777.1^DOC-42") == answer.warnings
    assert result.warnings_for("1.2.250.1.999.777.1^DOC-43") == ()


def test_the_ehealth_suisse_iti41_request_decodes() -> None:
    content_type, body = capture("ITI-41_request_raw.xml")
    with decode(content_type, body) as decoded:
        request = recover(decoded.root_xml).find(f".//{PNR}")
        assert request is not None
        read = read_provide_and_register(request)
        (entry,) = read.objects.documents
        (submission_set,) = read.objects.submission_sets
        (member,) = read.objects.associations
        assert entry.mime_type == "application/fhir+json"
        assert entry.unique_id
        assert submission_set.unique_id
        assert submission_set.patient_id is not None
        assert member.association_type == AssociationType.HAS_MEMBER
        assert (member.source, member.target) == (submission_set.entry_uuid, entry.entry_uuid)
        (location,) = read.documents.values()
        assert decoded.attachment_for_href(location.href or "").read_bytes().startswith(b"{")


@pytest.mark.parametrize("name", ["ITI-41_response.xml", "ITI-41_response_raw.xml"])
def test_the_ehealth_suisse_iti41_responses_decode(name: str) -> None:
    if name.endswith("_raw.xml"):
        content_type, body = capture(name)
        with decode(content_type, body) as decoded:
            xml = decoded.root_xml
    else:
        xml = (FIXTURES / "samples" / name).read_bytes()
    response = etree.fromstring(xml).find(".//{urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0}RegistryResponse")
    assert response is not None
    assert read_registry_response(response, td="TD2.1").status is ResponseStatus.SUCCESS


# --- TD3.3 bodies --------------------------------------------------------------------------------


def _update(action: lifecycle.LifecycleAction, **changes: object) -> etree._Element:
    entry = NEW_VERSION.model_copy(update=changes)
    op, _ = lifecycle.update_operation(
        frozen_context(), PatientRef("207058575627097", InsOid.TEST), action, entry, author=AUTHOR
    )
    return op.body


@pytest.mark.parametrize(
    ("action", "changes", "row"),
    [
        (lifecycle.LifecycleAction.ARCHIVE, {}, RightsAction.TD3_3D_ARCHIVER),
        (lifecycle.LifecycleAction.UNARCHIVE, {"status": AvailabilityStatus.ARCHIVED}, RightsAction.TD3_3D_DESARCHIVER),
        (lifecycle.LifecycleAction.DELETE, {}, RightsAction.TD3_3C_SUPPRIMER),
        (lifecycle.LifecycleAction.MASK, {}, RightsAction.TD3_3A_MASQUER),
        (lifecycle.LifecycleAction.SHOW, {}, RightsAction.TD3_3B_RENDRE_VISIBLE_PATIENT),
    ],
)
def test_the_rights_row_is_read_from_the_body(
    action: lifecycle.LifecycleAction, changes: dict[str, object], row: RightsAction
) -> None:
    body = _update(action, **changes)
    assert lifecycle.rights_row(body) is row
    assert_valid(body, "ebrs30/lcm.xsd")


def test_status_changes_follow_the_dmp_transitions() -> None:
    with pytest.raises(DmpValidationError, match="expected"):
        _update(lifecycle.LifecycleAction.UNARCHIVE)  # Approved, not Archived
    with pytest.raises(DmpValidationError, match="expected"):
        _update(lifecycle.LifecycleAction.ARCHIVE, status=AvailabilityStatus.DEPRECATED)
    with pytest.raises(DmpValidationError, match="nothing to change"):
        _update(lifecycle.LifecycleAction.UNMASK)  # not masked


def test_hiding_a_published_document_is_refused_before_sending() -> None:
    flow = lifecycle.lifecycle_flow(
        frozen_context(), "207058575627097", InsOid.TEST, lifecycle.LifecycleAction.HIDE, NEW_VERSION, author=AUTHOR
    )
    with pytest.raises(DmpRightsPrecheckError, match="invisible"):
        next(flow)


# --- versioning rules (SEED, §7.1) -----------------------------------------------------------------


def test_the_cda_versioning_rules_of_a_new_version() -> None:
    previous = read_cda_header(cda(10))
    check_new_version(read_cda_header(cda(11, version=2, set_number=10, replaces=10)), document_id(10), previous)
    cases = {
        "setId": cda(11, version=2, set_number=99, replaces=10),
        "versionNumber": cda(11, version=3, set_number=10, replaces=10),
        "relatedDocument": cda(11, version=2, set_number=10, replaces=9),
        "new id": cda(10, version=2, set_number=10, replaces=10),
    }
    for rule, new in cases.items():
        with pytest.raises(DmpValidationError, match=rule):
            check_new_version(read_cda_header(new), document_id(10), previous)


@settings(max_examples=40, deadline=None)
@given(
    title=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=80),
    masked=st.booleans(),
    invisible=st.booleans(),
    count=st.integers(min_value=1, max_value=3),
)
def test_any_submission_reads_back_as_built(title: str, masked: bool, invisible: bool, count: int) -> None:
    """The ITI-41 body round trip: what the builder writes, the mock's reader reads (titles with any text)."""
    visibility = Visibility(masked=masked, invisible_to_patient=invisible)
    documents = [
        feeding.FeedDocument(content=cda(n), overrides=MetadataOverrides(title=f"{title} {n}"), visibility=visibility)
        for n in range(1, count + 1)
    ]
    draft = feeding.draft_submission(frozen_context(), documents, OPTIONS)
    read = read_provide_and_register(draft.operation(b"<s/>").body).objects
    clinical = [d for d in read.documents if not d.is_signature]
    assert [d.title for d in clinical] == [f"{title} {n}" for n in range(1, count + 1)]
    expected = ["N", *(["MASQUE_PS"] if masked else []), *(["INVISIBLE_PATIENT"] if invisible else [])]
    assert all([c.code for c in d.confidentiality_codes] == expected for d in clinical)
    assert [d.unique_id for d in clinical] == list(draft.unique_ids)
