"""``urn:si-dmp-habilitations``: TD0.3 ``setAuthorization`` and TD1.6 ``listAuthorizationByPatient``.

Both directions (reference §3.4, §3.13). Neither body names the patient: the VIHF ``resource-id`` does.

::

    hab:setAuthorization        hab:action AJOUT|SUPPRESSION, [hab:role MEDECIN_TRAITANT]
    → hab:setAuthorizationResponse/hab:output   hab:status DMPOk, hab:context
    hab:listAuthorizationByPatient              [hab:mode ACTIVE|INTERDITE|TOUTE]
    → hab:listAuthorizationByPatientResponse/hab:output
        hab:listOfAuthorizationByPatient × n    nationalId, nationalIdType, firstName, lastName,
                                                codeSpeciality × n, libSpeciality × n, startOfAuthorization,
                                                lastActionDate, mode, specificRight × n
        hab:status, hab:context
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from lxml import etree
from pydantic import BaseModel, ConfigDict, computed_field

from dmpclient.custom.common import (
    HABILITATIONS,
    STATUS_OK,
    append_status,
    child_text,
    children,
    children_text,
    element,
    format_timestamp,
    parse_timestamp,
    read_output,
    sub,
)
from dmpclient.errors import DmpProtocolError
from dmpclient.ids import PS_ID_OID, STRUCTURE_ID_OID

__all__ = [
    "LIST_REQUEST",
    "SET_REQUEST",
    "AuthorizationAction",
    "AuthorizationList",
    "AuthorizationListMode",
    "AuthorizationUpdate",
    "AuthorizedParty",
    "PartyKind",
    "SetAuthorizationRequest",
    "build_list_authorizations",
    "build_list_authorizations_response",
    "build_set_authorization",
    "build_set_authorization_response",
    "parse_list_authorizations",
    "parse_list_authorizations_response",
    "parse_set_authorization",
    "parse_set_authorization_response",
]

SET_REQUEST: Final = "setAuthorization"
LIST_REQUEST: Final = "listAuthorizationByPatient"
#: The ``role`` value that declares (or removes) the médecin traitant right.
TREATING_PHYSICIAN: Final = "MEDECIN_TRAITANT"


class AuthorizationAction(StrEnum):
    """TD0.3 ``action``."""

    ADD = "AJOUT"
    REMOVE = "SUPPRESSION"


class AuthorizationListMode(StrEnum):
    """TD1.6 ``mode``: authorised, blocked, or both."""

    ACTIVE = "ACTIVE"
    FORBIDDEN = "INTERDITE"
    ALL = "TOUTE"


class PartyKind(StrEnum):
    """Who holds an authorisation, from ``nationalIdType``."""

    PROFESSIONAL = "professional"
    STRUCTURE = "structure"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class SetAuthorizationRequest:
    """A parsed ``setAuthorization`` (mock side)."""

    action: AuthorizationAction
    treating_physician: bool


class AuthorizationUpdate(BaseModel):
    """The outcome of TD0.3: the DMP's status (``DMPOk``) and its ``context`` text, which says for instance
    "Autorisation déjà présente aucune action effectuée" when nothing had to change (refusals are errors)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: str = STATUS_OK
    context: str = ""


class AuthorizedParty(BaseModel):
    """One ``listOfAuthorizationByPatient`` entry: a professional (or a structure) and his authorisation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    national_id: str | None = None
    national_id_type: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    specialty_codes: tuple[str, ...] = ()
    specialty_labels: tuple[str, ...] = ()
    start: dt.datetime | None = None
    last_action: dt.datetime | None = None
    mode: str | None = None
    specific_rights: tuple[str, ...] = ()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def kind(self) -> PartyKind:
        """A professional (idNat_PS) or a structure (Struct_IdNat), from ``nationalIdType``."""
        return {PS_ID_OID: PartyKind.PROFESSIONAL, STRUCTURE_ID_OID: PartyKind.STRUCTURE}.get(
            self.national_id_type or "", PartyKind.UNKNOWN
        )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def blocked(self) -> bool:
        """The patient blocked this party (``mode`` INTERDITE)."""
        return self.mode == AuthorizationListMode.FORBIDDEN

    @computed_field  # type: ignore[prop-decorator]
    @property
    def treating_physician(self) -> bool:
        """The party is the patient's médecin traitant DMP (``specificRight`` MEDECIN_TRAITANT)."""
        return TREATING_PHYSICIAN in self.specific_rights


class AuthorizationList(BaseModel):
    """The outcome of TD1.6: the parties authorised on (or blocked from) the DMP."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    parties: tuple[AuthorizedParty, ...] = ()
    context: str = ""


# --- TD0.3 --------------------------------------------------------------------------------------


def build_set_authorization(action: AuthorizationAction, *, treating_physician: bool = False) -> etree._Element:
    """``setAuthorization``: declare (AJOUT) or remove (SUPPRESSION) one's authorisation, or the MT right."""
    root = element(HABILITATIONS, SET_REQUEST)
    sub(root, "action", AuthorizationAction(action).value)
    if treating_physician:
        sub(root, "role", TREATING_PHYSICIAN)
    return root


