"""``dmp find``, ``dmp get``, ``dmp versions``: consultation from the command line (TD3.1, TD3.2, §7.3).

Each command loads the configuration (``--config`` or ``$DMP_CONFIG``), acts for the professional named by
``--ps-id`` (AIR by default), prints a table, or JSON with ``--json``. Patient INS are shown masked in
tables; JSON output is complete (it is meant for programs).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dmpclient import CallerIdentity, DmpClient, DmpError, InsOid
from dmpclient.cli.identity import IdentityOptions, with_identity
from dmpclient.ids import mask_ins
from dmpclient.inspection import to_jsonable
from dmpclient.xds.codes import AvailabilityStatus
from dmpclient.xds.models import DocumentEntry, ReturnType
from dmpclient.xds.results import QueryResult
from dmpclient.xds.versions import KnownDocument, NewVersionsReport

__all__ = ["ConfigOption", "JsonOption", "OidOption", "find", "get", "versions"]

T = TypeVar("T")
_console = Console()


class Status(StrEnum):
    """Availability statuses by their short name (reference §4.7)."""

    APPROVED = "approved"
    DEPRECATED = "deprecated"
    ARCHIVED = "archived"
    DELETED = "deleted"

    @property
    def urn(self) -> AvailabilityStatus:
        return AvailabilityStatus[self.name]


ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="TOML configuration (default: $DMP_CONFIG).")]
OidOption = Annotated[str, typer.Option("--ins-oid", help="INS assigning authority (1.2.250.1.213.1.4.10: test).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _fail(message: str) -> typer.Exit:
    _console.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(2)


@contextmanager
def _client(config_file: Path | None, who: IdentityOptions) -> Iterator[tuple[DmpClient, CallerIdentity]]:
    """The client and the caller of a command; a configuration or identity error is one clear line."""
    try:
        with who.connect(config_file) as connected:
            yield connected
    except DmpError as exc:
        raise _fail(exc.message) from None


def _run(action: Callable[[], T]) -> T:
    try:
        return action()
    except DmpError as exc:
        raise _fail(str(exc)) from None


def _time(value: str | None, option: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _fail(f"{option}: give an ISO 8601 date or date-time, e.g. 2024-01-31 or 2024-01-31T08:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _mask(ins: str) -> str:
    return "*" * max(len(ins) - 4, 0) + ins[-4:]


def _echo_json(value: Any) -> None:
    typer.echo(json.dumps(to_jsonable(value), ensure_ascii=False, indent=2))


def _flags(entry: DocumentEntry) -> str:
    flags = ["masqué PS"] if entry.is_masked else []
    if not entry.is_visible_to_patient:
        flags.append("invisible patient")
    if not entry.is_visible_to_legal_representatives:
        flags.append("invisible repr. légaux")
    return ", ".join(flags)


def _documents_table(result: QueryResult, title: str) -> Table:
    table = Table("created", "title", "type", "status", "flags", "size", "uniqueId", title=title)
    for entry in result.documents:
        created = entry.creation_time.strftime("%Y-%m-%d %H:%M") if entry.creation_time else ""
        status = str(entry.status or "").rsplit(":", 1)[-1]
        kind = entry.type_code.display or entry.type_code.code if entry.type_code else ""
        size = str(entry.size) if entry.size is not None else ""
        cells = (created, entry.title or "", kind, status, _flags(entry), size, entry.unique_id)
        table.add_row(*map(escape, cells))  # titles and codes come from the DMP: text, not markup
    return table


def _print_query(result: QueryResult, title: str) -> None:
    if result.references:
        table = Table("entryUUID", title=title)
        for reference in result.references:
            table.add_row(escape(reference.id))
        _console.print(table)
    else:
        _console.print(_documents_table(result, title))
    for error in result.errors:
        _console.print(
            f"[yellow]{escape(error.error_code)}[/yellow] {escape(mask_ins(error.code_context))}", highlight=False
        )


@with_identity
def find(
    ins: Annotated[str, typer.Argument(help="Patient INS.")],
    config_file: ConfigOption = None,
    ins_oid: OidOption = InsOid.NIR.value,
    status: Annotated[list[Status] | None, typer.Option("--status", help="Statuses (repeatable).")] = None,
    class_code: Annotated[list[str] | None, typer.Option("--class-code", help="classCode (repeatable, OR).")] = None,
    type_code: Annotated[list[str] | None, typer.Option("--type-code", help="typeCode (repeatable, OR).")] = None,
    format_code: Annotated[list[str] | None, typer.Option("--format-code", help="formatCode (OR).")] = None,
    event_code: Annotated[list[str] | None, typer.Option("--event-code", help="code^^system (OR).")] = None,
    author: Annotated[list[str] | None, typer.Option("--author", help="authorPerson pattern (%, _).")] = None,
    created_from: Annotated[str | None, typer.Option(help="Created at or after (ISO 8601).")] = None,
    created_to: Annotated[str | None, typer.Option(help="Created before (ISO 8601).")] = None,
    service_from: Annotated[str | None, typer.Option(help="Service started at or after.")] = None,
    service_to: Annotated[str | None, typer.Option(help="Service started before.")] = None,
    references: Annotated[bool, typer.Option("--references", help="ObjectRef search (TD3.1b).")] = False,
    as_json: JsonOption = False,
    *,
    who: IdentityOptions,
) -> None:
    """Search a patient's documents (TD3.1 FindDocuments)."""
    filters: dict[str, Any] = {
        "status": [s.urn for s in status or [Status.APPROVED]],
        "class_codes": class_code or [],
        "type_codes": type_code or [],
        "format_codes": format_code or [],
        "event_codes": event_code or [],
        "author_persons": author or [],
    }
    times = {
        "created_from": _time(created_from, "--created-from"),
        "created_to": _time(created_to, "--created-to"),
        "service_start_from": _time(service_from, "--service-from"),
        "service_start_to": _time(service_to, "--service-to"),
    }
    filters |= {key: value for key, value in times.items() if value is not None}
    return_type = ReturnType.OBJECT_REF if references else ReturnType.LEAF_CLASS
    with _client(config_file, who) as (client, caller):
        result = _run(lambda: client.find_documents(ins, caller, ins_oid=ins_oid, return_type=return_type, **filters))
    if as_json:
        _echo_json(result)
    else:
        _print_query(result, f"{len(result.documents) or len(result.references)} document(s) of {_mask(ins)}")


