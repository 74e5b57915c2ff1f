"""``CallContext``: what every operation builder needs besides its own parameters.

The sending software (HL7v3 device), the clock, the id factory and the wire options of the body. Passing
them as one object keeps builders short and makes golden files reproducible: tests freeze the clock and
the ids (:meth:`CallContext.frozen`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from dmpclient.errors import DmpConfigError
from dmpclient.hl7v3.wrapper import Device

__all__ = ["CallContext", "new_uuid"]


def new_uuid() -> str:
    """A random UUID string (message, query and submission ids)."""
    return str(uuid.uuid4())


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class CallContext:
    """The sender, time and identity sources of a call.

    Attributes:
        lps: the sending software as an HL7v3 device (``lps.id`` OID + ``lps.nom``); ``None`` when the
            configuration gives no OID (then only the HL7v3 transactions are unavailable).
        clock: the current time (UTC, timezone-aware).
        new_id: a fresh identifier (a UUID string by default).
        processing_code: HL7v3 ``processingCode`` (``P`` production, ``D`` as in the official examples).
        oid_root: the OID arc under which the software mints uniqueIds (submissions, documents).
    """

    lps: Device | None
    clock: Callable[[], dt.datetime] = field(default=_utc_now)
    new_id: Callable[[], str] = field(default=new_uuid)
    processing_code: str = "P"
    oid_root: str = ""

    def now(self) -> dt.datetime:
        """The current time of this context."""
        return self.clock()

    def sender(self) -> Device:
        """The HL7v3 sender device.

        Raises:
            DmpConfigError: the configuration gives no OID for the software (``lps.id``).
        """
        if self.lps is None:
            raise DmpConfigError(
                "lps.id: HL7v3 transactions (TD0.2, TD0.5, TD1.x) identify the software by an OID; set lps.id to "
                "the OID of your LPS installation (e.g. 1.2.250.1.999.888.2 on test platforms)",
                field="lps.id",
            )
        return self.lps

    @classmethod
    def frozen(
        cls, lps: Device | None, now: dt.datetime, *, processing_code: str = "P", oid_root: str = ""
    ) -> CallContext:
        """A reproducible context: a fixed clock and ids ``00000000-0000-4000-8000-000000000001``, ``…2``…"""
        counter = itertools.count(1)
        return cls(
            lps,
            clock=lambda: now,
            new_id=lambda: f"00000000-0000-4000-8000-{next(counter):012d}",
            processing_code=processing_code,
            oid_root=oid_root or (lps.oid if lps else ""),
        )
