"""Golden files: every message body we emit, built with a frozen clock and fixed ids, kept on disk.

A change to the wire shows up as a diff of ``tests/vectors/golden/*.xml``. To accept an intended change,
run the tests with ``DMP_UPDATE_GOLDEN=1`` and review the diff before committing it.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Final

from lxml import etree

from dmpclient.hl7v3.wrapper import Device
from dmpclient.transactions.context import CallContext

__all__ = ["GOLDEN_DIR", "GOLDEN_LPS", "GOLDEN_NOW", "assert_golden", "frozen_context", "pretty"]

GOLDEN_DIR: Final = Path(__file__).parent / "vectors" / "golden"
#: The instant every golden message is built at.
GOLDEN_NOW: Final = dt.datetime(2026, 1, 15, 9, 30, 0, 123000, tzinfo=dt.UTC)
#: The sending software of golden messages.
GOLDEN_LPS: Final = Device("1.2.250.1.999.888.2", "DMPCLIENT")
_UPDATE: Final = os.environ.get("DMP_UPDATE_GOLDEN") == "1"


def frozen_context() -> CallContext:
    """A reproducible call context: fixed clock, ids ``00000000-0000-4000-8000-00000000000N``."""
    return CallContext.frozen(GOLDEN_LPS, GOLDEN_NOW, oid_root="1.2.250.1.999.888.2.1")


def pretty(message: etree._Element | bytes) -> bytes:
    """A stable, readable serialisation (indented, UTF-8) of what is compared."""
    element = etree.fromstring(message) if isinstance(message, bytes) else message
    copy = etree.fromstring(etree.tostring(element))
    etree.indent(copy, space="  ")
    return etree.tostring(copy, encoding="utf-8", xml_declaration=False) + b"\n"


def assert_golden(name: str, message: etree._Element | bytes) -> None:
    """Compare ``message`` with ``tests/vectors/golden/<name>.xml`` (write it when updating)."""
    path = GOLDEN_DIR / f"{name}.xml"
    actual = pretty(message)
    if _UPDATE:
        path.write_bytes(actual)
        return
    if not path.exists():
        raise AssertionError(f"golden file {path} is missing: run the tests with DMP_UPDATE_GOLDEN=1, review, commit")
    expected = path.read_bytes()
    assert actual.decode() == expected.decode(), f"{name}: the emitted message differs from {path}"
