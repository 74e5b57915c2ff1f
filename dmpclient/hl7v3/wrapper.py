"""HL7v3 transmission wrapper shared by TD0.2, TD0.5 and TD1.x (reference §1.6), both directions.

Pure functions over lxml elements: the client builds requests and parses responses, the mock
parses requests and builds responses with the same code.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Final, cast

from lxml import etree

from dmpclient._xml import NS
from dmpclient.errors import DmpProtocolError
from dmpclient.ids import DMP_SYSTEM_OID

__all__ = [
    "DMP_DEVICE",
    "HL7",
    "INTERACTION_OID",
    "XSI",
    "Device",
    "WrapperIds",
    "acknowledgement",
    "answer_wrapper",
    "child",
    "el",
    "format_ts14",
    "parse_date",
    "read_sender",
    "read_wrapper",
    "request_wrapper",
    "sub",
    "text_of",
    "wrapper",
]

HL7: Final = NS["hl7"]
#: The XML Schema instance namespace (``xsi:type`` of HL7 data types).
XSI: Final = NS["xsi"]
INTERACTION_OID: Final = "2.16.840.1.113883.1.6"
# lxml accepts None as the default-namespace key; its stubs do not say so.
_TS_DIGITS: Final = re.compile(r"[0-9]+")
_NSMAP: Final = cast("dict[str, str]", {None: HL7, "xsi": XSI})


@dataclass(frozen=True, slots=True)
class Device:
    """A sender/receiver device of the wrapper (LPS or the DMP)."""

    oid: str
    name: str


DMP_DEVICE: Final = Device(DMP_SYSTEM_OID, "DMP")


@dataclass(frozen=True, slots=True)
class WrapperIds:
    """Identifiers read back from a wrapper: message id, interaction, acknowledged message id."""

    root: str
    extension: str | None
    interaction: str
    creation_time: str | None
    ack_type: str | None
    ack_target_root: str | None
    ack_target_extension: str | None


def format_ts14(now: dt.datetime) -> str:
    """HL7 ``TS`` with 14 digits (``YYYYMMDDhhmmss``), as the DMP examples use."""
    return now.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")


def parse_date(value: str) -> dt.date | None:
    """The calendar date of an HL7 TS (``YYYYMMDD[hhmm[ss]][±ZZZZ]``), or None when it has no full date.

    Partial precision (``1980``, ``198001``) and unknown parts (``19800000``) are legal HL7 and do not
    name a day: they give None rather than an error, so one odd birth date never loses a whole answer.
    """
    digits = _TS_DIGITS.match(value.strip())
    if digits is None or len(digits[0]) < 8:
        return None
    try:
        return dt.date(int(digits[0][:4]), int(digits[0][4:6]), int(digits[0][6:8]))
    except ValueError:
        return None


def el(tag: str, **attrs: str) -> etree._Element:
    """A new element in the HL7 namespace (the HL7v3 default namespace)."""
    return etree.Element(f"{{{HL7}}}{tag}", attrs, nsmap=_NSMAP)


def sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    """Append an HL7 child; ``xsi_type``/``xsi_nil`` keywords become ``xsi:type``/``xsi:nil``."""
    clean = {k: v for k, v in attrs.items() if not k.startswith("xsi_")}
    node = etree.SubElement(parent, f"{{{HL7}}}{tag}", clean)
    for key in ("xsi_type", "xsi_nil"):
        if key in attrs:
            node.set(f"{{{XSI}}}{key[4:]}", attrs[key])
    if text is not None:
        node.text = text
    return node


def child(parent: etree._Element, path: str) -> etree._Element | None:
    """First descendant along a ``/``-separated path of HL7 local names."""
    return parent.find("/".join(f"{{{HL7}}}{part}" for part in path.split("/")))


def text_of(parent: etree._Element, path: str, attr: str | None = None) -> str | None:
    """Text (or attribute ``attr``) of the element at ``path``, or None."""
    node = child(parent, path)
    if node is None:
        return None
    return node.get(attr) if attr else (node.text or "").strip() or None


def wrapper(
    interaction: str,
    *,
    message_root: str,
    message_extension: str | None,
    now: dt.datetime,
    sender: Device,
    receiver: Device,
    accept_ack: str,
    processing_code: str = "P",
) -> etree._Element:
    """The root element with the common wrapper children, ready for ``controlActProcess``."""
    root = el(interaction, ITSVersion="XML_1.0")
    ids = {"root": message_root} | ({"extension": message_extension} if message_extension else {})
    sub(root, "id", **ids)
    sub(root, "creationTime", value=format_ts14(now))
    sub(root, "interactionId", root=INTERACTION_OID, extension=interaction)
    sub(root, "processingCode", code=processing_code)
    sub(root, "processingModeCode", code="T")
    sub(root, "acceptAckCode", code=accept_ack)
    for role, device in (("receiver", receiver), ("sender", sender)):
        party = sub(root, role, typeCode="RCV" if role == "receiver" else "SND")
        node = sub(party, "device", classCode="DEV", determinerCode="INSTANCE")
        sub(node, "id", root=device.oid)
        sub(node, "softwareName", device.name)
    return root


def request_wrapper(
    interaction: str, *, sender: Device, message_id: str, now: dt.datetime, processing_code: str = "P"
) -> etree._Element:
    """The wrapper of a request from the LPS to the DMP: id ``(LPS OID, message_id)``, ``acceptAckCode`` AL."""
    return wrapper(
        interaction,
        message_root=sender.oid,
        message_extension=message_id,
        now=now,
        sender=sender,
        receiver=DMP_DEVICE,
        accept_ack="AL",
        processing_code=processing_code,
    )


def answer_wrapper(interaction: str, *, receiver: Device, response_id: str, now: dt.datetime) -> etree._Element:
    """The wrapper of a DMP answer (mock side): id ``response_id``, ``acceptAckCode`` NE."""
    return wrapper(
        interaction,
        message_root=response_id,
        message_extension=None,
        now=now,
        sender=DMP_DEVICE,
        receiver=receiver,
        accept_ack="NE",
    )


def read_sender(root: etree._Element) -> Device:
    """The ``sender/device`` of a received message (the receiver of its answer)."""
    return Device(text_of(root, "sender/device/id", "root") or "", text_of(root, "sender/device/softwareName") or "")


def acknowledgement(root: etree._Element, type_code: str, target: tuple[str, str | None]) -> etree._Element:
    """Append ``acknowledgement/@typeCode`` + ``targetMessage/id`` (response side)."""
    ack = sub(root, "acknowledgement", typeCode=type_code)
    target_id = {"root": target[0]} | ({"extension": target[1]} if target[1] else {})
    sub(sub(ack, "targetMessage"), "id", **target_id)
    return ack


def read_wrapper(root: etree._Element) -> WrapperIds:
    """Read the wrapper of a received HL7v3 message; refuse non-HL7v3 roots clearly."""
    if etree.QName(root).namespace != HL7:
        raise DmpProtocolError(f"expected an HL7v3 message in {HL7}, got {etree.QName(root).text}")
    ident = child(root, "id")
    if ident is None or not ident.get("root"):
        raise DmpProtocolError("HL7v3 message without id/@root")
    target = child(root, "acknowledgement/targetMessage/id")
    return WrapperIds(
        root=ident.get("root", ""),
        extension=ident.get("extension"),
        interaction=text_of(root, "interactionId", "extension") or etree.QName(root).localname,
        creation_time=text_of(root, "creationTime", "value"),
        ack_type=text_of(root, "acknowledgement", "typeCode"),
        ack_target_root=target.get("root") if target is not None else None,
        ack_target_extension=target.get("extension") if target is not None else None,
    )
