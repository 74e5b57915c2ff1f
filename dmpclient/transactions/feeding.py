"""``repository`` service, TD2.1: feed documents to the DMP (ITI-41, MTOM, reference §3.14, §5).

Sans I/O and without keys. :func:`draft_submission` turns documents (CDA files or bytes, or a document with
explicit metadata) into a :class:`SubmissionDraft`: the checked SubmissionSet and entries, the signature
entry, the associations (HasMember, ``signs``, RPLC), the ids minted from the call context, and the digests
the XAdES manifest signs. The shell signs the manifest (``dmpclient.security.xades``) and the draft
becomes an operation whose documents are MTOM parts streamed from their files (never copied whole into
the envelope, §1.5).

**No loss, no duplicate (§9.4, §9.7).** TD2.1 is never retried blindly. :func:`submission_flow` sends the
operation; when the outcome is unknown (the request may have reached the DMP: timeout, connection reset,
an unreadable or server-side failure answer), it asks the registry whether the submission's documents are
there (GetDocuments by uniqueId, ObjectRef — TD3.1b, open to every feeding caller) and reports success,
or sends the very same submission again (same uniqueIds). A registry that then says
``XDSDuplicateUniqueIdInRegistry`` is checked the same way. If the registry cannot be asked either, the
outcome stays unknown: :class:`~dmpclient.errors.DmpSubmissionUnknownError`, to resume later.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any, Final

from lxml import etree
from pydantic import BaseModel, ConfigDict

from dmpclient._xml import NS
from dmpclient.codes import Code, ValueSetId, load_value_set
from dmpclient.errors import (
    DmpConfigError,
    DmpConnectError,
    DmpError,
    DmpHttpError,
    DmpProtocolError,
    DmpRegistryError,
    DmpSoapFault,
    DmpSubmissionUnknownError,
    DmpTlsError,
    DmpTransportError,
    DmpValidationError,
    RegistryErrorItem,
)
from dmpclient.ids import validate_ins, validate_oid
from dmpclient.soap.mtom import OutgoingPart, xop_href
from dmpclient.soap.response import Response
from dmpclient.transactions.context import CallContext
from dmpclient.transactions.operation import Operation, PatientRef
from dmpclient.transactions.registry import STORED_QUERY, stored_query
from dmpclient.transactions.rights import MatrixActor, RightsAction
from dmpclient.transactions.spec import FEEDING_MODE, Service, TransactionSpec
from dmpclient.xds.cda import CdaHeader
from dmpclient.xds.cda_metadata import MetadataOverrides, Visibility, document_entry, read_cda
from dmpclient.xds.checks import check_document_entry, check_same_patient, check_submission_set
from dmpclient.xds.codes import AssociationType, SubmissionSetScheme
from dmpclient.xds.identifiers import Cx
from dmpclient.xds.models import Author, DocumentEntry, ReturnType, SubmissionSet
from dmpclient.xds.queries import GetDocuments
from dmpclient.xds.results import QueryResult
from dmpclient.xds.submission import (
    RegistryAnswer,
    SubmissionErrorCode,
    association,
    build_provide_and_register,
    document_digest,
    read_provide_and_register,
    read_registry_response,
    signature_entry,
)

__all__ = [
    "PROVIDE_AND_REGISTER",
    "REFERENCE_LOOKUP",
    "FeedDocument",
    "PreparedDocument",
    "SubmissionDraft",
    "SubmissionIds",
    "SubmissionOptions",
    "SubmissionResult",
    "SubmittedDocument",
    "assemble",
    "draft_submission",
    "lookup_operation",
    "mint_unique_id",
    "outcome_unknown",
    "read_documents",
    "registry_answer",
    "submission_flow",
    "submission_patient",
]

_ACTION: Final = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
_TD: Final = "TD2.1"
#: uniqueIds are OIDs of at most 64 characters (XDS); minted ones end with this many digits at most.
_MAX_OID: Final = 64
_MIN_SUFFIX_DIGITS: Final = 20
_T_PACKAGE: Final = f"{{{NS['rim']}}}RegistryPackage"
_T_IDENTIFIER: Final = f"{{{NS['rim']}}}ExternalIdentifier"


# --- inputs -------------------------------------------------------------------------------------


class FeedDocument(BaseModel):
    """One document to submit.

    Attributes:
        content: the document, as a file (streamed when sent) or bytes.
        overrides: metadata that wins over what the CDA header says.
        visibility: masking to professionals, invisibility to the patient / legal representatives.
        entry: explicit metadata for a document that is not a CDA (or whose metadata the caller built); the
            CDA is then not read, but ``overrides`` still apply.
        replaces: the entryUUID of the version this document replaces (RPLC, §5.6); see ``DmpClient.replace``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    content: Path | bytes
    overrides: MetadataOverrides = MetadataOverrides()
    visibility: Visibility = Visibility()
    entry: DocumentEntry | None = None
    replaces: str | None = None


