"""The registry's checks of a TD2.1 submission (reference §5.7, project design), with the IHE error codes.

In order: MTOM and Document ↔ ExtrinsicObject (``XDSMissingDocument`` / ``XDSMissingDocumentMetadata``);
one SubmissionSet with its required metadata; the same patient everywhere (``XDSPatientIdDoesNotMatch``)
and a DMP for him (``XDSUnknownPatientId``); one signature entry, with HasMember and ``signs``, whose
XAdES document verifies, whose signer chains to a trusted CA and whose manifest names every document
(``urn:oid:{uniqueId}``) with its digest; uniqueIds unique in
the message; every code in its DMP value set (``XDSRegistryMetadataError``, one error per document);
``hash`` / ``size`` when given (``XDSNonIdenticalHash`` / ``Size``); RPLC targets that exist, are Approved
and of the same patient (``XDSRegistryDeprecatedDocumentError``…). The registry's own state (duplicates,
identical re-submission) is the handler's. A refusal is a :class:`Refusal` carrying every error found.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from cryptography import x509
from cryptography.x509 import verification

from dmpclient.errors import DmpError, DmpValidationError, RegistryErrorItem
from dmpclient.security.verify import VerificationPolicy
from dmpclient.security.xades import read_submission_signature, verify_submission_signature
from dmpclient.soap.mtom import MtomDecoded
from dmpclient.xds.checks import check_document_entry, check_submission_set
from dmpclient.xds.codes import AssociationType, AvailabilityStatus
from dmpclient.xds.identifiers import Cx
from dmpclient.xds.models import Association, DocumentEntry, SubmissionSet
from dmpclient.xds.submission import ProvideAndRegister, SubmissionErrorCode, document_digest
from mock_server.store.records import DocumentRow

__all__ = ["CheckedSubmission", "Refusal", "check_replacements", "check_submission"]

Error = SubmissionErrorCode
_OID_URI: Final = "urn:oid:"
_UUID_URI: Final = "urn:uuid:"
_ALLOWED_LINKS: Final = frozenset({AssociationType.HAS_MEMBER, AssociationType.SIGNS, AssociationType.RPLC})


@dataclass
class Refusal(Exception):
    """The submission is refused; ``errors`` are the RegistryErrors of the Failure answer."""

    errors: list[RegistryErrorItem] = field(default_factory=list)

    @classmethod
    def one(cls, code: str, context: str, location: str = "") -> Refusal:
        return cls([RegistryErrorItem(error_code=code, code_context=context, location=location)])


@dataclass(frozen=True, slots=True)
class CheckedSubmission:
    """A submission that passed the checks: its objects with their bytes, by entry id."""

    submission_set: SubmissionSet
    entries: tuple[DocumentEntry, ...]
    signature: DocumentEntry
    contents: dict[str, bytes]
    associations: tuple[Association, ...]
    patient: Cx

    @property
    def clinical(self) -> tuple[DocumentEntry, ...]:
        return tuple(entry for entry in self.entries if not entry.is_signature)


def _contents(request: ProvideAndRegister, attachments: MtomDecoded | None) -> dict[str, bytes]:
    if attachments is None:
        raise Refusal.one(Error.METADATA, "La soumission TD2.1 doit être MTOM (xop:Include, §1.5)")
    contents: dict[str, bytes] = {}
    for identifier, location in request.documents.items():
        if location.inline is not None:
            contents[identifier] = location.inline
            continue
        try:
            contents[identifier] = attachments.attachment_for_href(location.href or "").read_bytes()
        except DmpError:
            raise Refusal.one(
                Error.MISSING_DOCUMENT, f"Partie MTOM introuvable pour le document {identifier}"
            ) from None
    return contents


def _pair_documents(entries: Sequence[DocumentEntry], contents: dict[str, bytes]) -> None:
    ids = {entry.entry_uuid: entry for entry in entries}
    missing = [ids[i].unique_id for i in ids if i not in contents]
    if missing:
        raise Refusal(
            [
                RegistryErrorItem(error_code=Error.MISSING_DOCUMENT, code_context="Document absent", location=uid)
                for uid in missing
            ]
        )
    orphans = sorted(set(contents) - set(ids))
    if orphans:
        raise Refusal.one(Error.MISSING_METADATA, f"Document sans métadonnées : {', '.join(orphans)}")


def _one_submission_set(request: ProvideAndRegister) -> SubmissionSet:
    sets = request.objects.submission_sets
    if len(sets) != 1 or request.objects.folders:
        raise Refusal.one(
            Error.METADATA, f"Une soumission contient un lot (SubmissionSet) et aucun classeur ({len(sets)})"
        )
    try:
        return check_submission_set(sets[0])
    except DmpValidationError as exc:
        raise Refusal.one(Error.METADATA, exc.message) from None


def _same_patient(patient: Cx, entries: Sequence[DocumentEntry]) -> None:
    for entry in entries:
        if entry.patient_id is None or not entry.patient_id.same_identity(patient):
            raise Refusal.one(
                Error.PATIENT_MISMATCH, "Le patient d'un document diffère de celui du lot", entry.unique_id
            )


def _checked_entries(entries: Sequence[DocumentEntry]) -> list[DocumentEntry]:
    """Every entry's codes in their value sets; one error per refused document."""
    checked, errors = [], []
    for entry in entries:
        try:
            checked.append(check_document_entry(entry, signature=entry.is_signature))
        except DmpValidationError as exc:
            errors.append(
                RegistryErrorItem(error_code=Error.METADATA, code_context=exc.message, location=entry.unique_id)
            )
    if errors:
        raise Refusal(errors)
    return checked


