"""A CDA R2 header reader: what a consuming system needs to integrate a document and its versions (§7).

The document is untrusted input (downloaded, or received by any flow): it is parsed with the hardened
parser (no DTD, no entity, no network, size-bounded) and read defensively — a missing element is
``None``, never an exception, except for the document id without which nothing can be decided.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from lxml import etree
from pydantic import BaseModel, ConfigDict

from dmpclient._xml import NS, XmlBudget, parse_untrusted
from dmpclient.codes import Code
from dmpclient.errors import DmpProtocolError
from dmpclient.ids import parse_decimal
from dmpclient.xds.identifiers import parse_dtm

__all__ = ["CDA_BUDGET", "MAX_CDA_BYTES", "CdaHeader", "instance_id", "read_cda_header"]

#: Largest CDA accepted by the header reader (a level-1 CDA embeds its PDF in base64).
MAX_CDA_BYTES: Final = 128 * 1024 * 1024
#: What a CDA may cost to parse (fed or received): the hardened parser's defaults, except the number of
#: elements and attributes and the length of one text. A structured 10 MB lab report holds ~630,000 elements and
#: attributes (~16 bytes each), over the SOAP default of 500,000; 2,000,000 admit ~32 MB of dense structure
#: (~300 MB of tree at worst). A level-1 CDA holds its document in one base64 text node, as long as the CDA
#: allows (a 10 MB PDF is 13.4 MB of text, over libxml2's own 10 MB limit; memory stays linear in the bytes).
CDA_BUDGET: Final = XmlBudget(max_bytes=MAX_CDA_BYTES, max_nodes=2_000_000, max_text=MAX_CDA_BYTES)
_HL7: Final = NS["hl7"]


def _tag(local: str) -> str:
    return f"{{{_HL7}}}{local}"


class CdaHeader(BaseModel):
    """The CDA header fields the versioning rules and the integration need (reference §5.2, §7.1).

    Attributes:
        id: ``ClinicalDocument/id`` as ``root`` or ``root^extension`` (also the XDS uniqueId).
        set_id: ``setId`` (same for every version of a document), if present.
        version_number: ``versionNumber/@value`` as an integer, if present and numeric.
        replaces: the ``relatedDocument[@typeCode=RPLC]/parentDocument/id`` values (the replaced version).
    """

    model_config = ConfigDict(frozen=True)

    id: str
    set_id: str | None = None
    version_number: int | None = None
    replaces: tuple[str, ...] = ()
    title: str | None = None
    type_code: Code | None = None
    effective_time: dt.datetime | None = None
    confidentiality_code: str | None = None
    language_code: str | None = None
    patient_ids: tuple[str, ...] = ()

    @property
    def version_set(self) -> str:
        """The set this version belongs to: ``setId``, or its own id when there is none (§7.2, project design)."""
        return self.set_id or self.id

    @property
    def version(self) -> int:
        """The version number, 1 when absent (§7.2, project design)."""
        return self.version_number if self.version_number is not None else 1


def instance_id(element: etree._Element | None) -> str | None:
    """An HL7 ``II`` as ``root`` or ``root^extension`` (the XDS uniqueId convention, §5.2)."""
    if element is None:
        return None
    root = (element.get("root") or "").strip()
    extension = (element.get("extension") or "").strip()
    if not root:
        return None
    return f"{root}^{extension}" if extension else root


def _version(clinical: etree._Element) -> int | None:
    element = clinical.find(_tag("versionNumber"))
    value = (element.get("value") or "").strip() if element is not None else ""
    return parse_decimal(value, max_digits=9)


def _replaced(clinical: etree._Element) -> tuple[str, ...]:
    found = []
    for related in clinical.iterchildren(_tag("relatedDocument")):
        if related.get("typeCode") == "RPLC":
            for parent_id in related.iterfind(f"{_tag('parentDocument')}/{_tag('id')}"):
                value = instance_id(parent_id)
                if value:
                    found.append(value)
    return tuple(found)


def _code(element: etree._Element | None) -> Code | None:
    if element is None or not element.get("code"):
        return None
    return Code(element.get("code", ""), element.get("codeSystem", ""), element.get("displayName", ""))


def read_cda_header(data: bytes | etree._Element, *, max_bytes: int = MAX_CDA_BYTES) -> CdaHeader:
    """Read the header of a CDA R2 document (bytes received, or an element already parsed safely).

    Raises:
        DmpUnsafeXmlError: the bytes are not well-formed, too large, or declare a DTD.
        DmpProtocolError: not a ``ClinicalDocument``, or no usable ``id``.
    """
    clinical = (
        data if isinstance(data, etree._Element) else parse_untrusted(data, max_bytes=max_bytes, budget=CDA_BUDGET)
    )
    if clinical.tag != _tag("ClinicalDocument"):
        raise DmpProtocolError("not a CDA document: the root element is not hl7:ClinicalDocument")
    document_id = instance_id(clinical.find(_tag("id")))
    if document_id is None:
        raise DmpProtocolError("the CDA document has no id/@root: it cannot be versioned or integrated")
    effective = clinical.find(_tag("effectiveTime"))
    patients = [
        value
        for element in clinical.iterfind(f"{_tag('recordTarget')}/{_tag('patientRole')}/{_tag('id')}")
        if (value := instance_id(element))
    ]
    confidentiality = clinical.find(_tag("confidentialityCode"))
    language = clinical.find(_tag("languageCode"))
    title = clinical.findtext(_tag("title"))
    return CdaHeader(
        id=document_id,
        set_id=instance_id(clinical.find(_tag("setId"))),
        version_number=_version(clinical),
        replaces=_replaced(clinical),
        title=title.strip() if title else None,
        type_code=_code(clinical.find(_tag("code"))),
        effective_time=parse_dtm(effective.get("value", "")) if effective is not None else None,
        confidentiality_code=confidentiality.get("code") if confidentiality is not None else None,
        language_code=language.get("code") if language is not None else None,
        patient_ids=tuple(patients),
    )
