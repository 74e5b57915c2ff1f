"""The mock web PS site: the TD0.10 entry (``POST /AccesDirectAIR/…``) and the ``/AccesDirect/…`` pages.

The entry (project design, reference §10.3) reads the ``VIHF`` form field, verifies it with dmpclient's own
verifier as an AIR token (signature and chain, ≤ 30 s, single use — the same replay cache as the SOAP services),
checks the 606 row "TD0.10 Accès Web PS contextuel", the resource-id against the page's INS and the patient's
oppositions and blocks (the gate's rules), traces it as TD0.10, opens a short session (cookie ``Secure``,
``HttpOnly``, ``SameSite=Strict``) and shows the page asked for. The pages then need that session.

Page rules (527, §10.1, and project design where it is silent): a closed, missing or blocked DMP shows an error
with a link back to the dashboard; a patient page needs a valid authorisation (of the professional or his
structure), the médecin traitant right, or an emergency access mode — which holds only for the patient the
entry's VIHF named (a TD0.10 token names one patient); documents follow the TD3.2 rows of the matrices
(masked documents: own ones, the MT's, or in emergency when the patient allowed it; PE see none); the
management page lists authorisations as TD1.6 does (valid and blocked, not expired) and only to callers its
row allows (normal mode, not PE); the access history shows everything to the médecin traitant, his own
accesses to anyone else. Every patient page shown is traced (TD0.10, ``web PS {page}``), as reads are.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qs, quote

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from dmpclient.errors import DmpSecurityError, DmpValidationError
from dmpclient.hl7v3.patient_query import DmpStatus
from dmpclient.ids import parse_decimal, validate_ins
from dmpclient.security.verify import VihfRule, verify_vihf
from dmpclient.security.vihf import AuthMode
from dmpclient.transactions.operation import PatientRef
from dmpclient.transactions.rights import AccessMode, MatrixActor, NoteCondition, RightsAction, decide
from dmpclient.transactions.webps import AIR_ENTRY, DIRECT_ENTRY, PATIENT_PAGES, WebPsPage
from dmpclient.xds.codes import AvailabilityStatus
from mock_server.context import Caller
from mock_server.domain.authorship import is_own
from mock_server.errors import MockFault
from mock_server.gate import Gate
from mock_server.handlers.habilitations import listed_parties
from mock_server.handlers.patients import administrative_record
from mock_server.store import Store
from mock_server.store.records import AuthorisationStatus, DocumentRow, Outcome, Patient
from mock_server.webps import pages
from mock_server.webps.sessions import COOKIE, Session, Sessions

__all__ = ["WebPs"]

_MAX_FORM: Final = 64 * 1024
_VACCINATION: Final = "87273-9"
_EMERGENCY: Final = frozenset({AccessMode.BRIS_DE_GLACE, AccessMode.REGULATION})
_HEADERS: Final = {
    "Content-Security-Policy": pages.CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}
_FILENAME: Final = re.compile(r"[^A-Za-z0-9._-]+")
#: Document pages: their title and which documents (newest first) they show.
_DOCUMENT_PAGES: Final[dict[WebPsPage, tuple[str, Callable[[list[DocumentRow]], list[DocumentRow]]]]] = {
    WebPsPage.DOCUMENTS: ("Documents", lambda rows: rows),
    WebPsPage.PARCOURS_DE_SOINS: ("Parcours de soins", lambda rows: rows[::-1]),
    WebPsPage.CARNET_VACCINATION: (
        "Carnet de vaccination",
        lambda rows: [r for r in rows if r.metadata.type_code.code == _VACCINATION],
    ),
}


@dataclass(frozen=True, slots=True)
class _Page:
    """A rendered answer: status, HTML, and the session to open (entry only)."""

    status: int
    html: str
    session: Session | None = None


class _Refused(Exception):
    """A page that is an error page (status, title, message, DMP code)."""

    def __init__(self, status: int, title: str, message: str, code: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message, self.code = status, title, message, code


class WebPs:
    """The web PS site over the mock's store and gate (its routes mount into the mock app or serve alone).

    Args:
        store: the mock's state.
        gate: the SOAP services' gate (its verification policy, replay cache, rights and patient rules).
        clock: current time.
        sessions: the open sessions.
    """

    def __init__(
        self,
        store: Store,
        gate: Gate,
        *,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        sessions: Sessions | None = None,
    ) -> None:
        self.store, self.gate, self.clock = store, gate, clock
        self.sessions = sessions or Sessions()
        self.policy = dataclasses.replace(gate.policy, expected_mode=AuthMode.AIR, require_signature=True)

    @property
    def routes(self) -> list[BaseRoute]:
        """The site's routes, to mount into another Starlette app."""
        return [
            Route(f"/{AIR_ENTRY}/{{page}}", self._entry, methods=["POST"]),
            Route(f"/{AIR_ENTRY}/{{page}}/{{ins}}", self._entry, methods=["POST"]),
            Route(f"/{DIRECT_ENTRY}/{WebPsPage.DOCUMENTS.value}/{{ins}}/{{entry}}", self._download, methods=["GET"]),
            Route(f"/{DIRECT_ENTRY}/{{page}}", self._show, methods=["GET"]),
            Route(f"/{DIRECT_ENTRY}/{{page}}/{{ins}}", self._show, methods=["GET"]),
        ]

    def app(self) -> Starlette:
        """The site alone, as an ASGI app (served to browsers without client certificate)."""
        return Starlette(routes=self.routes)

    # --- HTTP shell -----------------------------------------------------------------------------

    async def _entry(self, request: Request) -> Response:
        try:
            body = await _bounded_body(request)
        except ClientDisconnect:
            return Response(status_code=400)
        page = await anyio.to_thread.run_sync(
            self.enter, request.path_params["page"], request.path_params.get("ins"), body
        )
        return self._respond(page)

    async def _show(self, request: Request) -> Response:
        page = await anyio.to_thread.run_sync(
            self.show, request.cookies.get(COOKIE), request.path_params["page"], request.path_params.get("ins")
        )
        return self._respond(page)

    async def _download(self, request: Request) -> Response:
        params = request.path_params
        return await anyio.to_thread.run_sync(
            self.download, request.cookies.get(COOKIE), params["ins"], params["entry"]
        )

    def _respond(self, page: _Page) -> Response:
        response = HTMLResponse(page.html, status_code=page.status, headers=_HEADERS)
        if page.session is not None:
            response.set_cookie(
                COOKIE,
                page.session.token,
                max_age=int(self.sessions.ttl.total_seconds()),
                path=f"/{DIRECT_ENTRY}",
                secure=True,
                httponly=True,
                samesite="strict",
            )
        return response

    # --- TD0.10 entry ---------------------------------------------------------------------------

    def enter(self, page_name: str, ins: str | None, body: bytes) -> _Page:
        """Verify the posted AIR VIHF, open a session, show the page (or an error page)."""
        now, caller = self.clock(), None
        try:
            page, ins = _page(page_name, ins)
            assertion = _posted_vihf(body)
            try:
                verified = verify_vihf(assertion, self.policy, now=now)
            except DmpSecurityError as exc:
                raise _Refused(403, "Accès refusé", VihfRule(exc.rule).reason_fr, exc.dmp_code) from None
            caller = self.gate.caller_of(verified.vihf, None, now)
            self._admit(caller, ins, now)
            self._trace(caller, ins, now, Outcome.ALLOWED, f"web PS {page.value}")
            session = self.sessions.open(caller, now)
            return dataclasses.replace(self._render(caller, page, ins, now), session=session)
        except _Refused as refusal:
            if caller is not None:
                self._trace(caller, ins, now, Outcome.REFUSED, refusal.message)
            return _Page(
                refusal.status, pages.error_page(refusal.title, refusal.message, refusal.code, dashboard=False)
            )

    def _admit(self, caller: Caller, ins: str | None, now: dt.datetime) -> None:
        """606 row TD0.10, the token's patient against the page's, the patient's oppositions and block."""
        if ins is not None and (caller.patient is None or caller.patient.ins != ins):
            raise _Refused(
                403, "Accès refusé", "Le patient du VIHF ne correspond pas à la page demandée", "DMPInvalidVihf"
            )
        try:
            self.gate.decide(caller, RightsAction.TD0_10_ACCES_WEB_AIR)
            if ins is not None:
                self.gate.check_patient_refusals(caller, ins, now)
        except MockFault as fault:
            raise _Refused(403, "Accès refusé", fault.reason, fault.refusal or fault.subcode or "") from None

    def _trace(self, caller: Caller, ins: str | None, now: dt.datetime, outcome: Outcome, detail: str) -> None:
        """A TD0.10 entry of the access trace, on the patient of the page (a session may browse others)."""
        patient = PatientRef(ins, caller.patient.oid if caller.patient else "") if ins else None
        self.gate.trace(
            dataclasses.replace(caller, patient=patient), "TD0.10", now, outcome=outcome, detail=detail[:200]
        )

    # --- pages ----------------------------------------------------------------------------------

    def show(self, token: str | None, page_name: str, ins: str | None) -> _Page:
        """A page of an open session; a patient page is traced in the access history (as a TD3.1 read is)."""
        now = self.clock()
        try:
            session = self._session(token)
            page, ins = _page(page_name, ins)
            shown = self._render(session.caller, page, ins, now)
        except _Refused as refusal:
            return _Page(refusal.status, pages.error_page(refusal.title, refusal.message, refusal.code))
        if ins is not None:
            outcome = Outcome.ALLOWED if shown.status == 200 else Outcome.REFUSED
            self._trace(session.caller, ins, now, outcome, f"web PS {page.value}")
        return shown

    def _session(self, token: str | None) -> Session:
        session = self.sessions.get(token, self.clock())
        if session is None:
            raise _Refused(
                401,
                "Session expirée",
                "Session absente ou expirée : rouvrez le DMP du patient depuis votre logiciel",
                "DMPInvalidSession",
            )
        return session

    def _render(self, caller: Caller, page: WebPsPage, ins: str | None, now: dt.datetime) -> _Page:
        who = caller.name or caller.ps_id
        try:
            if page is WebPsPage.PARAMETRAGES:
                return _Page(200, pages.settings_page(who, caller.structure_id, caller.access_mode.value))
            if page is WebPsPage.TABLEAU_DE_BORD:
                return _Page(200, pages.dashboard(who, self._my_patients(caller, now)))
            patient = self._open_patient(caller, ins or "", now)
            return _Page(200, self._patient_page(caller, who, page, patient, now))
        except _Refused as refusal:
            return _Page(refusal.status, pages.error_page(refusal.title, refusal.message, refusal.code, who=who))

    def _my_patients(self, caller: Caller, now: dt.datetime) -> list[tuple[str, str, dt.date, bool]]:
        found = []
        for authorisation in self.store.authorisations_of(caller.ps_id):
            patient = self.store.get_patient(authorisation.patient_ins)
            if patient is None or authorisation.status_at(now) is not AuthorisationStatus.VALIDE:
                continue
            name = f"{patient.given_name} {patient.family_name}"
            found.append((patient.ins, name, patient.birth_date, authorisation.treating_physician))
        return found

    def _treating(self, caller: Caller, ins: str, now: dt.datetime) -> bool:
        treating = self.store.treating_physician_of(ins, now)
        return treating is not None and treating.subject_id == caller.ps_id

    def _open_patient(self, caller: Caller, ins: str, now: dt.datetime) -> Patient:
        """The patient of a page, once the DMP is open and the caller may see it."""
        patient = self.store.get_patient(ins)
        if patient is None or patient.dmp_status is DmpStatus.NONE:
            raise _Refused(404, "DMP introuvable", "Aucun DMP n'existe pour ce patient", "DMPPatientNotFound")
        if patient.dmp_status is DmpStatus.CLOSED:
            raise _Refused(403, "DMP fermé", "Le DMP du patient est fermé", "DMPClosed")
        try:
            self.gate.check_patient_refusals(caller, ins, now)
        except MockFault as fault:
            raise _Refused(403, "Accès refusé", fault.reason, fault.refusal or fault.subcode or "") from None
        emergency = caller.access_mode in _EMERGENCY
        if emergency and (caller.patient is None or caller.patient.ins != ins):
            raise _Refused(
                403,
                "Accès refusé",
                "Un accès en urgence (bris de glace, centre 15) ne vaut que pour le patient du VIHF reçu : "
                "rouvrez ce DMP depuis votre logiciel",
                "DMPAccessDeniedByRightsService",
            )
        status = self.store.authorisation_status(ins, caller.ps_id, caller.structure_id, now)
        allowed = status is AuthorisationStatus.VALIDE or self._treating(caller, ins, now) or emergency
        if not allowed:
            expired = status is AuthorisationStatus.EXPIRE
            raise _Refused(
                403,
                "Autorisation requise",
                "Votre autorisation sur ce DMP a expiré : déclarez-vous de nouveau autorisé (TD0.3)"
                if expired
                else "Vous n'êtes pas autorisé sur ce DMP : déclarez-vous autorisé avec l'accord du patient (TD0.3)",
                "DMPAuthorizationExpired" if expired else "DMPAuthorizationNotFound",
            )
        return patient

    def _patient_page(self, caller: Caller, who: str, page: WebPsPage, patient: Patient, now: dt.datetime) -> str:
        record, ins = administrative_record(patient), patient.ins
        if page is WebPsPage.DOSSIER_PATIENT:
            status = self.store.authorisation_status(ins, caller.ps_id, caller.structure_id, now).value
            if self._treating(caller, ins, now):
                status += " (médecin traitant)"
            return pages.patient_summary(who, record, status, self._documents(caller, patient, now)[:5])
        if page in _DOCUMENT_PAGES:
            rows = self._documents(caller, patient, now)
            title, select = _DOCUMENT_PAGES[page]
            return pages.documents_page(who, ins, select(rows), title)
        if page is WebPsPage.HISTORIQUE_ACCES:
            everyone = self._treating(caller, ins, now)
            trace = self.store.access_trace(patient=ins, limit=100)
            entries = [t for t in trace if everyone or t.ps_id == caller.ps_id]
            return pages.history_page(who, ins, entries, everyone=everyone)
        if page is WebPsPage.GESTION_DMP_PATIENT:  # the authorisations are TD1.6's: its row decides
            lists = self._may(caller, patient, RightsAction.TD1_6_LISTE_PS_AUTORISES, now)
            return pages.management_page(who, record, listed_parties(self.store, ins, now) if lists else None)
        return pages.wishes_page(
            who,
            record,
            secret_connection=patient.secret_connection,
            masked_in_emergency=patient.masked_visible_in_emergency,
        )

    # --- documents ------------------------------------------------------------------------------

    def _documents(self, caller: Caller, patient: Patient, now: dt.datetime) -> list[DocumentRow]:
        """The documents this caller may see (TD3.2 rows of the matrices), newest first."""
        if not self._may(caller, patient, RightsAction.TD3_2_DOCS_NON_MASQUES, now):
            raise _Refused(
                403,
                "Accès refusé",
                "Votre profil ne permet pas de consulter les documents (matrices 526/606)",
                "DMPAccessDeniedByRightsService",
            )
        statuses = [AvailabilityStatus.APPROVED]
        if self._may(caller, patient, RightsAction.TD3_2_DOCS_ARCHIVES, now):
            statuses.append(AvailabilityStatus.ARCHIVED)
        rows = self.store.find_documents(patient.ins, statuses=statuses)
        visible = [row for row in rows if not row.masked_to_ps or self._sees_masked(caller, patient, row, now)]
        return sorted(visible, key=lambda row: row.metadata.creation_time, reverse=True)

    def _may(self, caller: Caller, patient: Patient, action: RightsAction, now: dt.datetime) -> bool:
        return self._rights(caller, patient, action, now)[0]

    def _rights(
        self, caller: Caller, patient: Patient, action: RightsAction, now: dt.datetime
    ) -> tuple[bool, frozenset[NoteCondition]]:
        actor = caller.actor  # the session's column, but MT or not for this patient (the session may browse others)
        if actor in (MatrixActor.MEDECIN, MatrixActor.MEDECIN_TRAITANT):
            actor = MatrixActor.MEDECIN_TRAITANT if self._treating(caller, patient.ins, now) else MatrixActor.MEDECIN
        decision = decide(action, auth_mode=caller.auth_mode, actor=actor, access_mode=caller.access_mode)
        return decision.allowed, decision.conditions

    def _sees_masked(self, caller: Caller, patient: Patient, row: DocumentRow, now: dt.datetime) -> bool:
        allowed, conditions = self._rights(caller, patient, RightsAction.TD3_2_DOCS_MASQUES, now)
        if not allowed:
            return False
        if NoteCondition.OWN_DOCUMENTS in conditions and not is_own(row.metadata.author, caller.ps_id):
            return False
        return (
            NoteCondition.PATIENT_ALLOWED_MASKED_IN_EMERGENCY not in conditions or patient.masked_visible_in_emergency
        )

    def download(self, token: str | None, ins: str, entry: str) -> Response:
        """A document's bytes (``Content-Disposition: attachment``), if the page would list it."""
        now = self.clock()
        try:
            caller = self._session(token).caller
            patient = self._open_patient(caller, validate_ins(ins), now)
            row = next((r for r in self._documents(caller, patient, now) if r.entry_uuid == entry), None)
            content = self.store.get_content(row.unique_id) if row is not None else None
            if row is None or content is None:
                raise _Refused(
                    404, "Document introuvable", "Ce document n'est pas consultable", "XDSDocumentUniqueIdError"
                )
        except DmpValidationError:
            return self._respond(_Page(404, pages.error_page("Page inconnue", "INS invalide", "DMPInvalidRequest")))
        except _Refused as refusal:
            return self._respond(_Page(refusal.status, pages.error_page(refusal.title, refusal.message, refusal.code)))
        self._trace(caller, patient.ins, now, Outcome.ALLOWED, "web PS téléchargement")
        name = _FILENAME.sub("-", row.metadata.title)[:60].strip("-") or "document"
        extension = ".xml" if "xml" in row.metadata.mime_type else ""
        disposition = (
            f"attachment; filename=\"{name}{extension}\"; filename*=UTF-8''{quote(row.metadata.title)}{extension}"
        )
        headers = {**_HEADERS, "Content-Disposition": disposition}
        return Response(content, media_type=row.metadata.mime_type, headers=headers)