def _unique_in_message(entries: Sequence[DocumentEntry], submission_set: SubmissionSet) -> None:
    seen = {submission_set.unique_id}
    for entry in entries:
        if entry.unique_id in seen:
            raise Refusal.one(
                Error.DUPLICATE_IN_MESSAGE, "uniqueId présent deux fois dans la soumission", entry.unique_id
            )
        seen.add(entry.unique_id)


def _hash_and_size(entries: Sequence[DocumentEntry], contents: dict[str, bytes]) -> None:
    for entry in entries:
        data = contents[entry.entry_uuid]
        if entry.size is not None and entry.size != len(data):
            raise Refusal.one(Error.NON_IDENTICAL_SIZE, f"size {entry.size} ≠ {len(data)}", entry.unique_id)
        if entry.hash and entry.hash.lower() != hashlib.sha1(data, usedforsecurity=False).hexdigest():
            raise Refusal.one(Error.NON_IDENTICAL_HASH, "hash différent du document reçu", entry.unique_id)


def _trusted_signer(
    certificate: x509.Certificate | None, trust: VerificationPolicy | None, now: dt.datetime, location: str
) -> None:
    """The XAdES signer is an end-entity certificate chaining to a trusted CA (IGC-Santé; the test PKI's CA).

    §5.4: the batch is signed with the VIHF's key (ORG SIGN, or the card's signature certificate), so the
    mock trusts for it exactly what it trusts for the VIHF (the gate's policy). Without trust anchors it
    refuses (fail closed).
    """
    verifier = trust.chain_verifier(now) if trust is not None else None
    untrusted = Refusal.one(
        Error.METADATA,
        "Signature du lot : le certificat du signataire n'est pas un certificat de signature émis par une "
        "autorité de confiance (IGC-Santé)",
        location,
    )
    if certificate is None or verifier is None or trust is None or _is_ca(certificate):
        raise untrusted
    try:
        verifier.verify(certificate, list(trust.intermediates))
    except verification.VerificationError:
        raise untrusted from None


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _signature(
    request: ProvideAndRegister,
    entries: Sequence[DocumentEntry],
    contents: dict[str, bytes],
    *,
    verify: bool,
    trust: VerificationPolicy | None,
    now: dt.datetime,
) -> DocumentEntry:
    """The one signature entry: HasMember and ``signs``, a XAdES manifest naming every document by its
    ``urn:oid:`` uniqueId, signed by a trusted signer (§5.3, §5.4)."""
    signatures = [entry for entry in entries if entry.is_signature]
    if len(signatures) != 1:
        raise Refusal.one(Error.METADATA, f"Une soumission DMP contient une entrée de signature ({len(signatures)})")
    signature = signatures[0]
    submission_set = request.objects.submission_sets[0].entry_uuid
    links = {(str(a.association_type), a.source, a.target) for a in request.objects.associations}
    if (AssociationType.HAS_MEMBER.value, submission_set, signature.entry_uuid) not in links or (
        AssociationType.SIGNS.value,
        signature.entry_uuid,
        submission_set,
    ) not in links:
        raise Refusal.one(Error.METADATA, "Entrée de signature sans association HasMember et signs avec le lot")
    data = contents[signature.entry_uuid]
    try:
        read = verify_submission_signature(data) if verify else read_submission_signature(data)
    except DmpError as exc:
        raise Refusal.one(Error.METADATA, f"Signature du lot invalide : {exc.message}", signature.unique_id) from None
    if verify:
        _trusted_signer(read.certificate, trust, now, signature.unique_id)
    if any(not reference.uri.startswith(_OID_URI) for reference in read.manifest):
        raise Refusal.one(
            Error.METADATA, "Chaque référence du manifeste désigne un uniqueId en urn:oid: (§5.4)", signature.unique_id
        )
    by_uri = {reference.uri: reference for reference in read.manifest}
    for entry in entries:
        if entry.is_signature:
            continue
        reference = by_uri.get(f"{_OID_URI}{entry.unique_id}")
        if reference is None:
            raise Refusal.one(Error.METADATA, "Document absent du manifeste de la signature du lot", entry.unique_id)
        if verify and not _digest_matches(reference.hash_name, reference.digest, contents[entry.entry_uuid], entry):
            raise Refusal.one(Error.METADATA, "Empreinte du document différente de celle du manifeste", entry.unique_id)
    return signature