@with_identity
def get(
    unique_id: Annotated[str, typer.Argument(help="Document uniqueId (not its entryUUID).")],
    ins: Annotated[str, typer.Option("--ins", help="Patient INS.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the document.")],
    config_file: ConfigOption = None,
    ins_oid: OidOption = InsOid.NIR.value,
    check: Annotated[
        bool, typer.Option("--check/--no-check", help="Read the size and hash first (TD3.1) and verify them.")
    ] = True,
    as_json: JsonOption = False,
    *,
    who: IdentityOptions,
) -> None:
    """Retrieve one document (TD3.2), streamed to --out and checked against its registry size and hash."""
    with _client(config_file, who) as (client, caller):
        target: DocumentEntry | str = unique_id
        if check:
            found = _run(lambda: client.get_documents(ins, caller, ins_oid=ins_oid, unique_ids=[unique_id]))
            if not found.documents:
                raise _fail(f"no document {unique_id} for this patient (or not visible to this caller)")
            target = found.documents[0]
        document = _run(lambda: client.retrieve_document(ins, caller, target, ins_oid=ins_oid, out=out))
    if as_json:
        _echo_json(document.model_copy(update={"content": None}))
        return
    checked = " (size and SHA-1 checked)" if check else ""
    _console.print(
        f"[green]{escape(document.document_unique_id)}[/green] "
        + escape(f"{document.mime_type}, {document.size} bytes, SHA-1 {document.hash}{checked} → {document.path}"),
        highlight=False,
    )


def _known(file: Path) -> list[KnownDocument]:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _fail(f"--known {file}: {exc}") from None
    if not isinstance(data, list):
        raise _fail("--known: expected a JSON list of uniqueIds or of {unique_id, entry_uuid} objects")
    try:
        return [KnownDocument(unique_id=item) if isinstance(item, str) else KnownDocument(**item) for item in data]
    except (TypeError, ValueError) as exc:
        raise _fail(f"--known: {exc}") from None


def _versions_table(report: NewVersionsReport) -> Table:
    table = Table(
        "uniqueId", "state", "current uniqueId", "newer versions", title=f"{report.round_trips} round trip(s)"
    )
    for check in report.checks:
        current = check.current.unique_id if check.current else ""
        table.add_row(escape(check.known.unique_id), check.state.value, escape(current), str(len(check.newer)))
    return table


@with_identity
def versions(
    ins: Annotated[str, typer.Argument(help="Patient INS.")],
    known: Annotated[Path, typer.Option("--known", help="JSON list of the documents already integrated.")],
    config_file: ConfigOption = None,
    ins_oid: OidOption = InsOid.NIR.value,
    as_json: JsonOption = False,
    *,
    who: IdentityOptions,
) -> None:
    """Which integrated documents have a newer version in the DMP (one search per patient, reference §7.3)."""
    documents = _known(known)
    with _client(config_file, who) as (client, caller):
        report = _run(lambda: client.find_new_versions(ins, caller, documents, ins_oid=ins_oid))
    if as_json:
        _echo_json(report)
    else:
        _console.print(_versions_table(report))
