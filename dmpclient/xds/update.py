"""ITI-57 Update Document Set: the TD3.3 bodies, both directions (reference §6).

Two shapes, each an ``lcm:SubmitObjectsRequest`` with a complete SubmissionSet:

* a status change (TD3.3c delete, TD3.3d archive / unarchive, §6.1): one ``UpdateAvailabilityStatus``
  association from the submission set to the document's entryUUID, with ``OriginalStatus`` (the current
  status) and ``NewStatus``; no document entry, no HasMember (official examples);
* a metadata update (TD3.3a mask / unmask, TD3.3b visibility, §6.2): a complete copy of the current
  metadata under a new id, with the same ``lid`` and uniqueId and the confidentiality codes changed, and a
  HasMember carrying ``PreviousVersion`` = the current ``versionName``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from lxml import etree

from dmpclient._xml import NS
from dmpclient.codes import Code
from dmpclient.errors import DmpProtocolError, DmpValidationError
from dmpclient.xds.codes import AssociationType, AvailabilityStatus
from dmpclient.xds.ebrim import RegistryObject, read_registry_objects, registry_object_list
from dmpclient.xds.models import Association, DocumentEntry, SubmissionSet

__all__ = [
    "StatusChange",
    "UpdateRequest",
    "build_update_request",
    "metadata_update",
    "read_update_request",
    "status_change",
]

_T_SUBMIT: Final = f"{{{NS['lcm']}}}SubmitObjectsRequest"
_NEW_ENTRY_ID: Final = "DocumentEntry01"


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One requested availability change (from ``OriginalStatus`` to ``NewStatus``) of an entryUUID."""

    target: str
    original: str
    new: str


def status_change(
    submission_set: SubmissionSet, target: str, original: AvailabilityStatus, new: AvailabilityStatus
) -> list[RegistryObject]:
    """The objects of a TD3.3c/d status change (§6.1).

    Raises:
        DmpValidationError: the target is not an entryUUID (TD3.1b resolves it from a uniqueId).
    """
    if not target.startswith("urn:uuid:"):
        raise DmpValidationError("a status change targets an entryUUID (urn:uuid:…), not a uniqueId", field="target")
    link = Association(
        entry_uuid="UpdateStatus01",
        association_type=AssociationType.UPDATE_AVAILABILITY_STATUS,
        source=submission_set.entry_uuid,
        target=target,
        original_status=original.value,
        new_status=new.value,
    )
    return [submission_set, link]


def metadata_update(
    submission_set: SubmissionSet, current: DocumentEntry, confidentiality: Sequence[Code]
) -> list[RegistryObject]:
    """The objects of a TD3.3a/b metadata update (§6.2): the current metadata with new confidentiality codes.

    Raises:
        DmpValidationError: the current entry has no ``lid`` or ``versionName`` (give an entry the registry
            returned, from a LeafClass search).
    """
    if not current.logical_id or not current.version:
        raise DmpValidationError(
            "a metadata update copies a registry entry: give one from a LeafClass search (it has lid and version)",
            field="entry",
        )
    copy = current.model_copy(
        update={
            "entry_uuid": _NEW_ENTRY_ID,
            "status": AvailabilityStatus.APPROVED,
            "version": None,
            "confidentiality_codes": tuple(confidentiality),
        }
    )
    member = Association(
        entry_uuid="HasMember01",
        association_type=AssociationType.HAS_MEMBER,
        source=submission_set.entry_uuid,
        target=_NEW_ENTRY_ID,
        submission_set_status="Original",
        previous_version=current.version,
    )
    return [submission_set, copy, member]


def build_update_request(objects: Sequence[RegistryObject]) -> etree._Element:
    """``lcm:SubmitObjectsRequest`` holding ``objects``."""
    root = etree.Element(_T_SUBMIT, nsmap={"lcm": NS["lcm"], "rim": NS["rim"]})
    root.append(registry_object_list(objects))
    return root


@dataclass(frozen=True, slots=True)
class UpdateRequest:
    """A read ITI-57 request: its submission set, new metadata versions and status changes."""

    submission_set: SubmissionSet | None
    entries: tuple[DocumentEntry, ...]
    status_changes: tuple[StatusChange, ...]
    previous_versions: dict[str, str]

    @property
    def is_status_change(self) -> bool:
        return bool(self.status_changes) and not self.entries


def read_update_request(body: etree._Element) -> UpdateRequest:
    """Read an ITI-57 body (lenient on the objects, see :mod:`dmpclient.xds.ebrim`).

    Raises:
        DmpProtocolError: not an ``lcm:SubmitObjectsRequest``.
    """
    if body.tag != _T_SUBMIT:
        raise DmpProtocolError("ITI-57: expected an lcm:SubmitObjectsRequest")
    objects = read_registry_objects(body)
    changes = tuple(
        StatusChange(a.target, a.original_status or "", a.new_status or "")
        for a in objects.associations
        if a.association_type == AssociationType.UPDATE_AVAILABILITY_STATUS
    )
    previous = {
        a.target: a.previous_version
        for a in objects.associations
        if a.association_type == AssociationType.HAS_MEMBER and a.previous_version
    }
    submission_set = objects.submission_sets[0] if objects.submission_sets else None
    return UpdateRequest(submission_set, objects.documents, changes, previous)