def parse_set_authorization(root: etree._Element) -> SetAuthorizationRequest:
    """Read a ``setAuthorization`` (mock side).

    Raises:
        DmpProtocolError: no ``action``, or an action or role the service does not know.
    """
    action = child_text(root, "action")
    role = child_text(root, "role")
    if action not in {a.value for a in AuthorizationAction}:
        raise DmpProtocolError(f"setAuthorization: action {action!r}, expected AJOUT or SUPPRESSION")
    if role not in (None, TREATING_PHYSICIAN):
        raise DmpProtocolError(f"setAuthorization: role {role!r}, expected MEDECIN_TRAITANT or none")
    return SetAuthorizationRequest(AuthorizationAction(action), role == TREATING_PHYSICIAN)


def build_set_authorization_response(*, status: str = STATUS_OK, context: str | None = None) -> etree._Element:
    root = element(HABILITATIONS, "setAuthorizationResponse")
    append_status(sub(root, "output"), status, context)
    return root


def parse_set_authorization_response(body: etree._Element | None) -> AuthorizationUpdate:
    """Read a ``setAuthorizationResponse`` (client side); a status other than DMPOk raises its typed error."""
    output, context = read_output(body, namespace=HABILITATIONS, response="setAuthorizationResponse", td="TD0.3")
    return AuthorizationUpdate(status=child_text(output, "status") or STATUS_OK, context=context)


# --- TD1.6 --------------------------------------------------------------------------------------


def build_list_authorizations(mode: AuthorizationListMode | None = None) -> etree._Element:
    """``listAuthorizationByPatient``, optionally filtered (ACTIVE, INTERDITE, TOUTE)."""
    root = element(HABILITATIONS, LIST_REQUEST)
    if mode is not None:
        sub(root, "mode", AuthorizationListMode(mode).value)
    return root


def parse_list_authorizations(root: etree._Element) -> AuthorizationListMode | None:
    """The requested mode (mock side); absent means every authorisation.

    Raises:
        DmpProtocolError: an unknown mode.
    """
    mode = child_text(root, "mode")
    if mode is None:
        return None
    if mode not in {m.value for m in AuthorizationListMode}:
        raise DmpProtocolError(f"listAuthorizationByPatient: mode {mode!r}, expected ACTIVE, INTERDITE or TOUTE")
    return AuthorizationListMode(mode)


def _write_party(parent: etree._Element, party: AuthorizedParty) -> None:
    node = sub(parent, "listOfAuthorizationByPatient")
    singles = (
        ("nationalId", party.national_id),
        ("nationalIdType", party.national_id_type),
        ("firstName", party.first_name),
        ("lastName", party.last_name),
    )
    for local, value in singles:
        if value is not None:
            sub(node, local, value)
    for code in party.specialty_codes:
        sub(node, "codeSpeciality", code)
    for label in party.specialty_labels:
        sub(node, "libSpeciality", label)
    for local, moment in (("startOfAuthorization", party.start), ("lastActionDate", party.last_action)):
        if moment is not None:
            sub(node, local, format_timestamp(moment))
    if party.mode is not None:
        sub(node, "mode", party.mode)
    for right in party.specific_rights:
        sub(node, "specificRight", right)


def build_list_authorizations_response(
    parties: Iterable[AuthorizedParty], *, status: str = STATUS_OK, context: str | None = None
) -> etree._Element:
    root = element(HABILITATIONS, "listAuthorizationByPatientResponse")
    output = sub(root, "output")
    for party in parties:
        _write_party(output, party)
    append_status(output, status, context)
    return root


def _read_party(node: etree._Element) -> AuthorizedParty:
    return AuthorizedParty(
        national_id=child_text(node, "nationalId"),
        national_id_type=child_text(node, "nationalIdType"),
        first_name=child_text(node, "firstName"),
        last_name=child_text(node, "lastName"),
        specialty_codes=children_text(node, "codeSpeciality"),
        specialty_labels=children_text(node, "libSpeciality"),
        start=parse_timestamp(child_text(node, "startOfAuthorization")),
        last_action=parse_timestamp(child_text(node, "lastActionDate")),
        mode=child_text(node, "mode"),
        specific_rights=children_text(node, "specificRight"),
    )


def parse_list_authorizations_response(body: etree._Element | None) -> AuthorizationList:
    """Read a ``listAuthorizationByPatientResponse`` (client side)."""
    output, context = read_output(
        body, namespace=HABILITATIONS, response="listAuthorizationByPatientResponse", td="TD1.6"
    )
    entries = children(output, "listOfAuthorizationByPatient", HABILITATIONS)
    return AuthorizationList(parties=tuple(_read_party(entry) for entry in entries), context=context)
