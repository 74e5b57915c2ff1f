"""HTML of the mock web PS: every value shown goes through :func:`e` (HTML-escaped), pages carry no script.

The one stylesheet is inline and allowed by its hash in the Content-Security-Policy (:data:`CSP`), so that no
other style, script, image, frame or form target can run even if a value escaped escaping.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
from collections.abc import Iterable, Sequence
from typing import Final
from urllib.parse import quote

from dmpclient.custom.habilitations import AuthorizedParty
from dmpclient.hl7v3.patient_query import AdministrativeRecord
from dmpclient.hl7v3.person import Address, Telecom
from dmpclient.transactions.webps import DIRECT_ENTRY, WebPsPage
from mock_server.store.records import DocumentRow, TraceEntry

__all__ = [
    "CSP",
    "PATIENT_NAV",
    "dashboard",
    "document_path",
    "documents_page",
    "e",
    "error_page",
    "history_page",
    "management_page",
    "page_path",
    "patient_summary",
    "settings_page",
    "wishes_page",
]

_STYLE: Final = (
    "body{font-family:sans-serif;margin:0;color:#1b1b1b}header{background:#000091;color:#fff;padding:.6em 1em}"
    "header a{color:#fff}nav a{margin-right:1em}main{padding:1em}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}.error{color:#b00}"
)
_STYLE_HASH: Final = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
#: Content-Security-Policy of every page: nothing but the inline stylesheet; forms post to the site only.
CSP: Final = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
#: The pages about one patient, in navigation order, with their labels.
PATIENT_NAV: Final = (
    (WebPsPage.DOSSIER_PATIENT, "Accueil DMP patient"),
    (WebPsPage.DOCUMENTS, "Documents"),
    (WebPsPage.PARCOURS_DE_SOINS, "Parcours de soins"),
    (WebPsPage.HISTORIQUE_ACCES, "Historique des accès"),
    (WebPsPage.GESTION_DMP_PATIENT, "Gestion du DMP"),
    (WebPsPage.VOLONTES_ET_DROITS, "Volontés et droits"),
    (WebPsPage.CARNET_VACCINATION, "Carnet de vaccination"),
)


def e(value: object) -> str:
    """HTML-escaped text (quotes included)."""
    return html.escape("" if value is None else str(value), quote=True)


def page_path(page: WebPsPage, ins: str | None = None) -> str:
    suffix = f"/{quote(ins, safe='')}" if ins else ""
    return f"/{DIRECT_ENTRY}/{page.value}{suffix}"


def document_path(ins: str, entry_uuid: str) -> str:
    """Where a document is downloaded from (``/AccesDirect/Documents/{INS}/{entryUUID}``)."""
    return f"{page_path(WebPsPage.DOCUMENTS, ins)}/{quote(entry_uuid, safe='')}"


def _link(href: str, label: str, **attributes: str) -> str:
    extra = "".join(f' {name.rstrip("_").replace("_", "-")}="{e(value)}"' for name, value in attributes.items())
    return f'<a href="{e(href)}"{extra}>{e(label)}</a>'


def _layout(title: str, body: str, *, who: str | None, ins: str | None = None) -> str:
    nav = _link(page_path(WebPsPage.TABLEAU_DE_BORD), "Tableau de bord")
    if ins:
        nav += "".join(_link(page_path(page, ins), label) for page, label in PATIENT_NAV)
    user = f" — {e(who)}" if who else ""
    return (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
        f"<title>{e(title)} — DMP (mock)</title><style>{_STYLE}</style></head><body>"
        f"<header><strong>Mon espace santé — espace professionnel (mock)</strong>{user}<nav>{nav}</nav></header>"
        f"<main><h1>{e(title)}</h1>{body}</main></body></html>"
    )


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, table_id: str) -> str:
    """A table whose cells are already-escaped HTML."""
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table id="{e(table_id)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _date(moment: dt.date | dt.datetime | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, dt.datetime):
        return e(moment.astimezone(dt.UTC).strftime("%d/%m/%Y %H:%M UTC"))
    return e(moment.strftime("%d/%m/%Y"))


def _name(record: AdministrativeRecord) -> str:
    born = f" (née {record.birth_family})" if record.birth_family and record.birth_family != record.family else ""
    return f"{' '.join(record.given_names)} {record.family or ''}{born}".strip()


def _address(address: Address) -> str:
    parts = [*address.street_lines, address.additional_locator, f"{address.postal_code or ''} {address.city or ''}"]
    return e(", ".join(p.strip() for p in [*parts, address.country or ""] if p and p.strip()))


def _telecoms(telecoms: Iterable[Telecom]) -> str:
    return "<br>".join(f"{e(t.kind.value)} : {e(t.value)}" for t in telecoms)


def error_page(title: str, message: str, code: str, *, who: str | None = None, dashboard: bool = True) -> str:
    """An error page naming the DMP code, with a way back to the dashboard (reference §10.1 rule)."""
    back = f"<p>{_link(page_path(WebPsPage.TABLEAU_DE_BORD), 'Retour au tableau de bord')}</p>" if dashboard else ""
    body = f'<p class="error" id="error-message">{e(message)}</p><p>Code : <code id="error-code">{e(code)}</code></p>'
    return _layout(title, body + back, who=who)


def dashboard(who: str, patients: Iterable[tuple[str, str, dt.date, bool]]) -> str:
    """TableauDeBord: the DMPs the professional is authorised on (≈ TD0.4)."""
    rows = [
        (_link(page_path(WebPsPage.DOSSIER_PATIENT, ins), name), _date(born), "oui" if mt else "non")
        for ins, name, born, mt in patients
    ]
    table = _table(("Patient", "Naissance", "Médecin traitant"), rows, table_id="patients")
    return _layout("Tableau de bord", f"<p>Mes patients autorisés</p>{table}", who=who)


def patient_summary(who: str, record: AdministrativeRecord, authorised: str, last: Sequence[DocumentRow]) -> str:
    """DossierPatient: identity, DMP status, the caller's authorisation, the last five documents."""
    status = "ouvert" if record.status.value == "active" else "fermé"
    identity = (
        f'<p id="patient-name">{e(_name(record))}</p>'
        f"<p>Né(e) le {_date(record.birth_date)} — DMP {e(status)} — votre autorisation : {e(authorised)}</p>"
    )
    rows = [(e(row.metadata.title), _date(row.metadata.creation_time)) for row in last]
    documents = _table(("Derniers documents", "Date"), rows, table_id="last-documents")
    link = f"<p>{_link(page_path(WebPsPage.DOCUMENTS, record.ins), 'Tous les documents', id='all-documents')}</p>"
    return _layout("Accueil DMP patient", identity + documents + link, who=who, ins=record.ins)


