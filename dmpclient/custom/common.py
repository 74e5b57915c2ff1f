"""What the custom services share: qualified children, the ``output/status`` + ``context`` answer, dates.

The custom schemas are ``elementFormDefault="unqualified"`` but declare every child ``form="qualified"``, so
every element is in the service namespace (reference §1.3). Answers carry ``output/status`` (``DMPOk`` on
success; PKG-KIT compares it case-insensitively) and a free ``context`` text (reference §3.4, §9.3); any
other status is the typed business error of its code, whose message says what the user can do.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

from lxml import etree

from dmpclient.errors import DmpProtocolError, business_error
from dmpclient.ids import mask_ins

__all__ = [
    "HABILITATIONS",
    "PATIENTS",
    "STATUS_OK",
    "append_status",
    "child_text",
    "children",
    "children_text",
    "element",
    "format_date",
    "format_timestamp",
    "parse_timestamp",
    "read_output",
    "sub",
]

HABILITATIONS: Final = "urn:si-dmp-habilitations"
PATIENTS: Final = "urn:si-dmp-patients"
STATUS_OK: Final = "DMPOk"
_DIGITS: Final = re.compile(r"^[0-9]{8}(?:[0-9]{6})?$")


def element(namespace: str, local: str) -> etree._Element:
    """A root element of a custom service, with the prefix the examples use (``hab``/``pat``)."""
    prefix = "hab" if namespace == HABILITATIONS else "pat"
    return etree.Element(f"{{{namespace}}}{local}", nsmap={prefix: namespace})


def sub(parent: etree._Element, local: str, text: str | None = None) -> etree._Element:
    """A qualified child in the parent's namespace."""
    node = etree.SubElement(parent, f"{{{etree.QName(parent).namespace}}}{local}")
    if text is not None:
        node.text = text
    return node


def child_text(parent: etree._Element, local: str) -> str | None:
    """The stripped text of the first child ``local`` (qualified, or unqualified from lenient peers)."""
    namespace = etree.QName(parent).namespace
    node = parent.find(f"{{{namespace}}}{local}")
    if node is None:
        node = parent.find(local)
    if node is None:
        return None
    return (node.text or "").strip() or None


def children(parent: etree._Element, local: str, namespace: str | None = None) -> list[etree._Element]:
    """The children ``local`` in ``namespace`` (default: the parent's), else the unqualified ones a lenient peer
    sends."""
    namespace = namespace or etree.QName(parent).namespace
    return (parent.findall(f"{{{namespace}}}{local}") if namespace else []) or parent.findall(local)


def children_text(parent: etree._Element, local: str) -> tuple[str, ...]:
    """The stripped, non-empty texts of the children ``local`` (see :func:`children`)."""
    return tuple(text for node in children(parent, local) if (text := (node.text or "").strip()))


def format_timestamp(moment: dt.datetime) -> str:
    """``YYYYMMDDhhmmss`` in UTC (WSDL readme: dates are strings, UTC)."""
    if moment.tzinfo is None:
        raise ValueError("timestamps are UTC: give an aware datetime")
    return moment.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")


def format_date(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def parse_timestamp(text: str | None) -> dt.datetime | None:
    """``YYYYMMDD`` or ``YYYYMMDDhhmmss`` (UTC) → aware datetime; anything else → None (an odd date never loses
    an answer)."""
    if not text or not _DIGITS.match(text.strip()):
        return None
    value = text.strip()
    try:
        if len(value) == 8:
            return dt.datetime.strptime(value, "%Y%m%d").replace(tzinfo=dt.UTC)
        return dt.datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def append_status(output: etree._Element, status: str, context: str | None) -> None:
    """Close an ``output`` with ``status`` and ``context``, after its data children (reference §3.5, §3.13)."""
    sub(output, "status", status)
    if context is not None:
        sub(output, "context", context)


def read_output(body: etree._Element | None, *, namespace: str, response: str, td: str) -> tuple[etree._Element, str]:
    """The ``{response}/output`` of an answer and its context, once its status is ``DMPOk``.

    Raises:
        DmpProtocolError: the body is not ``{namespace}{response}`` or has no ``output``.
        DmpBusinessError: ``status`` is not ``DMPOk`` (a subclass for known codes: no DMP, closed DMP…).
    """
    if body is None or body.tag != f"{{{namespace}}}{response}":
        found = etree.QName(body).text if body is not None and isinstance(body.tag, str) else "nothing"
        raise DmpProtocolError(f"{td}: expected a {{{namespace}}}{response} answer, got {found}")
    output = body.find(f"{{{namespace}}}output")
    if output is None:
        output = body.find("output")
    if output is None:
        raise DmpProtocolError(f"{td}: {response} without output")
    status = child_text(output, "status")
    context = child_text(output, "context") or ""
    if status is None or status.casefold() != STATUS_OK.casefold():
        what = f"{td}: the DMP answered status {status or '(none)'}"
        raise business_error(status, mask_ins(context), what=what, td=td)
    return output, context
