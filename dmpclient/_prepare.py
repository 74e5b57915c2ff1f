"""The caller's side of every call, shared by both clients: VIHF issuing, rights pre-check, HL7v3 context.

No I/O here (the signing key is read once, lazily, through the configuration); :mod:`dmpclient._client`
adds the HTTP part on top.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import TypedDict, TypeVar

from dmpclient.config import DmpConfig
from dmpclient.errors import DmpConfigError, DmpError, DmpRightsPrecheckError
from dmpclient.hl7v3.wrapper import Device
from dmpclient.ids import validate_oid
from dmpclient.security.issuer import CallerIdentity, VihfIssuer, effective_mode
from dmpclient.security.vihf import PatientId
from dmpclient.transactions.operation import Operation
from dmpclient.transactions.rights import access_mode_from_purpose, actor_from_roles, decide

__all__ = ["Hl7Context", "Preparation", "new_uuid"]

T = TypeVar("T")


class Hl7Context(TypedDict):
    """The keyword arguments every HL7v3 operation builder takes."""

    lps: Device
    now: dt.datetime
    new_id: Callable[[], str]
    processing_code: str


def new_uuid() -> str:
    """A random UUID string (HL7v3 message and query ids)."""
    return str(uuid.uuid4())


class Preparation:
    """Who calls and what the matrices allow: the part of a call that needs the configuration but no socket."""

    def __init__(self, config: DmpConfig, clock: Callable[[], dt.datetime], issuer: VihfIssuer | None) -> None:
        self.config = config
        self.clock = clock
        self._issuer = issuer

    @property
    def issuer(self) -> VihfIssuer:
        """The VIHF issuer of the configuration (signing key loaded once, on first use)."""
        if self._issuer is None:
            self._issuer = VihfIssuer.from_config(self.config)
        return self._issuer

    def assertion_source(self, op: Operation[T], identity: CallerIdentity) -> Callable[[], bytes]:
        """A fresh signed VIHF per attempt (AIR tokens are single-use, EX_AIR-040)."""
        patient = PatientId(ins=op.patient.ins, oid=op.patient.oid) if op.patient else None
        return lambda: self.issuer.issue(identity, patient, td=op.td, now=self.clock())

    def precheck(self, op: Operation[T], identity: CallerIdentity) -> None:
        """Refuse locally what the official matrices refuse whatever the caller's MT status (§8)."""
        if op.rights is None:
            return
        mode = effective_mode(identity, op.td).value
        decisions = [
            decide(
                op.rights,
                auth_mode=mode,
                actor=actor_from_roles(
                    identity.actor.profession.code,
                    is_treating_physician=treating,
                    is_occupational_physician=False,
                    auth_mode=mode,
                ),
                access_mode=access_mode_from_purpose(identity.purpose.value),
            )
            for treating in (False, True)
        ]
        if not any(decision.allowed for decision in decisions):
            raise DmpRightsPrecheckError(
                f"the DMP rights matrices refuse this call: {decisions[0].reason} (pass precheck=False to send anyway)",
                td=op.td,
            )

    def hl7_context(self) -> Hl7Context:
        """What every HL7v3 operation needs from the configuration and the clock."""
        return {
            "lps": self.lps_device(),
            "now": self.clock(),
            "new_id": new_uuid,
            "processing_code": self.config.wire.hl7_processing_code,
        }

    def lps_device(self) -> Device:
        """The HL7v3 sender device: ``lps.id`` must be the software's OID."""
        try:
            oid = validate_oid(self.config.lps.id, field="lps.id")
        except DmpError:
            raise DmpConfigError(
                "lps.id: HL7v3 transactions (TD0.2, TD1.x) identify the software by an OID; set lps.id to the OID "
                "of your LPS installation (e.g. 1.2.250.1.999.888.2 on test platforms)",
                field="lps.id",
            ) from None
        return Device(oid, self.config.lps.nom)