def documents_page(who: str, ins: str, rows: Sequence[DocumentRow], title: str = "Documents") -> str:
    """Documents (≈ TD3.1) with a download link each (≈ TD3.2)."""
    lines = [
        (
            e(row.metadata.title),
            e(row.metadata.type_code.display or row.metadata.type_code.code),
            _date(row.metadata.creation_time),
            e(f"{row.metadata.author.given_name} {row.metadata.author.family_name}"),
            e("archivé" if row.status.name == "ARCHIVED" else "masqué aux PS" if row.masked_to_ps else ""),
            _link(document_path(ins, row.entry_uuid), "Télécharger", class_="download"),
        )
        for row in rows
    ]
    headers = ("Titre", "Type", "Date", "Auteur", "Statut", "")
    table = _table(headers, lines, table_id="documents")
    return _layout(title, f"<p>{len(lines)} document(s)</p>{table}", who=who, ins=ins)


def history_page(who: str, ins: str, entries: Iterable[TraceEntry], *, everyone: bool) -> str:
    """HistoriqueAcces: the médecin traitant sees every access, others only their own (527)."""
    rows = [(_date(t.at), e(t.td), e(t.ps_id), e(t.outcome.value), e(t.access_mode), e(t.detail)) for t in entries]
    scope = "Tous les accès" if everyone else "Vos accès"
    table = _table(("Date", "Transaction", "Professionnel", "Résultat", "Mode", "Détail"), rows, table_id="history")
    return _layout("Historique des accès", f"<p>{e(scope)}</p>{table}", who=who, ins=ins)


def management_page(who: str, record: AdministrativeRecord, parties: Sequence[AuthorizedParty] | None) -> str:
    """GestionDMPPatient: administrative data (≈ TD1.3a) and who is authorised or blocked (≈ TD1.6; ``None``: the
    TD1.6 row does not allow this caller, the section says so)."""
    details = [
        ("Nom", e(_name(record))),
        ("Adresse", "<br>".join(_address(a) for a in record.addresses)),
        ("Contacts", _telecoms(record.telecoms)),
        ("Lieu de naissance", _address(record.birth_place) if record.birth_place else ""),
    ]
    representatives = [
        (e(r.relationship), e(f"{' '.join(r.given_names)} {r.family or ''}"), _telecoms(r.telecoms))
        for r in record.legal_representatives
    ]
    if parties is None:
        authorisations = (
            "<p id='authorisations-refused'>La liste des professionnels autorisés (TD1.6) n'est accessible qu'en "
            "accès normal, aux professionnels de santé (matrices 526/606).</p>"
        )
    else:
        rows = [
            (
                e(p.national_id),
                e(f"{p.first_name or ''} {p.last_name or ''}"),
                e(p.mode),
                e(", ".join(p.specific_rights)),
            )
            for p in parties
        ]
        authorisations = _table(("Identifiant", "Nom", "Mode", "Droits"), rows, table_id="authorisations")
    body = (
        _table(("Donnée", "Valeur"), details, table_id="admin")
        + "<h2>Représentants légaux</h2>"
        + _table(("Lien", "Nom", "Contacts"), representatives, table_id="representatives")
        + "<h2>Autorisations</h2>"
        + authorisations
    )
    return _layout("Gestion du DMP", body, who=who, ins=record.ins)


def wishes_page(who: str, record: AdministrativeRecord, *, secret_connection: bool, masked_in_emergency: bool) -> str:
    """VolontesEtDroits: the patient's choices about access to his DMP."""
    yes_no = {True: "oui", False: "non", None: "non renseigné"}
    rows = [
        ("Opposition à l'accès en bris de glace", e(yes_no[record.opposition_bris_de_glace])),
        ("Opposition à l'accès par le centre de régulation", e(yes_no[record.opposition_acces_urgence])),
        ("Documents masqués visibles en urgence", e(yes_no[masked_in_emergency])),
        ("Connexion secrète (mineur)", e(yes_no[secret_connection])),
    ]
    return _layout(
        "Volontés et droits", _table(("Choix du patient", ""), rows, table_id="wishes"), who=who, ins=record.ins
    )


def settings_page(who: str, structure_id: str, access_mode: str) -> str:
    """Parametrages: the professional's situation as the web PS sees it."""
    rows = [("Professionnel", e(who)), ("Structure", e(structure_id)), ("Mode d'accès", e(access_mode))]
    return _layout("Paramétrages", _table(("", ""), rows, table_id="settings"), who=who)
