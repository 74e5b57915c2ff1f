"""``dmp feed``, ``dmp replace``, ``dmp mask|unmask|show|hide|archive|unarchive|delete`` (TD2.1, TD3.3).

``dmp feed DIR|FILES…`` sends each CDA in its own submission (``--concurrency`` at a time) with a progress
bar, keeps a journal (``--journal``, SQLite) so that a run interrupted at any point resumes without sending
a document twice, and writes one JSON outcome per document (``--report``). Who sends is explicit: a
professional (``--ps-id`` and his profession), or a device or role (``--device AUTOMATE --device-name
"PFI, v3, BAL"``, answered for by ``--ps-id``); the documents' authors come from their CDA (DMP-CONF 12).
Feeding uses the INDIRECTE mode (the structure's certificate; TD2.1 is refused in AIR, §8.3).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dmpclient import Actor, AuthMode, CallerIdentity, DmpClient, DmpConfig, DmpError, InsOid, PurposeOfUse
from dmpclient.cli.consult import ConfigOption, JsonOption, OidOption
from dmpclient.cli.identity import NameOption, ProfessionOption, PsIdOption, SpecialtyOption
from dmpclient.codes import Code, ValueSetId, load_value_set
from dmpclient.feeding import FeedJournal, FeedOutcome, FeedReport
from dmpclient.inspection import to_jsonable
from dmpclient.security.vihf import NonPsRole
from dmpclient.transactions.feeding import FeedDocument, SubmissionOptions
from dmpclient.transactions.lifecycle import Audience, LifecycleAction
from dmpclient.xds.cda_metadata import MetadataOverrides, Visibility
from dmpclient.xds.codes import AvailabilityStatus

__all__ = ["LIFECYCLE_COMMANDS", "feed", "replace"]

T = TypeVar("T")
_console = Console()
_DEFAULT_JOURNAL = Path("dmp-feed-journal.sqlite3")

DeviceOption = Annotated[
    NonPsRole | None, typer.Option("--device", help="The sender is a device or role (TRE_A00), not a professional.")
]
DeviceNameOption = Annotated[
    str | None, typer.Option("--device-name", help="The device: 'software, model, service' (VIHF subject-id).")
]
ContentTypeOption = Annotated[str, typer.Option("--content-type", help="Submission contentTypeCode (JDV_J59).")]
PracticeOption = Annotated[
    str | None, typer.Option("--practice-setting", help="practiceSettingCode when the CDA gives none (JDV_J62).")
]
FacilityOption = Annotated[
    str | None, typer.Option("--facility-type", help="healthcareFacilityTypeCode when the CDA gives none (J61).")
]
MaskedOption = Annotated[bool, typer.Option("--masked", help="Mask the documents to professionals (MASQUE_PS).")]
InvisibleOption = Annotated[bool, typer.Option("--invisible-to-patient", help="INVISIBLE_PATIENT.")]
InvisibleRepsOption = Annotated[
    bool, typer.Option("--invisible-to-legal-representatives", help="INVISIBLE_REPRESENTANTS_LEGAUX.")
]
ModeOption = Annotated[AuthMode, typer.Option("--mode", help="VIHF mode of the caller (feeding: INDIRECTE).")]


def _fail(message: str) -> typer.Exit:
    _console.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(2)


def _identity(
    ps_id: str | None,
    name: str | None,
    profession: str,
    specialty: str | None,
    device: NonPsRole | None,
    device_name: str | None,
    mode: AuthMode,
) -> CallerIdentity:
    if not ps_id:
        raise _fail("--ps-id: give the national id of the sender (or of the feed's owner; env DMP_PS_ID)")
    try:
        if device is not None:
            actor = Actor.device(ps_id, name=device_name or "dmpclient", kind=device)
        else:
            actor = Actor.professional(ps_id, name=name, profession=profession, specialty=specialty)
    except (DmpError, ValueError) as exc:
        raise _fail(str(exc)) from None
    return CallerIdentity(actor, mode=mode, purpose=PurposeOfUse.NORMAL)


@contextmanager
def _client(config_file: Path | None) -> Iterator[DmpClient]:
    try:
        config = DmpConfig.load(config_file)
    except DmpError as exc:
        raise _fail(exc.message) from None
    with DmpClient(config) as client:
        yield client


def _run(action: Callable[[], T]) -> T:
    try:
        return action()
    except DmpError as exc:
        raise _fail(str(exc)) from None


def _code(value_set: ValueSetId, code: str | None, option: str) -> Code | None:
    return load_value_set(value_set).require(code, field=option) if code else None


def _options(content_type: str, practice: str | None, facility: str | None) -> SubmissionOptions:
    try:
        defaults = MetadataOverrides(
            practice_setting_code=_code(ValueSetId.PRACTICE_SETTING_CODE, practice, "--practice-setting"),
            healthcare_facility_type_code=_code(ValueSetId.HEALTHCARE_FACILITY_TYPE_CODE, facility, "--facility-type"),
        )
        return SubmissionOptions(content_type_code=content_type, defaults=defaults)
    except DmpError as exc:
        raise _fail(exc.message) from None


def _documents(paths: list[Path]) -> Iterator[Path]:
    """Each file given, and each ``*.xml`` of each directory given (sorted): read lazily."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.glob("*.xml") if p.is_file())
        else:
            yield path