class SubmissionOptions(BaseModel):
    """The submission set's own metadata and the defaults of values a document does not give (§5.2).

    Attributes:
        content_type_code: JDV_J59 activity of the submission (default ``97``, undifferentiated activity;
            the CI-SIS maps HL7v2 PV1-2: I→03, O→07, R→19, N→97, E→07).
        defaults: metadata used when a document's header gives none (practice setting, facility type…).
        author: the submission set's author (default: the first document's first author).
        title / comments: the submission set's Name and Description.
        source_id: the OID of the sending system (default: the call context's OID root, ``lps.id``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    content_type_code: Code | str = "97"
    defaults: MetadataOverrides = MetadataOverrides()
    author: Author | None = None
    title: str | None = None
    comments: str | None = None
    source_id: str | None = None


class SubmissionIds(BaseModel):
    """The ids and time minted for a submission; sending it again with the same ids makes it identical."""

    model_config = ConfigDict(frozen=True)

    submission_set_unique_id: str
    signature_unique_id: str
    submission_time: dt.datetime


# --- results ------------------------------------------------------------------------------------


class SubmittedDocument(BaseModel):
    """A document of a submission, as the journal and the report need it (no patient data)."""

    model_config = ConfigDict(frozen=True)

    unique_id: str
    entry_id: str
    title: str | None = None
    type_code: str | None = None
    set_id: str | None = None
    version_number: int | None = None
    replaces: str | None = None
    author_id: str | None = None
    author_kind: str = "person"
    legal_authenticator_id: str | None = None


class SubmissionResult(BaseModel):
    """The outcome of a TD2.1 that the DMP accepted (a refusal raises :class:`~dmpclient.errors.DmpRegistryError`).

    Attributes:
        documents: the clinical documents submitted (the signature entry is :attr:`signature_unique_id`).
        warnings: the registry's warnings (``location`` names the document when it applies to one).
        recovered: the outcome was unknown after sending and the registry was asked: the documents are there.
        attempts: how many times the submission was sent (2 after a checked re-submission).
    """

    model_config = ConfigDict(frozen=True)

    submission_set_unique_id: str
    signature_unique_id: str
    submission_time: dt.datetime
    documents: tuple[SubmittedDocument, ...]
    warnings: tuple[RegistryErrorItem, ...] = ()
    recovered: bool = False
    attempts: int = 1

    def warnings_for(self, unique_id: str) -> tuple[RegistryErrorItem, ...]:
        """The warnings about one document."""
        return tuple(w for w in self.warnings if w.location == unique_id)


# --- the spec -----------------------------------------------------------------------------------


def submission_patient(body: etree._Element) -> PatientRef | None:
    """The SubmissionSet's patientId (the gate compares it with the VIHF resource-id)."""
    for package in body.iter(_T_PACKAGE):
        for identifier in package.iterchildren(_T_IDENTIFIER):
            if identifier.get("identificationScheme") == SubmissionSetScheme.PATIENT_ID:
                cx = Cx.parse(identifier.get("value", ""))
                return PatientRef(cx.id, cx.assigning_authority)
    return None


def registry_answer(response: Response, td: str = _TD) -> RegistryAnswer:
    """The ``rs:RegistryResponse`` of an ITI-41 / ITI-57 answer (a Failure raises ``DmpRegistryError``)."""
    body = response.message.body
    if body is None:
        raise DmpProtocolError(f"{td}: the answer has no body", td=td)
    return read_registry_response(body, td=td)


