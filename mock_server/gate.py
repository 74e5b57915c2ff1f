"""The mock's gate: who is calling (mutual TLS + VIHF) and may he do this (official rights matrices).

Every refusal is a SOAP fault with a DMP-style subcode and a French reason (reference §2.12, §8.3,
§9.2). The VIHF checks are dmpclient's own verifier; the rights are dmpclient's own matrices, so the
client's local pre-check and the mock can never disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from cryptography import x509
from lxml import etree

from dmpclient.errors import DmpSecurityError, DmpValidationError
from dmpclient.security.verify import VerificationPolicy, VihfRule, verify_vihf
from dmpclient.security.vihf import Vihf, certificate_dn
from dmpclient.soap.envelope import SoapMessage
from dmpclient.transactions.operation import PatientRef
from dmpclient.transactions.rights import (
    OCCUPATIONAL_SPECIALTIES,
    AccessMode,
    CallerProfile,
    Decision,
    RightsAction,
    caller_column,
    decide,
)
from dmpclient.transactions.spec import PatientBlock, TransactionSpec
from mock_server.context import Caller
from mock_server.errors import MockFault
from mock_server.nonconforming import warn_nonconforming
from mock_server.store import Store
from mock_server.store.records import AuthorisationStatus, Outcome, TraceEntry

__all__ = ["RIGHTS_SUBCODE", "BearerCheck", "Gate", "caller_profile"]

#: The one rights error name attested (reference §9.3); used for every refusal by the matrices.
RIGHTS_SUBCODE: Final = "DMPAccessDeniedByRightsService"
_VIHF_SUBCODE: Final = "DMPInvalidVihf"
_CERTIFICATE_SUBCODE: Final = "DMPInvalidCertificate"


#: ``(Authorization header or None, VIHF NameID, now)`` → nothing, or :class:`MockFault`.
BearerCheck = Callable[[str | None, str, dt.datetime], None]


def caller_profile(vihf: Vihf, *, treating: bool) -> CallerProfile:
    """What the rights column depends on, as the mock reads it from a verified VIHF (the client reads the
    same from the caller's identity: ``dmpclient._prepare.caller_profile``)."""
    specialty = vihf.savoir_faire.code if vihf.savoir_faire else None
    return CallerProfile(vihf.mode.value, vihf.profession.code, specialty, vihf.purpose.value, treating)


@dataclass(slots=True)
class Gate:
    """Authenticates (TLS client certificate + VIHF) and authorises (rights matrices, oppositions).

    Args:
        policy: the VIHF verification policy (trusted test CA, clock skew, AIR replay cache…).
        store: used to know whether the caller is the patient's treating physician, the patient's
            oppositions and whether the patient blocked the caller.
        occupational_specialties: savoir-faire codes mapped to the médecin du travail column.
    """

    policy: VerificationPolicy
    store: Store
    occupational_specialties: frozenset[str] = field(default=OCCUPATIONAL_SPECIALTIES)
    #: PSC mode (reference §11.5, project design): checks the ``Authorization`` header of a call against its
    #: verified VIHF NameID (``mock_server.psc.bearer.gate_check``); raises :class:`MockFault` to refuse.
    bearer_check: BearerCheck | None = None

    def authenticate(
        self,
        message: SoapMessage,
        certificate: x509.Certificate | None,
        now: dt.datetime,
        authorization: str | None = None,
    ) -> Caller:
        """Verify the VIHF against the TLS identity; return the caller or raise a fault.

        Fails closed: without a TLS client certificate in the scope the issuer cross-check cannot be
        made, so the VIHF is refused (the server always requires one; a misconfigured harness must not
        silently skip the check). The patient of the body is checked later by :meth:`authorize`, once
        the caller is known, so that such refusals are traced.
        """
        assertion = message.assertion
        if assertion is None:
            raise MockFault(_VIHF_SUBCODE, "Aucun VIHF dans l'en-tête wsse:Security")
        if certificate is None:
            raise MockFault(
                _CERTIFICATE_SUBCODE, "Le certificat ayant signé le VIHF est invalide : aucun certificat client TLS"
            )
        tls_subject = certificate_dn(certificate)
        try:
            verified = verify_vihf(assertion, self.policy, now=now, tls_client_subject=tls_subject)
        except DmpSecurityError as exc:
            # French reason first, then the verifier's rule and detail (never patient data), as the DMP
            # does ("Le certificat ayant signé le VIHF est invalide : Not a valid signature certificate").
            raise MockFault(exc.dmp_code, f"{VihfRule(exc.rule).reason_fr} ({exc.message})") from exc
        if assertion.prefix is None:
            warn_nonconforming("VIHF with SAML in the default namespace; the DMP examples use the saml2: prefix")
        if self.bearer_check is not None:
            self.bearer_check(authorization, verified.vihf.subject_name_id, now)
        return self.caller_of(verified.vihf, tls_subject, now)

    def caller_of(self, vihf: Vihf, tls_subject: str | None, now: dt.datetime) -> Caller:
        """The caller a verified VIHF speaks for: his matrix column, MT status, patient (also the web PS's)."""
        patient = PatientRef(vihf.patient.ins, vihf.patient.oid) if vihf.patient else None
        treating = self.store.treating_physician_of(patient.ins, now) if patient else None
        profile = caller_profile(vihf, treating=treating is not None and treating.subject_id == vihf.subject_name_id)
        actor, access_mode = caller_column(profile, occupational_specialties=self.occupational_specialties)
        return Caller(
            auth_mode=vihf.mode.value,
            ps_id=vihf.subject_name_id,
            structure_id=vihf.structure_id,
            profession=profile.profession,
            specialty=profile.specialty,
            purpose=vihf.purpose.value,
            actor=actor,
            access_mode=access_mode,
            patient=patient,
            tls_subject=tls_subject,
            treating_physician=profile.treating_physician,
            name=vihf.subject_id,
        )

    def authorize(
        self, caller: Caller, spec: TransactionSpec[Any], body: etree._Element, now: dt.datetime
    ) -> Decision | None:
        """Check the body's patient, the rights matrix row of the request and the patient's refusals (§2.9, §8).

        Returns:
            The matrix verdict (always allowed; its conditions are for the handler), or ``None`` when the
            transaction has no matrix row.
        """
        self._match_patient(caller, spec, body)
        row = spec.rights_row(body, caller.actor)  # the client's pre-check picks the same row
        decision = self.decide(caller, row) if row is not None else None
        if caller.patient is None:
            return decision
        self.check_patient_refusals(caller, caller.patient.ins, now, reports_block=spec.reports_block)
        return decision

    def check_patient_refusals(
        self, caller: Caller, ins: str, now: dt.datetime, *, reports_block: bool = False
    ) -> None:
        """The patient's oppositions to the caller's access mode, and his block of the caller (also used by the
        web PS entry, TD0.10)."""
        patient = self.store.get_patient(ins)
        if patient is None:
            return
        if caller.access_mode is AccessMode.BRIS_DE_GLACE and patient.opposition_bris_de_glace:
            raise MockFault(
                RIGHTS_SUBCODE,
                "Accès refusé : le patient s'est opposé à l'accès en mode bris de glace",
                refusal="DMPPatientOpposedBreakGlass",
            )
        if caller.access_mode is AccessMode.REGULATION and patient.opposition_acces_urgence:
            raise MockFault(
                RIGHTS_SUBCODE,
                "Accès refusé : le patient s'est opposé à l'accès par le centre de régulation",
                refusal="DMPPatientOpposedEmergencyAccess",
            )
        if not reports_block and self._blocked(caller, patient.ins, now):
            raise MockFault(
                RIGHTS_SUBCODE, "Accès refusé : le patient a bloqué ce professionnel", refusal="DMPProfessionalBlocked"
            )

    @staticmethod
    def _match_patient(caller: Caller, spec: TransactionSpec[Any], body: etree._Element) -> None:
        """The VIHF ``resource-id`` must name the patient of the body (INS, and OID when the body has one), and
        is required where it alone names the patient (TD0.3, TD1.6)."""
        if spec.patient is PatientBlock.VIHF and caller.patient is None:
            raise MockFault(_VIHF_SUBCODE, f"Le VIHF doit désigner le patient (resource-id) pour {spec.td}")
        found = spec.patient_of(body)
        if found is None:
            return
        vihf = caller.patient
        if vihf is None or vihf.ins != found.ins or (found.oid and vihf.oid != found.oid):
            raise MockFault(
                _VIHF_SUBCODE, "Le patient du VIHF (resource-id) ne correspond pas au patient de la requête"
            )

    @staticmethod
    def decide(caller: Caller, action: RightsAction) -> Decision:
        """The matrix verdict for this caller, or a rights fault saying why not (also used by the web PS)."""
        try:
            decision = decide(action, auth_mode=caller.auth_mode, actor=caller.actor, access_mode=caller.access_mode)
        except DmpValidationError as exc:
            raise MockFault(RIGHTS_SUBCODE, f"Accès refusé : {exc.message}") from exc
        if not decision.allowed:
            raise MockFault(RIGHTS_SUBCODE, f"Accès refusé par le service de gestion des droits : {decision.reason_fr}")
        return decision

    def _blocked(self, caller: Caller, ins: str, now: dt.datetime) -> bool:
        """The patient blocked this professional (TD0.2 reports it as ``INTERDIT``)."""
        status = self.store.authorisation_status(ins, caller.ps_id, caller.structure_id, now)
        return status is AuthorisationStatus.INTERDIT

    def trace(
        self,
        caller: Caller,
        td: str,
        now: dt.datetime,
        *,
        outcome: Outcome,
        detail: str = "",
        message_id: str | None = None,
    ) -> None:
        """Append to the access trace ("historique des accès" of the DMP)."""
        self.store.record_access(
            TraceEntry(
                at=now,
                td=td,
                outcome=outcome,
                ps_id=caller.ps_id,
                structure_id=caller.structure_id,
                auth_mode=caller.auth_mode,
                role=caller.profession,
                access_mode=caller.access_mode.value,
                patient_ins=caller.patient.ins if caller.patient else None,
                detail=detail or None,
                message_id=message_id,
            )
        )