def _count(paths: list[Path]) -> int:
    return sum(1 for _ in _documents(paths))


class _Report:
    """Streams the outcomes to a JSON array file, and keeps the refused ones for the summary table."""

    def __init__(self, handle: IO[str] | None) -> None:
        self._handle = handle
        self._first = True
        self.problems: list[FeedOutcome] = []
        if handle is not None:
            handle.write("[\n")

    def add(self, outcome: FeedOutcome) -> None:
        if not outcome.status.ok and len(self.problems) < 50:
            self.problems.append(outcome)
        if self._handle is not None:
            self._handle.write(("" if self._first else ",\n") + json.dumps(to_jsonable(outcome), ensure_ascii=False))
            self._first = False

    def close(self) -> None:
        if self._handle is not None:
            self._handle.write("\n]\n")


def _summary(report: FeedReport, problems: list[FeedOutcome]) -> None:
    table = Table("outcome", "documents", title=f"{report.total} document(s) in {report.seconds:.1f} s")
    for status, count in sorted(report.counts.items()):
        table.add_row(status.value, str(count))
    _console.print(table)
    if problems:
        details = Table("source", "outcome", "code", "message", title="documents not in the DMP")
        for outcome in problems:
            cells = (outcome.source, outcome.status.value, outcome.error_code or "", (outcome.message or "")[:80])
            details.add_row(*map(escape, cells))  # file names and DMP messages: text, not markup
        _console.print(details)


