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

from cryptography import x509

from dmpclient.config import DmpConfig
from dmpclient.errors import DmpError, DmpRightsPrecheckError, DmpValidationError
from dmpclient.hl7v3.patient_update import UpdateAuthor, author_specialty
from dmpclient.hl7v3.person import split_person_name
from dmpclient.hl7v3.wrapper import Device
from dmpclient.ids import validate_oid
from dmpclient.security.issuer import CallerIdentity, VihfIssuer
from dmpclient.security.vihf import AuthMode, LpsIdentity, PatientId, SoftwareSigner, Structure
from dmpclient.security.xades import SubmissionSigner
from dmpclient.soap.envelope import MustUnderstandStyle
from dmpclient.soap.request import PreparedRequest, prepare_request
from dmpclient.transactions import webps
from dmpclient.transactions.context import CallContext
from dmpclient.transactions.operation import Operation
from dmpclient.transactions.rights import CallerProfile, Decision, RightsAction, caller_column, decide_for
from dmpclient.transactions.spec import TransactionSpec
from dmpclient.transactions.webps import LaunchRequest, WebPsPage

__all__ = [
    "Preparation",
    "caller_profile",
    "effective_mode",
    "issuer_from_config",
    "precheck_decisions",
    "update_author",
]


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


def update_author(config: DmpConfig, identity: CallerIdentity) -> UpdateAuthor:
    """TD1.3b ``author/assignedEntity`` of the acting user: national id, name (VIHF ``subject-id``), specialty
    and the configured structure."""
    actor = identity.actor
    family, given = split_person_name(actor.subject_id)
    return UpdateAuthor(
        ps_id=actor.national_id,
        family=family,
        given=given,
        structure_id=config.structure.id,
        structure_name=config.structure.name or None,
        specialty=author_specialty(actor.profession.code, actor.savoir_faire.code if actor.savoir_faire else None),
    )


def effective_mode(spec: TransactionSpec[Any], identity: CallerIdentity) -> AuthMode:
    """The VIHF mode of one call: the identity's, except where the transaction forces another over AIR.

    Feeding is refused in AIR (606) and allowed to the establishment certificate (526), so a structure
    that consults in AIR feeds in ``INDIRECTE`` (reference §8.3); a card holder feeds in ``DIRECTE``.
    """
    if spec.forced_mode is not None and identity.mode is AuthMode.AIR:
        return AuthMode(spec.forced_mode)
    return identity.mode


def _profile(identity: CallerIdentity, mode: AuthMode, *, treating: bool) -> CallerProfile:
    actor = identity.actor
    specialty = actor.savoir_faire.code if actor.savoir_faire else None
    return CallerProfile(
        mode.value, actor.profession.code, specialty, identity.purpose.value, treating_physician=treating
    )


def caller_profile(spec: TransactionSpec[Any], identity: CallerIdentity, *, treating: bool) -> CallerProfile:
    """What the rights column depends on, as the client knows it (the mock reads the same from the VIHF)."""
    return _profile(identity, effective_mode(spec, identity), treating=treating)


def _decisions(row: RightsAction, identity: CallerIdentity, mode: AuthMode) -> list[Decision]:
    """The verdicts on one row as non-MT and as MT (the client cannot know the DMP's MT record)."""
    return [decide_for(row, _profile(identity, mode, treating=mt)) for mt in (False, True)]


def precheck_decisions(op: Operation[Any], identity: CallerIdentity) -> list[Decision]:
    """The matrix verdicts for this call, as non-MT and as MT (the client cannot know the DMP's MT record),
    each on the row the mock gate would check for that column (``TransactionSpec.rights_row``)."""
    mode = effective_mode(op.spec, identity)
    decisions = []
    for treating in (False, True):
        profile = _profile(identity, mode, treating=treating)
        row = op.spec.rights_row(op.body, caller_column(profile)[0])
        if row is not None:
            decisions.append(decide_for(row, profile))
    return decisions


def _require_allowed(decisions: list[Decision], td: str) -> None:
    """Refuse what the matrices refuse whatever the caller's MT status (§8); nothing is sent."""
    if decisions and not any(decision.allowed for decision in decisions):
        raise DmpRightsPrecheckError(
            f"the DMP rights matrices refuse this call: {decisions[0].reason} (pass precheck=False to send anyway)",
            td=td,
        )


class Preparation:
    """Who calls, for which software, and what the matrices allow: a call up to its bytes, without a socket."""

    def __init__(
        self,
        config: DmpConfig,
        clock: Callable[[], dt.datetime],
        issuer: VihfIssuer | None,
        submission_signer: SubmissionSigner | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self._issuer = issuer
        self._issuer_from_config = issuer is None
        self._submission_signer = submission_signer
        self._context: CallContext | None = None

    @property
    def issuer(self) -> VihfIssuer:
        """The VIHF issuer of the configuration (signing key loaded once, on first use)."""
        if self._issuer is None:
            self._issuer = issuer_from_config(self.config)
        return self._issuer

    @property
    def submission_signer(self) -> SubmissionSigner:
        """The XAdES signer of submissions (§5.4): the VIHF's key; with the configured ORG SIGN, its chain."""
        if self._submission_signer is None:
            chain: tuple[x509.Certificate, ...] = ()
            if self._issuer_from_config and self.config.credentials.signing is not None:
                chain = self.config.load_signing_credential().chain
            self._submission_signer = SubmissionSigner(self.issuer.signer, chain=chain)
        return self._submission_signer

    def context(self) -> CallContext:
        """What operation builders need: the LPS device, the clock, ids, the HL7 processing code."""
        if self._context is None:
            self._context = CallContext(
                self._lps_device(),
                clock=self.clock,
                processing_code=self.config.wire.hl7_processing_code,
                oid_root=self.config.lps.id,  # uniqueIds of submissions are minted under the software's OID
            )
        return self._context

    def precheck(self, op: Operation[Any], identity: CallerIdentity) -> None:
        """Refuse locally what the official matrices refuse whatever the caller's MT status (§8)."""
        _require_allowed(precheck_decisions(op, identity), op.td)

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

    def web_launch(
        self,
        page: WebPsPage | str,
        identity: CallerIdentity,
        *,
        patient: PatientId | None,
        relay_state: str | None,
        precheck: bool = True,
    ) -> LaunchRequest:
        """TD0.10: a fresh AIR VIHF for the web PS, checked against 606 first (no I/O; signing may use a card)."""
        if identity.mode is not AuthMode.AIR:
            raise DmpValidationError(
                "TD0.10 is the contextual access in AIR; with a card or e-CPS open webps_url (TD0.9) instead",
                field="identity.mode",
            )
        ins = patient.ins if patient is not None else None
        webps.check_page(page, ins)  # before signing: a card may prompt for its PIN
        if precheck:
            _require_allowed(_decisions(RightsAction.TD0_10_ACCES_WEB_AIR, identity, AuthMode.AIR), "TD0.10")
        assertion = self.issuer.issue(identity, patient, now=self.clock(), mode=AuthMode.AIR)
        return webps.air_launch(self.config.webps_base, page, assertion, ins=ins, relay_state=relay_state)

    def _lps_device(self) -> Device | None:
        """The HL7v3 sender device, when ``lps.id`` is the software's OID."""
        try:
            return Device(validate_oid(self.config.lps.id, field="lps.id"), self.config.lps.nom)
        except DmpError:
            return None
