"""What a mock handler receives (the request, the authenticated caller, the store) and returns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from dmpclient.security.verify import VerificationPolicy
from dmpclient.soap.envelope import SoapMessage
from dmpclient.soap.mtom import MtomDecoded, OutgoingPart
from dmpclient.transactions.operation import PatientRef
from dmpclient.transactions.rights import AccessMode, Decision, MatrixActor
from dmpclient.transactions.spec import TransactionSpec
from mock_server.store import Store
from mock_server.store.records import Outcome

__all__ = ["Caller", "Reply", "RequestContext"]


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller, from the verified VIHF and the TLS client certificate.

    Attributes:
        auth_mode: ``DIRECTE`` / ``INDIRECTE`` / ``INDIRECTE_RENFORCEE`` (wire value).
        ps_id: the VIHF ``Subject/NameID`` (national PS id, or the person responsible for a feed).
        structure_id: ``Identifiant_Structure``.
        profession: first role code (TRE_G15, or a non-PS producer code).
        actor / access_mode: the column of the rights matrices this caller falls in.
        patient: the VIHF ``resource-id`` patient, when present.
        treating_physician: the caller is that patient's médecin traitant DMP (from the store).
        name: the VIHF ``subject-id`` ("NOM Prénom" of the user), when present.
    """

    auth_mode: str
    ps_id: str
    structure_id: str
    profession: str | None
    specialty: str | None
    purpose: str
    actor: MatrixActor
    access_mode: AccessMode
    patient: PatientRef | None
    tls_subject: str | None
    treating_physician: bool = False
    name: str | None = None

    def log_id(self) -> str:
        """Caller id for logs and traces (never a patient id)."""
        return f"{self.ps_id}@{self.structure_id}"


@dataclass(slots=True)
class RequestContext:
    """Everything a handler may use; handlers run inside one store transaction.

    Attributes:
        decision: the rights verdict of ``spec.rights_row(body)`` for this caller (``None`` when the route has no
            matrix row). It is always allowed here (refusals never reach a handler); when the cell is a
            conditional ``oui(N)``, ``decision.conditions`` lists the document-level notes the handler
            must enforce (e.g. ``OWN_DOCUMENTS`` for 606 oui(6), ``STRUCTURE_DOCUMENTS`` for oui(8)).
    """

    spec: TransactionSpec[Any]
    message: SoapMessage
    caller: Caller
    store: Store
    now: dt.datetime
    new_id: Callable[[], str]
    attachments: MtomDecoded | None = None
    decision: Decision | None = None
    #: the gate's verification policy: the CAs trusted for signatures inside bodies too (TD2.1 XAdES, §5.4)
    trust: VerificationPolicy | None = None

    @property
    def body(self) -> etree._Element:
        """The request body's root element (the router refused empty bodies)."""
        body = self.message.body
        if body is None:  # pragma: no cover - the router answers a fault first
            raise ValueError("request without a body")
        return body


@dataclass(frozen=True, slots=True)
class Reply:
    """A handler's answer: the response body element, MTOM parts if any, and a trace detail.

    ``outcome`` is what the access trace records: allowed by default; a handler answering an error in its
    body (an XDS Failure) or refusing some documents says so.
    """

    body: etree._Element
    attachments: tuple[OutgoingPart, ...] = ()
    detail: str = ""
    outcome: Outcome = Outcome.ALLOWED
