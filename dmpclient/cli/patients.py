"""The transaction commands: ``dmp exist``, ``authorize``, ``patients``, ``admin``, ``authorizations``, ``webps-url``.

Each reads the client configuration (``--config``, default ``dmpclient.toml``), acts for the professional the
identity options name (as ``dmp vihf build``: ``--ps-id``, ``--name``, ``--profession``, ``--specialty``,
``--device``, ``--purpose``, and ``--auth-mode`` for the VIHF mode, AIR by default) and prints a table, or the
typed result as JSON with ``--json``.
Exit status: 0 done, 1 refused by the DMP (or by the rights pre-check), 2 bad input or configuration, 3 the
call did not complete. INS are masked in error lines.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import webbrowser
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dmpclient import (
    AdministrativeRecord,
    AdministrativeUpdate,
    AuthorizationAction,
    AuthorizationListMode,
    DmpClient,
    DmpConfig,
    DmpError,
    DmpTransportError,
    DmpUsageError,
    DmpValidationError,
    InsOid,
    PatientListDateType,
    Telecom,
    TelecomKind,
    WebPsPage,
)
from dmpclient.cli.identity import IdentityOptions, with_identity
from dmpclient.ids import mask_ins

__all__ = ["register"]

_console = Console()
InsArgument = Annotated[str, typer.Argument(help="The patient's INS (15 characters, with its key).")]
ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="Client configuration file.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the typed result as JSON.")]
InsOidOption = Annotated[
    str, typer.Option("--ins-oid", help="INS assigning authority: nir, nia, test, demo or an OID.")
]
_CONFIG = Path("dmpclient.toml")
_OIDS = {member.name.lower(): member.value for member in InsOid}


class ListMode(StrEnum):
    """``dmp authorizations --mode``."""

    ALL = "all"
    ACTIVE = "active"
    FORBIDDEN = "forbidden"


class DateKind(StrEnum):
    """``dmp patients --by``."""

    LASTAUTH = "lastauth"
    LASTDOC = "lastdoc"


_LIST_MODES = {
    ListMode.ALL: AuthorizationListMode.ALL,
    ListMode.ACTIVE: AuthorizationListMode.ACTIVE,
    ListMode.FORBIDDEN: AuthorizationListMode.FORBIDDEN,
}
_DATE_KINDS = {
    DateKind.LASTAUTH: PatientListDateType.LAST_AUTHORIZATION,
    DateKind.LASTDOC: PatientListDateType.LAST_DOCUMENT,
}
_TELECOMS = {"mail": TelecomKind.MAIL, "mobile": TelecomKind.MOBILE, "phone": TelecomKind.PHONE, "fax": TelecomKind.FAX}
_FLAGS = {
    "opposition-bris-de-glace": "opposition_bris_de_glace",
    "opposition-acces-urgence": "opposition_acces_urgence",
}


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    """One clear line per failure, and the exit status of the module docstring."""
    try:
        yield
    except DmpUsageError as exc:
        _console.print(f"[red]error:[/red] {escape(mask_ins(str(exc)))}", highlight=False)
        raise typer.Exit(2) from None
    except DmpTransportError as exc:
        _console.print(f"[red]not completed:[/red] {escape(mask_ins(str(exc)))}", highlight=False)
        raise typer.Exit(3) from None
    except DmpError as exc:
        _console.print(f"[red]refused:[/red] {type(exc).__name__}: {escape(mask_ins(str(exc)))}", highlight=False)
        raise typer.Exit(1) from None


def _oid(value: str) -> str:
    return _OIDS.get(value.lower(), value)


def _client(config: Path) -> DmpClient:
    return DmpClient(DmpConfig.load(config))


def _print_json(result: BaseModel) -> None:
    typer.echo(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2))


def _pairs(title: str, rows: list[tuple[str, str]]) -> None:
    table = Table(title=title, show_header=False, title_justify="left")
    for label, value in rows:
        table.add_row(label, escape(value))  # values come from the DMP: text, not markup
    _console.print(table)


@with_identity
def exist(
    ins: InsArgument,
    ins_oid: InsOidOption = "nir",
    config: ConfigOption = _CONFIG,
    as_json: JsonOption = False,
    *,
    who: IdentityOptions,
) -> None:
    """TD0.2: does the patient have a DMP, is it open, are you authorised / médecin traitant?"""
    with _errors(), who.connect(config) as (dmp, caller):
        answer = dmp.test_existence(ins, caller, ins_oid=_oid(ins_oid))
    if as_json:
        _print_json(answer)
        return
    authorisation = answer.authorization.value if answer.authorization else answer.authorization_code or "—"
    rows = [("DMP", answer.status.value), ("autorisation", authorisation), ("MT", str(answer.treating_physician))]
    if answer.patient is not None:
        rows.append(("patient", f"{answer.patient.given or ''} {answer.patient.family or ''}".strip()))
    rows += [(code, str(flag)) for code, flag in answer.observations.items()]
    _pairs("TD0.2 test d'existence", rows)


@with_identity
def authorize(
    ins: InsArgument,
    remove: Annotated[bool, typer.Option("--remove", help="SUPPRESSION instead of AJOUT.")] = False,
    treating_physician: Annotated[
        bool, typer.Option("--treating-physician", help="Declare (or with --remove, stop being) médecin traitant.")
    ] = False,
    ins_oid: InsOidOption = "nir",
    config: ConfigOption = _CONFIG,
    as_json: JsonOption = False,
    *,
    who: IdentityOptions,
) -> None:
    """TD0.3: declare yourself authorised on the patient's DMP (with his consent), or remove it."""
    action = AuthorizationAction.REMOVE if remove else AuthorizationAction.ADD
    with _errors(), who.connect(config) as (dmp, caller):
        update = dmp.set_authorization(
            ins, caller, ins_oid=_oid(ins_oid), action=action, treating_physician=treating_physician
        )
    if as_json:
        _print_json(update)
        return
    _pairs(f"TD0.3 {action.value}", [("statut", update.status), ("contexte", update.context)])