def feed(
    paths: Annotated[list[Path], typer.Argument(help="CDA files, or directories of *.xml CDA files.")],
    ps_id: PsIdOption = None,
    config_file: ConfigOption = None,
    name: NameOption = None,
    profession: ProfessionOption = "10",
    specialty: SpecialtyOption = None,
    device: DeviceOption = None,
    device_name: DeviceNameOption = None,
    content_type: ContentTypeOption = "97",
    practice_setting: PracticeOption = None,
    facility_type: FacilityOption = None,
    masked: MaskedOption = False,
    invisible_to_patient: InvisibleOption = False,
    invisible_to_legal_representatives: InvisibleRepsOption = False,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=64, help="Submissions in flight.")] = 4,
    journal: Annotated[
        Path, typer.Option("--journal", help="SQLite journal (resume, no duplicate).")
    ] = _DEFAULT_JOURNAL,
    no_journal: Annotated[bool, typer.Option("--no-journal", help="Keep no journal (no resume).")] = False,
    report: Annotated[Path | None, typer.Option("--report", help="Write one JSON outcome per document here.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Feed CDA documents to the DMP (TD2.1), one submission each, resuming from the journal."""
    who = _identity(ps_id, name, profession, specialty, device, device_name, AuthMode.INDIRECTE)
    options = _options(content_type, practice_setting, facility_type)
    visibility = Visibility(
        masked=masked,
        invisible_to_patient=invisible_to_patient,
        invisible_to_legal_representatives=invisible_to_legal_representatives,
    )
    total = _count(paths)
    documents = (FeedDocument(content=path, visibility=visibility) for path in _documents(paths))
    handle = report.open("w", encoding="utf-8") if report else None
    sink = _Report(handle)
    try:
        with (
            _client(config_file) as client,
            (FeedJournal(journal) if not no_journal else _nothing()) as opened,
            Progress(
                TextColumn("feeding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=_console, disable=as_json,
            ) as progress,
        ):  # fmt: skip
            task = progress.add_task("feed", total=total)

            def on_outcome(outcome: FeedOutcome) -> None:
                sink.add(outcome)
                progress.advance(task)

            summary = _run(
                lambda: client.feed_many(
                    documents, who, options=options, journal=opened, concurrency=concurrency, on_outcome=on_outcome
                )
            )
    finally:
        sink.close()
        if handle is not None:
            handle.close()
    if as_json:
        problems = [to_jsonable(outcome) for outcome in sink.problems]
        document = {
            "ok": summary.ok,
            "seconds": summary.seconds,
            "counts": to_jsonable(summary.counts),
            "problems": problems,
        }
        typer.echo(json.dumps(document, ensure_ascii=False))
    else:
        _summary(summary, sink.problems)
    if not summary.ok:
        raise typer.Exit(1)


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


def replace(
    previous_unique_id: Annotated[str, typer.Argument(help="uniqueId of the version to replace.")],
    new_cda: Annotated[Path, typer.Argument(help="The new version (a CDA with setId, versionNumber, RPLC).")],
    ps_id: PsIdOption = None,
    previous_cda: Annotated[
        Path | None, typer.Option("--previous-cda", help="The previous version (else read back from the DMP).")
    ] = None,
    config_file: ConfigOption = None,
    name: NameOption = None,
    profession: ProfessionOption = "10",
    specialty: SpecialtyOption = None,
    device: DeviceOption = None,
    device_name: DeviceNameOption = None,
    mode: ModeOption = AuthMode.INDIRECTE,
    content_type: ContentTypeOption = "97",
    practice_setting: PracticeOption = None,
    facility_type: FacilityOption = None,
    as_json: JsonOption = False,
) -> None:
    """Publish a new version of a document (TD2.1 with RPLC), after checking the CDA versioning rules."""
    who = _identity(ps_id, name, profession, specialty, device, device_name, mode)
    options = _options(content_type, practice_setting, facility_type)
    with _client(config_file) as client:
        result = _run(
            lambda: client.replace(previous_unique_id, new_cda, who, previous_cda=previous_cda, options=options)
        )
    if as_json:
        typer.echo(json.dumps(to_jsonable(result), ensure_ascii=False, indent=2))
        return
    (document,) = result.documents
    _console.print(
        f"[green]{escape(document.unique_id)}[/green] "
        + escape(
            f"(version {document.version_number}) replaces {previous_unique_id}; "
            f"submission {result.submission_set_unique_id}"
        ),
        highlight=False,
    )


def _lifecycle(action: LifecycleAction, help_text: str) -> Callable[..., None]:
    def command(
        ins: Annotated[str, typer.Argument(help="Patient INS.")],
        unique_id: Annotated[str, typer.Argument(help="Document uniqueId.")],
        ps_id: PsIdOption = None,
        config_file: ConfigOption = None,
        name: NameOption = None,
        profession: ProfessionOption = "10",
        specialty: SpecialtyOption = None,
        mode: ModeOption = AuthMode.AIR,
        ins_oid: OidOption = InsOid.NIR.value,
        audience: Annotated[Audience, typer.Option("--audience", help="show / hide: whom.")] = Audience.PATIENT,
        current_status: Annotated[
            str | None, typer.Option("--current-status", help="delete without reading metadata: approved|archived.")
        ] = None,
        precheck: Annotated[bool, typer.Option("--precheck/--no-precheck", help="Local rights pre-check.")] = True,
        as_json: JsonOption = False,
    ) -> None:
        who = _identity(ps_id, name, profession, specialty, None, None, mode)
        status = AvailabilityStatus[current_status.upper()] if current_status else None
        with _client(config_file) as client:
            method = getattr(client, action.value)
            extra: dict[str, Any] = {}
            if action in (LifecycleAction.SHOW, LifecycleAction.HIDE):
                extra["audience"] = audience
            if action is LifecycleAction.DELETE:
                extra["current_status"] = status
            result = _run(lambda: method(ins, unique_id, who, ins_oid=ins_oid, precheck=precheck, **extra))
        if as_json:
            typer.echo(json.dumps(to_jsonable(result), ensure_ascii=False, indent=2))
            return
        state = (
            result.status.value.rsplit(":", 1)[-1]
            if result.status
            else ", ".join(c.code for c in result.confidentiality_codes)
        )
        _console.print(f"[green]{action.value}[/green] {escape(unique_id)}: {escape(state)}", highlight=False)

    command.__doc__ = help_text
    command.__name__ = action.value
    return command


#: The TD3.3 commands, by name.
LIFECYCLE_COMMANDS: dict[str, Callable[..., None]] = {
    "mask": _lifecycle(LifecycleAction.MASK, "Mask a document to professionals (TD3.3a)."),
    "unmask": _lifecycle(LifecycleAction.UNMASK, "Unmask a document (TD3.3a; own documents, or the MT)."),
    "show": _lifecycle(
        LifecycleAction.SHOW, "Make a document visible to the patient or legal representatives (TD3.3b)."
    ),
    "hide": _lifecycle(LifecycleAction.HIDE, "Hide a published document (no matrix row allows it: refused)."),
    "archive": _lifecycle(LifecycleAction.ARCHIVE, "Archive a document (TD3.3d)."),
    "unarchive": _lifecycle(LifecycleAction.UNARCHIVE, "Unarchive a document (TD3.3d)."),
    "delete": _lifecycle(LifecycleAction.DELETE, "Delete a document (TD3.3c)."),
}
