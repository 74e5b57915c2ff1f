"""ebRIM 3.0 element names and the XDS classification / identification schemes the codec shares.

The reader (:mod:`dmpclient.xds.ebrim_read`) and the writer (:mod:`dmpclient.xds.ebrim_write`) both use them;
the public codec is :mod:`dmpclient.xds.ebrim`.
"""

from __future__ import annotations

from typing import Final

from dmpclient._xml import NS
from dmpclient.xds.models import Association, DocumentEntry, Folder, ObjectRef, SubmissionSet

__all__ = [
    "ASSOCIATION_SLOTS",
    "FOLDER_NODE",
    "REFERENCE_ID_LIST",
    "RIM",
    "T_ASSOCIATION",
    "T_CLASSIFICATION",
    "T_DESCRIPTION",
    "T_EXTRINSIC",
    "T_IDENTIFIER",
    "T_LOCALIZED",
    "T_NAME",
    "T_OBJECT_LIST",
    "T_OBJECT_REF",
    "T_PACKAGE",
    "T_SLOT",
    "T_VALUE",
    "T_VALUE_LIST",
    "T_VERSION",
    "FolderScheme",
    "RegistryObject",
]

#: Any object of the model the codec writes.
RegistryObject = DocumentEntry | SubmissionSet | Folder | Association | ObjectRef

RIM: Final = NS["rim"]
T_SLOT: Final = f"{{{RIM}}}Slot"
T_VALUE_LIST: Final = f"{{{RIM}}}ValueList"
T_VALUE: Final = f"{{{RIM}}}Value"
T_NAME: Final = f"{{{RIM}}}Name"
T_DESCRIPTION: Final = f"{{{RIM}}}Description"
T_LOCALIZED: Final = f"{{{RIM}}}LocalizedString"
T_VERSION: Final = f"{{{RIM}}}VersionInfo"
T_CLASSIFICATION: Final = f"{{{RIM}}}Classification"
T_IDENTIFIER: Final = f"{{{RIM}}}ExternalIdentifier"
T_EXTRINSIC: Final = f"{{{RIM}}}ExtrinsicObject"
T_PACKAGE: Final = f"{{{RIM}}}RegistryPackage"
T_ASSOCIATION: Final = f"{{{RIM}}}Association"
T_OBJECT_REF: Final = f"{{{RIM}}}ObjectRef"
T_OBJECT_LIST: Final = f"{{{RIM}}}RegistryObjectList"

#: ``@classificationNode`` marking a RegistryPackage as a Folder (reference §4.3).
FOLDER_NODE: Final = "urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2"
#: The slot of accession / order / study ids (reference §4.6).
REFERENCE_ID_LIST: Final = "urn:ihe:iti:xds:2013:referenceIdList"
#: Association slots the model has fields for.
ASSOCIATION_SLOTS: Final = {
    "SubmissionSetStatus": "submission_set_status",
    "PreviousVersion": "previous_version",
    "OriginalStatus": "original_status",
    "NewStatus": "new_status",
}


class FolderScheme:
    """Classification / identification schemes of a Folder (reference §4.3; IHE standard)."""

    CODE_LIST: Final = "urn:uuid:1ba97051-7806-41a8-a48b-8fce7af683c5"
    PATIENT_ID: Final = "urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a"
    UNIQUE_ID: Final = "urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a"
