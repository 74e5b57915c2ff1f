"""``Operation``: one DMP transaction as pure data (what to send, how to read the answer).

Built by the functions of :mod:`dmpclient.transactions` without any I/O; the sync and async clients
attach the VIHF, send it, and call :attr:`Operation.parse` on the answer (architecture: sans-I/O).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from lxml import etree

from dmpclient.soap.envelope import SoapMessage
from dmpclient.soap.mtom import OutgoingPart
from dmpclient.transactions.rights import RightsAction

__all__ = ["Operation", "PatientRef"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PatientRef:
    """The patient a transaction is about: INS and its OID (becomes the VIHF ``resource-id``)."""

    ins: str
    oid: str

    def __repr__(self) -> str:  # an INS never reaches a log or a traceback in clear
        return f"PatientRef(ins='…{self.ins[-4:]}', oid={self.oid!r})"


@dataclass(frozen=True, slots=True)
class Operation(Generic[T]):
    """A prepared DMP transaction.

    Attributes:
        td: the DMP transaction number (``"TD0.2"``), for logs, errors and rights.
        service: path suffix under ``/si-dmp-server/v2/services/``.
        action: the ``wsa:Action`` to send (reference §3.0).
        body: the SOAP body element.
        parse: turns the answer into the typed result (raises business errors).
        idempotent: reads may be retried by an opt-in policy; writes never are.
        patient: the patient addressed, if any (VIHF resource-id).
        rights: the row of the official rights matrices this call falls under (local pre-check).
        attachments: MTOM parts (TD2.1).
    """

    td: str
    service: str
    action: str
    body: etree._Element
    parse: Callable[[SoapMessage], T]
    idempotent: bool
    patient: PatientRef | None = None
    rights: RightsAction | None = None
    attachments: tuple[OutgoingPart, ...] = ()
