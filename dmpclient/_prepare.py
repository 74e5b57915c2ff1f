"""The caller's side of every call, shared by both clients: configuration glue, VIHF, rights pre-check.

Turns an :class:`~dmpclient.transactions.operation.Operation` and a
:class:`~dmpclient.security.issuer.CallerIdentity` into a
:class:`~dmpclient.soap.request.PreparedRequest`: the mode the transaction uses, a freshly signed VIHF
(AIR tokens are single-use), the envelope with the configured wire options. No I/O here (the signing
key is read once, lazily, through the configuration); :mod:`dmpclient._client` loops over the network.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from dmpclient.config import DmpConfig
from dmpclient.errors import DmpError, DmpRightsPrecheckError
from dmpclient.hl7v3.wrapper import Device
from dmpclient.ids import validate_oid
from dmpclient.security.issuer import CallerIdentity, VihfIssuer
from dmpclient.security.vihf import AuthMode, LpsIdentity, PatientId, SoftwareSigner, Structure
from dmpclient.soap.envelope import MustUnderstandStyle
from dmpclient.soap.request import PreparedRequest, prepare_request
from dmpclient.transactions.context import CallContext
from dmpclient.transactions.operation import Operation
from dmpclient.transactions.rights import CallerProfile, Decision, decide_for
from dmpclient.transactions.spec import TransactionSpec

__all__ = ["Preparation", "caller_profile", "effective_mode", "issuer_from_config", "precheck_decisions"]


def issuer_from_config(config: DmpConfig) -> VihfIssuer:
    """The VIHF issuer of a configuration: its signing credential, structure and LPS identity."""
    return VihfIssuer(
        SoftwareSigner.from_credential(config.load_signing_credential()),
        structure=Structure.of(config.structure.id, config.structure.secteur_activite),
        lps=LpsIdentity(
            nom=config.lps.nom,
            version=config.lps.version,
            homologation=config.lps.id_homologation_dmp,
            id=config.lps.id or None,
        ),
    )


def effective_mode(spec: TransactionSpec[Any], identity: CallerIdentity) -> AuthMode:
    """The VIHF mode of one call: the identity's, except where the transaction forces another over AIR.

    Feeding is refused in AIR (606) and allowed to the establishment certificate (526), so a structure
    that consults in AIR feeds in ``INDIRECTE`` (reference §8.3); a card holder feeds in ``DIRECTE``.
    """
    if spec.forced_mode is not None and identity.mode is AuthMode.AIR:
        return AuthMode(spec.forced_mode)
    return identity.mode


def caller_profile(spec: TransactionSpec[Any], identity: CallerIdentity, *, treating: bool) -> CallerProfile:
    """What the rights column depends on, as the client knows it (the mock reads the same from the VIHF)."""
    actor = identity.actor
    specialty = actor.savoir_faire.code if actor.savoir_faire else None
    mode = effective_mode(spec, identity).value
    return CallerProfile(mode, actor.profession.code, specialty, identity.purpose.value, treating_physician=treating)


def precheck_decisions(op: Operation[Any], identity: CallerIdentity) -> list[Decision]:
    """The matrix verdicts for this call, as non-MT and as MT (the client cannot know the MT status)."""
    row = op.spec.rights_row(op.body)
    if row is None:
        return []
    return [decide_for(row, caller_profile(op.spec, identity, treating=mt)) for mt in (False, True)]


class Preparation:
    """Who calls, for which software, and what the matrices allow: a call up to its bytes, without a socket."""

    def __init__(self, config: DmpConfig, clock: Callable[[], dt.datetime], issuer: VihfIssuer | None) -> None:
        self.config = config
        self.clock = clock
        self._issuer = issuer
        self._context: CallContext | None = None

    @property
    def issuer(self) -> VihfIssuer:
        """The VIHF issuer of the configuration (signing key loaded once, on first use)."""
        if self._issuer is None:
            self._issuer = issuer_from_config(self.config)
        return self._issuer

    def context(self) -> CallContext:
        """What operation builders need: the LPS device, the clock, ids, the HL7 processing code."""
        if self._context is None:
            self._context = CallContext(
                self._lps_device(), clock=self.clock, processing_code=self.config.wire.hl7_processing_code
            )
        return self._context

    def precheck(self, op: Operation[Any], identity: CallerIdentity) -> None:
        """Refuse locally what the official matrices refuse whatever the caller's MT status (§8)."""
        decisions = precheck_decisions(op, identity)
        if decisions and not any(decision.allowed for decision in decisions):
            raise DmpRightsPrecheckError(
                f"the DMP rights matrices refuse this call: {decisions[0].reason} (pass precheck=False to send anyway)",
                td=op.td,
            )

    def prepare(
        self,
        op: Operation[Any],
        identity: CallerIdentity | None,
        *,
        message_id: str,
        extra_headers: Mapping[str, str] | None = None,
    ) -> PreparedRequest:
        """The request of one attempt: a fresh VIHF (none when ``identity`` is None), same MessageID on retries."""
        spec = op.spec
        try:
            assertion = None
            if identity is not None:
                patient = PatientId(ins=op.patient.ins, oid=op.patient.oid) if op.patient else None
                mode = effective_mode(spec, identity)
                assertion = self.issuer.issue(identity, patient, now=self.clock(), mode=mode)
            return self.request(
                service=spec.service.value,
                td=spec.td,
                action=spec.request_action,
                body=op.body,
                message_id=message_id,
                assertion=assertion,
                idempotent=spec.idempotent,
                attachments=op.attachments,
                extra_headers=extra_headers,
            )
        except DmpError as exc:
            raise exc.with_context(td=spec.td, message_id=message_id) from None

    def request(self, *, service: str, **parts: Any) -> PreparedRequest:
        """:func:`~dmpclient.soap.request.prepare_request` with this configuration's URL and wire options."""
        wire = self.config.wire
        return prepare_request(
            url=self.config.service_url(service),
            service=service,
            to_endpoint=wire.wsa_to_endpoint,
            must_understand=MustUnderstandStyle(wire.must_understand),
            **parts,
        )

    def _lps_device(self) -> Device | None:
        """The HL7v3 sender device, when ``lps.id`` is the software's OID."""
        try:
            return Device(validate_oid(self.config.lps.id, field="lps.id"), self.config.lps.nom)
        except DmpError:
            return None