PROVIDE_AND_REGISTER: Final = TransactionSpec(
    td=_TD,
    title="Alimentation",
    service=Service.REPOSITORY,
    request_root=f"{{{NS['xdsb']}}}ProvideAndRegisterDocumentSetRequest",
    request_action=_ACTION,
    response_action=f"{_ACTION}Response",
    decode=registry_answer,
    rights=(RightsAction.TD2_1_ALIMENTATION, RightsAction.TD2_2_ALIMENTATION_CPE),
    # TD2.2 "Alimentation par CPE" is the same message sent with a CPE card (§3.14): 526 refuses TD2.1 to the
    # CPE column and allows it TD2.2 (oui(4)), so a CPE is checked against the TD2.2 row (§5.7.9).
    actor_rights=((MatrixActor.CPE, RightsAction.TD2_2_ALIMENTATION_CPE),),
    idempotent=False,
    forced_mode=FEEDING_MODE,
    body_patient=submission_patient,
    mtom_request=True,
    mtom_response=True,
    read_request=read_provide_and_register,
)

#: TD3.1b GetDocuments (ObjectRef) in the feeding mode: finds out whether a submission's documents are in
#: the registry, and resolves the entryUUID a new version replaces (§5.6), with the feeder's own rights.
REFERENCE_LOOKUP: Final = dataclasses.replace(STORED_QUERY, forced_mode=FEEDING_MODE)


# --- the draft ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class PreparedDocument:
    """A document entry ready to send: checked metadata, where its bytes are, its manifest digest."""

    entry: DocumentEntry
    content: Path | bytes
    content_id: str
    digest: bytes
    header: CdaHeader | None
    replaces: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class SubmissionDraft:
    """A submission before its signature: everything but the XAdES document (§5.1)."""

    patient: PatientRef
    ids: SubmissionIds
    submission_set: SubmissionSet
    documents: tuple[PreparedDocument, ...]
    signature: DocumentEntry
    signature_content_id: str

    @property
    def unique_ids(self) -> tuple[str, ...]:
        """The clinical documents' uniqueIds (what the registry is asked about after an unknown outcome)."""
        return tuple(document.entry.unique_id for document in self.documents)

    @property
    def signature_id(self) -> str:
        """The ``ds:Signature/@Id`` of the XAdES document (derived from its uniqueId: reproducible)."""
        return f"sig-{self.ids.signature_unique_id}"

    def manifest(self) -> list[tuple[str, bytes]]:
        """``(uniqueId, digest)`` of each document, for the XAdES manifest."""
        return [(document.entry.unique_id, document.digest) for document in self.documents]

    def submitted(self) -> tuple[SubmittedDocument, ...]:
        """The documents as the result reports them."""
        return tuple(_submitted(document) for document in self.documents)

    def operation(self, signature: bytes) -> Operation[RegistryAnswer]:
        """The TD2.1 operation once the XAdES document of :meth:`manifest` is signed."""
        entries = [document.entry for document in self.documents]
        objects: list[Any] = [self.submission_set, *entries, self.signature]
        ss = self.submission_set.entry_uuid
        links = [
            association(f"HasMember{n:02d}", AssociationType.HAS_MEMBER, ss, e.entry_uuid)
            for n, e in enumerate([*entries, self.signature], start=1)
        ]
        links.append(association("Signs01", AssociationType.SIGNS, self.signature.entry_uuid, ss))
        links += [
            association(f"Replaces{n:02d}", AssociationType.RPLC, d.entry.entry_uuid, d.replaces)
            for n, d in enumerate(self.documents, start=1)
            if d.replaces
        ]
        hrefs = {d.entry.entry_uuid: xop_href(d.content_id) for d in self.documents}
        hrefs[self.signature.entry_uuid] = xop_href(self.signature_content_id)
        body = build_provide_and_register([*objects, *links], hrefs)
        parts = [OutgoingPart(d.content_id, d.content, d.entry.mime_type) for d in self.documents]
        parts.append(OutgoingPart(self.signature_content_id, signature, "text/xml"))
        return PROVIDE_AND_REGISTER.operation(body, patient=self.patient, attachments=parts)

    def result(self, answer: RegistryAnswer | None, *, attempts: int, recovered: bool = False) -> SubmissionResult:
        """The result of this submission once accepted (``answer`` is None when the registry lookup told)."""
        return SubmissionResult(
            submission_set_unique_id=self.ids.submission_set_unique_id,
            signature_unique_id=self.ids.signature_unique_id,
            submission_time=self.ids.submission_time,
            documents=self.submitted(),
            warnings=answer.warnings if answer else (),
            recovered=recovered,
            attempts=attempts,
        )


