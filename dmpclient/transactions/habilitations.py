"""``habilitations`` service: TD0.3 (mise à jour de l'autorisation) and TD1.6 (PS autorisés / bloqués).

Neither body names the patient: the VIHF ``resource-id`` does (reference §2.7, §3.4, §3.13). The examples send
the CXF-style ``wsa:Action`` values; the WSDL's ``soapAction`` (``urn:hl7-org:v3:…``) is accepted too
(reference §3.0). TD0.3's rights row depends on its body (declare, remove, stop being MT).
"""

from __future__ import annotations

from typing import Final

from lxml import etree

from dmpclient._xml import qname
from dmpclient.custom.habilitations import (
    LIST_REQUEST,
    SET_REQUEST,
    AuthorizationAction,
    AuthorizationList,
    AuthorizationListMode,
    AuthorizationUpdate,
    build_list_authorizations,
    build_set_authorization,
    parse_list_authorizations,
    parse_list_authorizations_response,
    parse_set_authorization,
    parse_set_authorization_response,
)
from dmpclient.ids import validate_ins, validate_oid
from dmpclient.soap.response import Response
from dmpclient.transactions.context import CallContext
from dmpclient.transactions.operation import Operation, PatientRef
from dmpclient.transactions.rights import RightsAction
from dmpclient.transactions.spec import PatientBlock, Service, TransactionSpec

__all__ = ["LIST_AUTHORIZATIONS", "SET_AUTHORIZATION", "list_authorizations", "set_authorization"]

_ENDPOINT: Final = "urn:si-dmp-habilitations:HabilitationsEndPoint"


def _set_rights_row(body: etree._Element) -> RightsAction:
    """526/606 rows of TD0.3: declare oneself authorised (AJOUT, also to become MT), remove one's authorisation,
    stop being médecin traitant (SUPPRESSION + MEDECIN_TRAITANT)."""
    request = parse_set_authorization(body)
    if request.action is AuthorizationAction.ADD:
        return RightsAction.TD0_3_SE_DECLARER_AUTORISE
    if request.treating_physician:
        return RightsAction.TD0_3_SE_SUPPRIMER_MT
    return RightsAction.TD0_3_SUPPRIMER_AUTORISATION


def _decode_set(response: Response) -> AuthorizationUpdate:
    return parse_set_authorization_response(response.message.body)


def _decode_list(response: Response) -> AuthorizationList:
    return parse_list_authorizations_response(response.message.body)


SET_AUTHORIZATION: Final = TransactionSpec(
    read_request=parse_set_authorization,
    td="TD0.3",
    title="Mise à jour de l'autorisation",
    service=Service.HABILITATIONS,
    request_root=qname("hab", SET_REQUEST),
    request_action=f"{_ENDPOINT}:setAuthorization",
    response_action=f"{_ENDPOINT}:setAuthorizationResponse",
    alternate_actions=("urn:hl7-org:v3:setAuthorization",),
    decode=_decode_set,
    rights=(
        RightsAction.TD0_3_SE_DECLARER_AUTORISE,
        RightsAction.TD0_3_SUPPRIMER_AUTORISATION,
        RightsAction.TD0_3_SE_SUPPRIMER_MT,
    ),
    select_rights=_set_rights_row,
    idempotent=False,  # never re-sent automatically (reference §9.7)
    patient=PatientBlock.VIHF,
)

LIST_AUTHORIZATIONS: Final = TransactionSpec(
    read_request=parse_list_authorizations,
    td="TD1.6",
    title="Liste des PS autorisés / bloqués sur un DMP",
    service=Service.HABILITATIONS,
    request_root=qname("hab", LIST_REQUEST),
    request_action=f"{_ENDPOINT}:listAuthorizationByPatient",
    response_action=f"{_ENDPOINT}:listAuthorizationByPatientResponse",
    alternate_actions=("urn:hl7-org:v3:listAuthorizationByPatient",),
    decode=_decode_list,
    rights=(RightsAction.TD1_6_LISTE_PS_AUTORISES,),
    idempotent=True,
    patient=PatientBlock.VIHF,
)


def _patient(ins: str, ins_oid: str) -> PatientRef:
    return PatientRef(validate_ins(ins), validate_oid(ins_oid, field="ins_oid"))


def set_authorization(
    ctx: CallContext,
    ins: str,
    ins_oid: str,
    *,
    action: AuthorizationAction = AuthorizationAction.ADD,
    treating_physician: bool = False,
) -> Operation[AuthorizationUpdate]:
    """TD0.3: declare oneself authorised on the patient's DMP (or remove it; with ``treating_physician``, become
    or stop being médecin traitant). ``ctx`` is unused (custom bodies carry no ids): kept for a uniform API."""
    del ctx
    body = build_set_authorization(AuthorizationAction(action), treating_physician=treating_physician)
    return SET_AUTHORIZATION.operation(body, patient=_patient(ins, ins_oid))


def list_authorizations(
    ctx: CallContext, ins: str, ins_oid: str, *, mode: AuthorizationListMode | None = None
) -> Operation[AuthorizationList]:
    """TD1.6: the professionals and structures authorised on (``ACTIVE``) or blocked from (``INTERDITE``) the
    patient's DMP, or both (``TOUTE`` / none)."""
    del ctx
    body = build_list_authorizations(AuthorizationListMode(mode) if mode is not None else None)
    return LIST_AUTHORIZATIONS.operation(body, patient=_patient(ins, ins_oid))