def _digest_matches(hash_name: str | None, expected: bytes, data: bytes, entry: DocumentEntry) -> bool:
    if hash_name is None:
        return False
    try:
        return document_digest(data, xml=entry.mime_type.endswith("xml"), algorithm=hash_name) == expected
    except DmpError:
        return False


def _associations(request: ProvideAndRegister, submission_set: str, new_ids: set[str]) -> tuple[Association, ...]:
    members = {
        a.target
        for a in request.objects.associations
        if a.association_type == AssociationType.HAS_MEMBER and a.source == submission_set
    }
    if new_ids - members:
        raise Refusal.one(Error.METADATA, "Chaque document doit être lié au lot par une association HasMember")
    for link in request.objects.associations:
        if link.association_type not in _ALLOWED_LINKS:
            raise Refusal.one(Error.METADATA, f"Association non admise par le DMP : {link.association_type}")
        if link.association_type == AssociationType.RPLC and link.source not in new_ids:
            raise Refusal.one(Error.METADATA, "RPLC : la source doit être un nouveau document de la soumission")
    return request.objects.associations


def check_replacements(
    associations: Sequence[Association], patient: Cx, find: Callable[[str], DocumentRow | None]
) -> None:
    """RPLC targets are entryUUIDs of existing documents, Approved, of the submission's patient (§5.6).

    A uniqueId given as target is unresolved (``UnresolvedReferenceException``), as the IHE registry answers:
    it would otherwise be stored as a dangling association end.
    """
    for link in associations:
        if link.association_type != AssociationType.RPLC:
            continue
        target = find(link.target) if link.target.startswith(_UUID_URI) else None  # an entryUUID (§5.6)
        if target is None:
            raise Refusal.one(Error.UNRESOLVED_REFERENCE, f"Document remplacé inconnu : {link.target}")
        if target.patient_ins != patient.id:
            raise Refusal.one(
                Error.PATIENT_MISMATCH, "Le document remplacé appartient à un autre patient", target.unique_id
            )
        if target.status is not AvailabilityStatus.APPROVED:
            raise Refusal.one(
                Error.DEPRECATED_TARGET,
                f"Le document remplacé n'est pas Approved ({target.status.value})",
                target.unique_id,
            )


def check_submission(
    request: ProvideAndRegister,
    attachments: MtomDecoded | None,
    *,
    now: dt.datetime,
    trust: VerificationPolicy | None,
    verify_signature: bool = True,
) -> CheckedSubmission:
    """Every check of §5.7 that needs only the message.

    Args:
        now: the time the signer's certificate chain is checked at.
        trust: the trusted CAs for the signer (the gate's VIHF policy; ``None`` refuses every signature when
            ``verify_signature`` is on).
        verify_signature: verify the XAdES signature, its signer's chain and the manifest digests (off: only
            its structure and that the manifest names every document; the DMP's own depth is unknown, §5.4).

    Raises:
        Refusal: with the RegistryErrors of the Failure answer.
    """
    contents = _contents(request, attachments)
    entries = request.objects.documents
    _pair_documents(entries, contents)
    submission_set = _one_submission_set(request)
    if submission_set.patient_id is None:  # pragma: no cover - check_submission_set requires it
        raise Refusal.one(Error.METADATA, "patientId absent du lot")
    _same_patient(submission_set.patient_id, entries)
    _unique_in_message(entries, submission_set)
    checked = _checked_entries(entries)
    _hash_and_size(checked, contents)
    signature = _signature(request, checked, contents, verify=verify_signature, trust=trust, now=now)
    links = _associations(request, submission_set.entry_uuid, {entry.entry_uuid for entry in checked})
    return CheckedSubmission(submission_set, tuple(checked), signature, contents, links, submission_set.patient_id)