def _submitted(document: PreparedDocument) -> SubmittedDocument:
    entry, header = document.entry, document.header
    person = entry.author.person if entry.author else None
    return SubmittedDocument(
        unique_id=entry.unique_id,
        entry_id=entry.entry_uuid,
        title=entry.title,
        type_code=entry.type_code.code if entry.type_code else None,
        set_id=header.version_set if header else None,
        version_number=header.version if header else None,
        replaces=document.replaces,
        author_id=person.id if person else None,
        author_kind="device" if person is not None and person.id_type == "RI" else "person",
        legal_authenticator_id=entry.legal_authenticator.id if entry.legal_authenticator else None,
    )


def mint_unique_id(ctx: CallContext) -> str:
    """A new OID under the context's root (``lps.id``): the root, then digits from a fresh id (≤ 64 chars).

    Raises:
        DmpConfigError: no OID root (``lps.id``), or one too long to leave room for a unique suffix.
    """
    root = ctx.oid_root
    room = _MAX_OID - len(root) - 1
    if not root or room < _MIN_SUFFIX_DIGITS:
        raise DmpConfigError(
            "lps.id: feeding mints uniqueIds under the software's OID; set lps.id to an OID of at most "
            f"{_MAX_OID - _MIN_SUFFIX_DIGITS - 1} characters",
            field="lps.id",
        )
    number = uuid.UUID(ctx.new_id()).int % (10**room)
    return f"{root}.{number}"


def _read_document(
    document: FeedDocument, number: int, content_id: str, options: SubmissionOptions, hash_name: str
) -> PreparedDocument:
    """Read one document (once), derive or take its metadata, check it, digest it for the manifest."""
    entry_id = f"Document{number:02d}"
    content = document.content
    header = None
    if document.entry is None:
        data = content.read_bytes() if isinstance(content, Path) else content
        cda = read_cda(data)
        header = cda.header
        entry = document_entry(
            cda.metadata,
            entry_id=entry_id,
            overrides=document.overrides,
            defaults=options.defaults,
            visibility=document.visibility,
        )
        digest = document_digest(data, xml=True, algorithm=hash_name, parsed=cda.root)
    else:
        entry = _explicit_entry(document, document.entry, entry_id)
        digest = document_digest(content, xml=entry.mime_type.endswith("xml"), algorithm=hash_name)
    return PreparedDocument(check_document_entry(entry), content, content_id, digest, header, document.replaces)


def _explicit_entry(document: FeedDocument, entry: DocumentEntry, entry_id: str) -> DocumentEntry:
    """A caller-built entry, with the document's overrides and visibility applied."""
    overrides = document.overrides
    update: dict[str, Any] = {
        name: getattr(overrides, name)
        for name in MetadataOverrides.model_fields
        if name in DocumentEntry.model_fields and getattr(overrides, name) is not None
    }
    base = (overrides.confidentiality_code,) if overrides.confidentiality_code else entry.confidentiality_codes
    extra = [code for code in document.visibility.codes() if code.key not in {c.key for c in base}]
    update |= {"entry_uuid": entry_id, "confidentiality_codes": (*base, *extra)}
    return entry.model_copy(update=update)


def read_documents(
    ctx: CallContext,
    documents: Sequence[FeedDocument],
    options: SubmissionOptions | None = None,
    *,
    hash_name: str = "sha256",
) -> tuple[PreparedDocument, ...]:
    """Read each document once: derive (or take) and check its metadata, digest it for the manifest.

    Args:
        hash_name: the digest of the XAdES manifest (the signer's, ``sha256`` by default).

    Raises:
        DmpValidationError: a document's metadata is missing or outside the DMP value sets (the message names
            the document, the field and the value set), two documents with the same uniqueId, or none.
        DmpUnsafeXmlError / DmpProtocolError: a document is not a readable CDA.
    """
    if not documents:
        raise DmpValidationError("a submission needs at least one document", field="documents")
    options = options or SubmissionOptions()
    prepared = tuple(
        _read_document(doc, n, f"{ctx.new_id()}@urn:ihe:iti:xds-b:2007", options, hash_name)
        for n, doc in enumerate(documents, start=1)
    )
    _check_unique(prepared)
    return prepared


