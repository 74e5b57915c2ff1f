"""Business refusals of the mock's custom and HL7v3 answers: a DMP that does not exist or is closed, a caller
without a valid authorisation. Codes other than ``DMPClosed`` are project design (reference §9.3); the client
maps each to its typed error (``dmpclient.errors.business_error``)."""

from __future__ import annotations

from typing import Final

from mock_server.store.records import AuthorisationStatus, DmpStatus, Patient

__all__ = ["Refusal", "authorisation_refusal", "dmp_refusal"]

#: (code, French context) of a refusal.
Refusal = tuple[str, str]

NO_DMP: Final = ("DMPPatientNotFound", "Aucun DMP n'existe pour ce patient")
CLOSED: Final = ("DMPClosed", "Le DMP du patient est fermé")


def dmp_refusal(patient: Patient | None) -> Refusal | None:
    """Why nothing can be done on this patient's DMP (none, or closed), or ``None``."""
    if patient is None or patient.dmp_status is DmpStatus.NONE:
        return NO_DMP
    if patient.dmp_status is DmpStatus.CLOSED:
        return CLOSED
    return None


def authorisation_refusal(status: AuthorisationStatus) -> Refusal | None:
    """Why the caller may not act as an authorised professional (expired, never authorised), or ``None``.

    ``INTERDIT`` never gets here: the gate refuses blocked professionals before any handler.
    """
    if status is AuthorisationStatus.EXPIRE:
        return ("DMPAuthorizationExpired", "Autorisation expirée")
    if status is AuthorisationStatus.NON_EXISTE:
        return ("DMPAuthorizationNotFound", "Le professionnel n'est pas autorisé sur ce DMP")
    return None
