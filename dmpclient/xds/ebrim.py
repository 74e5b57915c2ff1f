"""The ebRIM 3.0 codec of XDS metadata, both directions, shared by the client and the mock (reference §4).

Reading (:func:`read_registry_objects`) is lenient: namespace prefixes, comments and element order do not
matter; slots, classifications and identifiers the model has no field for are kept (``extra_*``);
``classifiedObject`` / ``registryObject`` may be missing on nested elements (official DMP messages omit
them); ``LocalizedString`` may carry any ``charset`` / ``xml:lang`` (``UTF8``/``FR`` in DMP examples);
classifications placed beside their object (IHE allows the submission-set marker there) are attached to
it. It reads each object in one pass over its children and builds the models with ``model_construct``:
it is on the path of every search answer (see ``benchmarks/bench_xds.py``).

Writing (:func:`document_entry_element` …) is strict: elements in schema order (``ebrs30/rim.xsd``),
values within the schema's lengths, XML-safe text, timezone-aware times; nested classification and
identifier ids derive from their object's id (UUID-5 under a ``urn:uuid:`` object, ``{id}-cl1``… under a
symbolic one), so output is reproducible. Symbolic object ids (``Document01``) are allowed for ITI-41.

The reader lives in :mod:`dmpclient.xds.ebrim_read`, the writer in :mod:`dmpclient.xds.ebrim_write`, the names
they share in :mod:`dmpclient.xds.rim`; this module is the codec's one public face.
"""

from __future__ import annotations

from dmpclient.xds.ebrim_read import read_registry_objects
from dmpclient.xds.ebrim_write import (
    association_element,
    document_entry_element,
    folder_element,
    object_ref_element,
    registry_object_element,
    registry_object_list,
    submission_set_element,
)
from dmpclient.xds.rim import FOLDER_NODE, FolderScheme, RegistryObject

__all__ = [
    "FOLDER_NODE",
    "FolderScheme",
    "RegistryObject",
    "association_element",
    "document_entry_element",
    "folder_element",
    "object_ref_element",
    "read_registry_objects",
    "registry_object_element",
    "registry_object_list",
    "submission_set_element",
]