def draft_submission(
    ctx: CallContext,
    documents: Sequence[FeedDocument],
    options: SubmissionOptions | None = None,
    *,
    hash_name: str = "sha256",
    ids: SubmissionIds | None = None,
) -> SubmissionDraft:
    """TD2.1 up to its signature: :func:`read_documents`, then :func:`assemble`."""
    return assemble(ctx, read_documents(ctx, documents, options, hash_name=hash_name), options, ids=ids)


def assemble(
    ctx: CallContext,
    prepared: Sequence[PreparedDocument],
    options: SubmissionOptions | None = None,
    *,
    ids: SubmissionIds | None = None,
) -> SubmissionDraft:
    """The submission of documents already read: SubmissionSet, signature entry, ids.

    Args:
        ids: the ids of a submission sent before (to send it again identically); minted otherwise.

    Raises:
        DmpValidationError: documents of several patients or structures, or submission-set metadata outside
            its value set.
    """
    options = options or SubmissionOptions()
    ids = ids or SubmissionIds(
        submission_set_unique_id=mint_unique_id(ctx), signature_unique_id=mint_unique_id(ctx), submission_time=ctx.now()
    )
    first = prepared[0].entry
    patient_id = first.patient_id
    if patient_id is None:  # pragma: no cover - check_document_entry requires it
        raise DmpValidationError("patientId: required", field="patientId")
    check_same_patient(patient_id, [d.entry for d in prepared])
    patient = PatientRef(validate_ins(patient_id.id, field="patientId"), validate_oid(patient_id.assigning_authority))
    author = options.author or (first.authors[0] if first.authors else None)
    _check_institutions(author, prepared)
    submission_set = check_submission_set(
        SubmissionSet(
            entry_uuid="SubmissionSet01",
            unique_id=ids.submission_set_unique_id,
            source_id=options.source_id or ctx.oid_root,
            patient_id=patient_id,
            submission_time=ids.submission_time,
            title=options.title,
            comments=options.comments,
            content_type_code=_content_type(options.content_type_code),
            authors=(author,) if author else (),
        )
    )
    signature = check_document_entry(
        signature_entry(
            entry_id="Signature01",
            unique_id=ids.signature_unique_id,
            patient_id=patient_id,
            signing_time=ids.submission_time,
            authors=first.authors,
            legal_authenticator=first.legal_authenticator,
            healthcare_facility_type_code=first.healthcare_facility_type_code,
            practice_setting_code=first.practice_setting_code,
        ),
        signature=True,
    )
    signature_content_id = f"{ctx.new_id()}@urn:ihe:iti:xds-b:2007"
    return SubmissionDraft(patient, ids, submission_set, tuple(prepared), signature, signature_content_id)


def _content_type(value: Code | str) -> Code:
    if isinstance(value, Code):
        return value
    return load_value_set(ValueSetId.CONTENT_TYPE_CODE).require(value, field="contentTypeCode")


def _check_unique(prepared: Sequence[PreparedDocument]) -> None:
    seen: set[str] = set()
    for document in prepared:
        if document.entry.unique_id in seen:
            raise DmpValidationError(
                f"document {document.entry.unique_id} is given twice in one submission", field="uniqueId"
            )
        seen.add(document.entry.unique_id)


def _check_institutions(author: Author | None, prepared: Sequence[PreparedDocument]) -> None:
    """The CI-SIS over-constraint: documents and submission set have the same authorInstitution (§4.5)."""
    expected = {i.id for i in author.institutions} if author else set()
    for document in prepared:
        found = {i.id for a in document.entry.authors[:1] for i in a.institutions}
        if found != expected:
            raise DmpValidationError(
                f"document {document.entry.unique_id}: its authorInstitution differs from the submission set's "
                "(the DMP requires the same structure); submit it separately or give options.author",
                field="authorInstitution",
            )


# --- sending without loss or duplicate -----------------------------------------------------------