def _page(name: str, ins: str | None) -> tuple[WebPsPage, str | None]:
    """The page and its (validated) INS from the URL; unknown pages and invalid INS are 404."""
    try:
        page = WebPsPage(name)
        valid = validate_ins(ins) if ins is not None else None
    except (ValueError, DmpValidationError):
        raise _Refused(
            404, "Page inconnue", "Cette page n'existe pas sur l'espace professionnel", "DMPInvalidRequest"
        ) from None
    if valid is None and page in PATIENT_PAGES:
        raise _Refused(404, "Page inconnue", "Cette page concerne un patient : son INS manque", "DMPInvalidRequest")
    return page, valid


def _posted_vihf(body: bytes) -> bytes:
    """The ``VIHF`` field of the posted form, base64-decoded."""
    try:
        fields = parse_qs(body.decode("ascii"), max_num_fields=4, strict_parsing=True)
        value = fields["VIHF"][0]
        return base64.b64decode(value, validate=True)
    except (UnicodeDecodeError, ValueError, KeyError, IndexError, binascii.Error):
        raise _Refused(
            400, "Accès refusé", "Formulaire sans VIHF lisible (champ VIHF en base64)", "DMPInvalidVihf"
        ) from None


async def _bounded_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if (parse_decimal(declared) or 0) > _MAX_FORM:
        return b""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > _MAX_FORM:
            return b""
        chunks.append(chunk)
    return b"".join(chunks)
