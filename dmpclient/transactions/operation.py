"""``Operation``: one call of a DMP transaction as pure data (its spec, the body, the patient, attachments).

Built by the functions of :mod:`dmpclient.transactions` without any I/O (a
:class:`~dmpclient.transactions.spec.TransactionSpec` and a request body); the clients attach the VIHF,
send it and decode the answer with ``spec.decode`` (architecture: sans-I/O).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from lxml import etree

from dmpclient.soap.mtom import OutgoingPart

if TYPE_CHECKING:
    from dmpclient.soap.response import Response
    from dmpclient.transactions.spec import TransactionSpec

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
    """A prepared call of one transaction (build it with :meth:`TransactionSpec.operation`).

    Attributes:
        spec: what the protocol says about this transaction (service, actions, rights, decoder…).
        body: the SOAP body element.
        patient: the patient addressed, if any (VIHF ``resource-id``).
        attachments: MTOM parts (TD2.1).
    """

    spec: TransactionSpec[T]
    body: etree._Element
    patient: PatientRef | None = None
    attachments: tuple[OutgoingPart, ...] = ()

    @property
    def td(self) -> str:
        return self.spec.td

    def parse(self, response: Response) -> T:
        """The typed result of the answer (the decoder of the spec)."""
        return self.spec.decode(response)