def outcome_unknown(error: DmpError) -> bool:
    """Whether a TD2.1 that failed with ``error`` may nonetheless have been registered.

    Not sent: connection or TLS refused, a refusal before sending. Definite: a SOAP fault from the
    caller's side, a registry Failure (ITI-41 is atomic). Anything else (timeouts, a connection broken
    after sending, an HTTP error without SOAP, an unreadable answer, a server-side fault) may hide a
    registered submission.
    """
    if isinstance(error, DmpConnectError | DmpTlsError):
        return False
    if isinstance(error, DmpSoapFault):
        return error.code == "Receiver"
    return isinstance(error, DmpTransportError | DmpHttpError | DmpProtocolError)


def lookup_operation(ctx: CallContext, patient: PatientRef, unique_ids: Sequence[str]) -> Operation[QueryResult]:
    """GetDocuments ObjectRef for ``unique_ids`` in the feeding mode (TD3.1b)."""
    op = stored_query(
        ctx, GetDocuments(unique_ids=tuple(unique_ids)), return_type=ReturnType.OBJECT_REF, patient=patient
    )
    return Operation(REFERENCE_LOOKUP, op.body, op.patient)


#: A flow: yields operations, is sent their results (or thrown their errors), returns its own result.
Flow = Generator[Operation[Any], Any, SubmissionResult]


def submission_flow(
    ctx: CallContext, draft: SubmissionDraft, signature: bytes, *, resend: int = 1, check_first: bool = False
) -> Flow:
    """Send a signed draft; after an unknown outcome, ask the registry, then report or send it again.

    Args:
        resend: how many times the same submission may be sent again after the registry said it is absent.
        check_first: ask the registry before the first sending (resuming a submission whose outcome a
            previous run did not learn: same ids, sent only if its documents are absent).

    Raises:
        DmpRegistryError: the DMP refused the submission (nothing was registered).
        DmpSubmissionUnknownError: the outcome could not be established (resume later: nothing was lost,
            and sending the same ids again cannot duplicate it).
    """
    op = draft.operation(signature)
    attempts = 0
    if check_first and (yield from _registered(ctx, draft, None)):
        return draft.result(None, attempts=0, recovered=True)
    while True:
        attempts += 1
        try:
            answer: RegistryAnswer = yield op
            return draft.result(answer, attempts=attempts)
        except DmpRegistryError as error:
            if attempts == 1 or not _duplicate(error):
                raise
            cause: DmpError = error
        except DmpError as error:
            if not outcome_unknown(error):
                raise
            cause = error
        present = yield from _registered(ctx, draft, cause)
        if present:
            return draft.result(None, attempts=attempts, recovered=True)
        if attempts > resend:
            raise DmpSubmissionUnknownError(
                f"{_TD}: the submission was sent {attempts} times without an answer and the registry does not "
                "list its documents; resume later (the same ids are sent again)",
                unique_ids=draft.unique_ids,
                td=_TD,
            )


def _duplicate(error: DmpRegistryError) -> bool:
    return any(e.error_code == SubmissionErrorCode.DUPLICATE_IN_REGISTRY for e in error.errors)


def _registered(
    ctx: CallContext, draft: SubmissionDraft, cause: DmpError | None
) -> Generator[Operation[Any], Any, bool]:
    """Whether every document of ``draft`` is in the registry (none: False; some only: a conflict)."""
    try:
        found: QueryResult = yield lookup_operation(ctx, draft.patient, draft.unique_ids)
    except DmpError as error:
        raise DmpSubmissionUnknownError(
            f"{_TD}: the outcome of the submission is unknown ({type(cause).__name__ if cause else 'resumed'}) and "
            "the registry could not "
            f"be asked ({type(error).__name__}); resume later: the same ids are sent again only if absent",
            unique_ids=draft.unique_ids,
            td=_TD,
        ) from error
    count = len(found.entry_uuids)  # one reference per uniqueId (more if several metadata versions)
    if 0 < count < len(draft.unique_ids):
        raise DmpRegistryError(
            f"{_TD}: the registry holds {count} of the {len(draft.unique_ids)} documents of this submission: they "
            "were registered by another submission; submit the others separately",
            errors=(),
            td=_TD,
        )
    return count > 0
