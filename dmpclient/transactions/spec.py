"""``TransactionSpec``: everything the protocol says about one DMP transaction, declared once.

A spec is the single source of the facts the client and the mock must agree on (reference §1.2, §3.0,
§8): the TD number, the service, the request root (and HL7 reason code where roots are shared), the
``wsa:Action`` values, the rights-matrix rows, idempotence, the VIHF mode it forces, how the request
names its patient, and the response decoder. The client builds its :class:`~.operation.Operation`
from it and the mock builds its route from it, so neither can drift from the other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from lxml import etree

from dmpclient.errors import DmpProtocolError
from dmpclient.soap.mtom import OutgoingPart
from dmpclient.transactions.operation import Operation, PatientRef
from dmpclient.transactions.rights import MatrixActor, RightsAction

if TYPE_CHECKING:
    from dmpclient.soap.response import Response

__all__ = ["FEEDING_MODE", "PatientBlock", "Service", "TransactionSpec"]

T = TypeVar("T")

#: ``Authentification_mode`` forced for feeding: 606 refuses TD2.1 in AIR, 526 allows it for the
#: establishment certificate (reference §8.3).
FEEDING_MODE = "INDIRECTE"


class Service(StrEnum):
    """Path suffixes of ``/si-dmp-server/v2/services/{service}`` (reference §1.2)."""

    PATIENTS = "patients"
    PATIENTS_PDQ = "patientsPDQ"
    PATIENTS_SPECIFIC = "patientsSpecific"
    HABILITATIONS = "habilitations"
    REGISTRY = "registry"
    REPOSITORY = "repository"


class PatientBlock(StrEnum):
    """How a transaction names its patient (the VIHF ``resource-id`` must agree, reference §2.7)."""

    NONE = "none"  # no patient (TD0.4, TD0.5): no resource-id
    BODY = "body"  # the body names the patient; the VIHF resource-id must name the same one
    VIHF = "vihf"  # only the VIHF resource-id names the patient (TD0.3, TD1.6)


@dataclass(frozen=True, slots=True)
class TransactionSpec(Generic[T]):
    """One DMP transaction as the protocol defines it.

    Attributes:
        td: the DMP transaction number (``"TD0.2"``).
        title: its French name, as the reference gives it.
        service: the service path it is sent to.
        request_root: the request body's root element (Clark notation ``{ns}local``).
        request_action: the ``wsa:Action`` to send.
        response_action: the ``wsa:Action`` of the answer.
        decode: reads the answer (SOAP message + MTOM attachments) into the typed result; raises business
            errors (non-AA acknowledgement, registry errors…) as :class:`~dmpclient.errors.DmpError`.
        rights: every row of the rights matrices this transaction may fall under (the first is the row
            the gate checks unless ``select_rights`` says otherwise).
        idempotent: whether an unanswered call may be re-sent by the retry policy (reads only).
        reason_code: the HL7v3 ``controlActProcess/reasonCode`` when several TDs share a root.
        forced_mode: the VIHF ``Authentification_mode`` this TD always uses (feeding: ``INDIRECTE``).
        patient: how the request names its patient.
        body_patient: reads the patient named by a request body (INS, OID) when ``patient`` is BODY.
        select_rights: the row for a given request body when it depends on the body (TD0.3 add/remove).
        actor_rights: the row for callers of a given matrix column when it is not the body's row: TD2.2 for a
            CPE feeding (same message as TD2.1, reference §3.14, §5.7.9). Read by :meth:`rights_row`, so the
            client pre-check and the mock gate pick the same row.
        reports_block: a patient's block of the caller is reported in the answer instead of refused (TD0.2).
        alternate_actions: other request actions a server accepts for the same body (WSDL ``soapAction``).
        mtom_request: the request carries MTOM attachments (TD2.1).
        mtom_response: the answer is MTOM (TD3.2).
        read_request: the request codec's parser (what the mock reads from a body; ``dmp inspect`` too).
    """

    td: str
    title: str
    service: Service
    request_root: str
    request_action: str
    response_action: str
    decode: Callable[[Response], T]
    rights: tuple[RightsAction, ...]
    idempotent: bool
    reason_code: str | None = None
    forced_mode: str | None = None
    patient: PatientBlock = PatientBlock.BODY
    body_patient: Callable[[etree._Element], PatientRef | None] | None = None
    select_rights: Callable[[etree._Element], RightsAction] | None = None
    actor_rights: tuple[tuple[MatrixActor, RightsAction], ...] = ()
    reports_block: bool = False
    alternate_actions: tuple[str, ...] = ()
    mtom_request: bool = False
    mtom_response: bool = False
    read_request: Callable[[etree._Element], Any] | None = None

    @property
    def route_key(self) -> tuple[str, str, str | None]:
        """How a server recognises this transaction: service, body root, HL7 reason code."""
        return (self.service.value, self.request_root, self.reason_code)

    @property
    def accepted_actions(self) -> frozenset[str]:
        """Request ``wsa:Action`` values that name this transaction (reference §3.0)."""
        return frozenset((self.request_action, *self.alternate_actions))

    def rights_row(self, body: etree._Element, actor: MatrixActor | None = None) -> RightsAction | None:
        """The matrix row a request body falls under for a caller of this matrix column (``None`` when the TD
        has no row); without ``actor``, the body's row."""
        for column, row in self.actor_rights:
            if column is actor:
                return row
        if self.select_rights is not None:
            return self.select_rights(body)
        return self.rights[0] if self.rights else None

    def patient_of(self, body: etree._Element) -> PatientRef | None:
        """The patient a request body names (``None`` when the body names none)."""
        return self.body_patient(body) if self.body_patient is not None else None

    def operation(
        self,
        body: etree._Element,
        *,
        patient: PatientRef | None = None,
        attachments: Sequence[OutgoingPart] = (),
        decoder: Callable[[Response], T] | None = None,
    ) -> Operation[T]:
        """A ready-to-send :class:`~.operation.Operation` of this transaction.

        Raises:
            DmpProtocolError: the body is not this transaction's request (a builder bug).
        """
        if body.tag != self.request_root:
            raise DmpProtocolError(f"{self.td}: built a {body.tag} body, expected {self.request_root}", td=self.td)
        if self.patient is not PatientBlock.NONE and patient is None:
            raise DmpProtocolError(f"{self.td}: the operation names no patient (VIHF resource-id)", td=self.td)
        return Operation(self, body, patient, tuple(attachments), decoder)