@with_identity
def patients(
    since: Annotated[
        str | None, typer.Option("--since", help="Only DMPs changed since this date (YYYY-MM-DD).")
    ] = None,
    by: Annotated[DateKind, typer.Option("--by", help="Compare --since with the last authorisation or document.")] = (
        DateKind.LASTAUTH
    ),
    owner: Annotated[str | None, typer.Option("--owner", help="psOwnerId: a professional of your structure.")] = None,
    config: ConfigOption = _CONFIG,
    as_json: JsonOption = False,
    *,
    who: IdentityOptions,
) -> None:
    """TD0.4: the DMPs you are authorised on."""
    with _errors():
        try:
            start = dt.date.fromisoformat(since) if since else None
        except ValueError:
            raise DmpValidationError("--since: a date such as 2025-01-31", field="since") from None
        with who.connect(config) as (dmp, caller):
            result = dmp.patient_list(
                caller, since=start, date_type=_DATE_KINDS[by] if start else None, ps_owner_id=owner
            )
    if as_json:
        _print_json(result)
        return
    table = Table("INS", "nom", "prénom", "naissance", "MT", "dernier document", title="TD0.4 DMP autorisés")
    for patient in result.patients:
        last = patient.last_add.strftime("%Y-%m-%d") if patient.last_add else ""
        born = str(patient.birth_date or "")
        mt = "oui" if patient.treating_physician else ""
        cells = (patient.ins or "", patient.last_name or "", patient.first_name or "", born, mt, last)
        table.add_row(*map(escape, cells))
    _console.print(table)


def _apply(record: AdministrativeRecord, settings: list[str]) -> AdministrativeUpdate:
    """``--set mobile=+33612345678``, ``--set mail=`` (removes), ``--set opposition-bris-de-glace=true``."""
    update = AdministrativeUpdate.from_record(record)
    telecoms = list(update.telecoms)
    flags: dict[str, bool] = {}
    for setting in settings:
        key, sep, value = setting.partition("=")
        key = key.strip().lower()
        if not sep or (key not in _TELECOMS and key not in _FLAGS):
            known = ", ".join([*_TELECOMS, *_FLAGS])
            raise DmpValidationError(f"--set {key or setting!r}: use KEY=VALUE with KEY one of {known}", field="set")
        if key in _FLAGS:
            if value.lower() not in ("true", "false"):
                raise DmpValidationError(f"--set {key}: true or false", field="set")
            flags[_FLAGS[key]] = value.lower() == "true"
            continue
        kind = _TELECOMS[key]
        telecoms = [t for t in telecoms if t.kind is not kind]
        if value:
            telecoms.append(Telecom(kind=kind, value=value.strip(), use="MC" if kind is TelecomKind.MOBILE else None))
    return update.model_copy(update={"telecoms": tuple(telecoms), **flags})


