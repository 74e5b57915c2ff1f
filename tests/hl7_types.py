"""Validate the data-typed elements of an HL7v3 message against ``hl7v3/hl7v3-datatypes.xsd`` (shared schemas).

The shared folder keeps the HL7 V3 data types (II, TS, CS, CE, PN, AD, TEL, BL, INT…) but no PRPA message
schema. So each element whose HL7 type is known from its place in the message (``birthTime`` is a TS, a
``patientIdentifier/value`` an II…) is copied under a checking element of type ``xs:anyType`` with
``xsi:type`` set to that HL7 type (its own ``xsi:type`` when it has one), and validated: attributes, their
value patterns (OIDs, time stamps, codes, use codes) and the parts of names and addresses are checked. Every
other element must be a known structural one, so that no data element escapes the check unnoticed.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Final

from lxml import etree

from tests.conftest import SCHEMAS

__all__ = ["assert_hl7_datatypes"]

HL7: Final = "urn:hl7-org:v3"
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
_CHECK_NS: Final = "urn:dmpclient:test:hl7-datatypes"

#: HL7 type of an element, by local name, or by "parent/local" when the name alone is ambiguous.
TYPES: Final = {
    "id": "II",
    "creationTime": "TS",
    "interactionId": "II",
    "processingCode": "CS",
    "processingModeCode": "CS",
    "acceptAckCode": "CS",
    "softwareName": "SC",
    "keyWordText": "SC",
    "reasonCode": "CE",
    "code": "CE",
    "statusCode": "CS",
    "queryId": "II",
    "semanticsText": "ST",
    "queryResponseCode": "CS",
    "resultTotalQuantity": "INT",
    "resultCurrentQuantity": "INT",
    "resultRemainingQuantity": "INT",
    "initialQuantity": "INT",
    "responseModalityCode": "CS",
    "name": "PN",
    "telecom": "TEL",
    "addr": "AD",
    "administrativeGenderCode": "CE",
    "birthTime": "TS",
    "deceasedInd": "BL",
    "effectiveTime": "IVL_TS",
    "text": "ED",
    "acknowledgement/typeCode": "CS",
    "patientIdentifier/value": "II",
    "livingSubjectId/value": "II",
    "livingSubjectName/value": "PN",
    "livingSubjectAdministrativeGender/value": "CE",
    "livingSubjectBirthTime/value": "IVL_TS",
    "patientAddress/value": "AD",
    "representedOrganization/name": "ON",
    "queryMatchObservation/value": "INT",
}
#: Elements that only group others (no data type of their own).
STRUCTURAL: Final = frozenset(
    {
        "PRPA_IN201305UV02",
        "PRPA_IN201306UV02",
        "PRPA_IN201307UV02",
        "PRPA_IN201308UV02",
        "PRPA_IN201314UV02",
        "PRPA_IN201315UV02",
        "PRPA_IN201316UV02",
        "receiver",
        "sender",
        "device",
        "attentionLine",
        "acknowledgement",
        "targetMessage",
        "acknowledgementDetail",
        "controlActProcess",
        "queryByParameter",
        "parameterList",
        "patientIdentifier",
        "livingSubjectId",
        "livingSubjectName",
        "livingSubjectAdministrativeGender",
        "livingSubjectBirthTime",
        "patientAddress",
        "subject",
        "registrationEvent",
        "registrationRequest",
        "subject1",
        "patient",
        "patientPerson",
        "personalRelationship",
        "relationshipHolder1",
        "birthPlace",
        "subjectOf",
        "subjectOf1",
        "subjectOf2",
        "administrativeObservation",
        "queryMatchObservation",
        "custodian",
        "assignedEntity",
        "assignedPerson",
        "representedOrganization",
        "author",
        "queryAck",
    }
)


@cache
def _schema() -> etree.XMLSchema:
    datatypes = (SCHEMAS / "hl7v3" / "hl7v3-datatypes.xsd").resolve().as_uri()
    text = f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="{_CHECK_NS}"
        elementFormDefault="qualified">
      <xs:import namespace="{HL7}" schemaLocation="{datatypes}"/>
      <xs:element name="check" type="xs:anyType"/>
    </xs:schema>"""
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    return etree.XMLSchema(etree.fromstring(text.encode(), parser))


def _hl7_type(element: etree._Element) -> str | None:
    local = etree.QName(element).localname
    parent = element.getparent()
    parent_local = etree.QName(parent).localname if parent is not None else ""
    own = element.get(f"{{{XSI}}}type")
    if own:
        return own.rpartition(":")[2]
    return TYPES.get(f"{parent_local}/{local}") or TYPES.get(local)


def _check(element: etree._Element, hl7_type: str) -> list[str]:
    checked = etree.Element(f"{{{_CHECK_NS}}}check", nsmap={"hl7": HL7, "xsi": XSI})
    for name, value in element.attrib.items():
        if name != f"{{{XSI}}}type":
            checked.set(name, value)
    checked.set(f"{{{XSI}}}type", f"hl7:{hl7_type}")
    checked.text = element.text
    for part in element:
        checked.append(copy.deepcopy(part))
    schema = _schema()
    if schema.validate(checked):
        return []
    where = etree.QName(element).localname
    return [f"{where} as {hl7_type} (line {element.sourceline}): {e.message}" for e in schema.error_log]


def assert_hl7_datatypes(message: etree._Element) -> int:
    """Validate every data-typed element of ``message``; returns how many were checked.

    Raises:
        AssertionError: an element is invalid for its type, or is neither typed nor structural.
    """
    errors: list[str] = []
    checked = 0
    stack = [message]
    while stack:
        element = stack.pop()
        if not isinstance(element.tag, str):
            continue
        if etree.QName(element).namespace != HL7:
            errors.append(f"{element.tag} is not in the HL7 namespace")
            continue
        hl7_type = None if element is message else _hl7_type(element)
        if hl7_type is not None:
            errors.extend(_check(element, hl7_type))
            checked += 1
            continue  # its parts belong to its type
        if etree.QName(element).localname not in STRUCTURAL:
            errors.append(f"{etree.QName(element).localname}: neither a known data type nor a structural element")
            continue
        stack.extend(element)
    assert not errors, "\n".join(errors[:10])
    return checked