@with_identity
def admin(
    ins: InsArgument,
    settings: Annotated[
        list[str] | None,
        typer.Option("--set", help="KEY=VALUE change (TD1.3b): mail, mobile, phone, fax, oppositions."),
    ] = None,
    ins_oid: InsOidOption = "nir",
    config: ConfigOption = _CONFIG,
    as_json: JsonOption = False,
    *,
    who: IdentityOptions,
) -> None:
    """TD1.3a: the patient's administrative record; with --set, change it (TD1.3b) and show the new record."""
    with _errors(), who.connect(config) as (dmp, caller):
        record = dmp.administrative_data(ins, caller, ins_oid=_oid(ins_oid))
        if settings:
            dmp.update_administrative_data(_apply(record, settings), caller)
            record = dmp.administrative_data(ins, caller, ins_oid=_oid(ins_oid))
    if as_json:
        _print_json(record)
        return
    rows = [
        ("DMP", record.status.value),
        ("nom", f"{' '.join(record.given_names)} {record.family or ''}".strip()),
        ("nom de naissance", record.birth_family or ""),
        (
            "naissance",
            f"{record.birth_date or record.birth_time or ''} {record.birth_place.city if record.birth_place else ''}",
        ),
        *(("adresse", ", ".join([*a.street_lines, f"{a.postal_code or ''} {a.city or ''}"])) for a in record.addresses),
        *((t.kind.value, t.value) for t in record.telecoms),
        *(
            (f"représentant {r.relationship}", f"{' '.join(r.given_names)} {r.family or ''}")
            for r in record.legal_representatives
        ),
        ("opposition bris de glace", str(record.opposition_bris_de_glace)),
        ("opposition accès urgence", str(record.opposition_acces_urgence)),
    ]
    _pairs("TD1.3a données administratives", rows)


@with_identity
def authorizations(
    ins: InsArgument,
    list_mode: Annotated[ListMode, typer.Option("--mode", help="all, active (authorised) or forbidden (blocked).")] = (
        ListMode.ALL
    ),
    ins_oid: InsOidOption = "nir",
    config: ConfigOption = _CONFIG,
    as_json: JsonOption = False,
    *,
    who: IdentityOptions,
) -> None:
    """TD1.6: the professionals and structures authorised on (or blocked from) the patient's DMP."""
    with _errors(), who.connect(config) as (dmp, caller):
        result = dmp.list_authorizations(ins, caller, ins_oid=_oid(ins_oid), mode=_LIST_MODES[list_mode])
    if as_json:
        _print_json(result)
        return
    table = Table("identifiant", "type", "nom", "spécialité", "mode", "droits", "depuis", title="TD1.6 autorisations")
    for party in result.parties:
        since = party.start.strftime("%Y-%m-%d") if party.start else ""
        person = f"{party.first_name or ''} {party.last_name or ''}".strip()
        specialty_label = ", ".join(party.specialty_labels or party.specialty_codes)
        rights = ", ".join(party.specific_rights)
        cells = (party.national_id or "", party.kind.value, person, specialty_label, party.mode or "", rights, since)
        table.add_row(*map(escape, cells))
    _console.print(table)


def webps_url(
    page: Annotated[WebPsPage, typer.Argument(help="Web PS page.")],
    ins: Annotated[str | None, typer.Argument(help="The patient's INS (patient pages).")] = None,
    open_it: Annotated[bool, typer.Option("--open", help="Open it in the default browser.")] = False,
    config: ConfigOption = _CONFIG,
    as_json: JsonOption = False,
) -> None:
    """TD0.9: the web PS URL of a page (the professional then authenticates with his card or e-CPS)."""
    with _errors(), _client(config) as dmp:
        url = dmp.webps_url(page, ins)
    if as_json:
        typer.echo(json.dumps({"page": page.value, "url": url}))
    else:
        typer.echo(url)
    if open_it:
        webbrowser.open(url)


def register(app: typer.Typer) -> None:
    """Add the transaction commands to the ``dmp`` application."""
    app.command("exist")(exist)
    app.command("authorize")(authorize)
    app.command("patients")(patients)
    app.command("admin")(admin)
    app.command("authorizations")(authorizations)
    app.command("webps-url")(webps_url)
