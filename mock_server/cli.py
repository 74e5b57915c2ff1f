"""``dmp mock …`` (and ``python -m mock_server``): serve, seed, reset and inspect the mock DMP."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Final

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dmpclient.config import SERVICES_PATH
from dmpclient.errors import DmpError
from mock_server.handlers.registry import DEFAULT_MAX_RESULTS
from mock_server.injection import FaultInjector
from mock_server.psc import prepare_psc
from mock_server.psc.bearer import gate_check
from mock_server.psc.cli import app as psc_app
from mock_server.psc.provider import ProviderSettings
from mock_server.runtime import MockRuntime, prepare, write_client_config
from mock_server.seed import seed as seed_store
from mock_server.server import RunningServer, ServerLimits, serve_forever, start_in_thread
from mock_server.store import Store, database_path
from mock_server.store.records import StoreError
from mock_server.webps.server import start_webps_in_thread

__all__ = ["CLI_MIN_DOCUMENTS", "CLI_MIN_PATIENTS", "app", "module_args"]

app = typer.Typer(help="The bundled mock DMP (mutual TLS, VIHF checks, rights matrices, SQLite state).")
_console = Console()
app.add_typer(psc_app, name="psc")
DataOption = Annotated[Path, typer.Option("--data", help="Data directory (database, generated PKI, config).")]
_DEFAULT_DATA = Path(".dmp-mock")
#: The server limits ``dmp mock serve`` starts from (its options change some).
_LIMITS: Final = ServerLimits()
#: What issue 4 asks of a seeded mock (the library accepts less, for fast tests).
CLI_MIN_PATIENTS: Final = 20
CLI_MIN_DOCUMENTS: Final = 200


def module_args(argv: Sequence[str]) -> list[str]:
    """``python -m mock_server`` arguments: ``serve`` is implied unless a command (or ``--help``) comes first."""
    group = typer.main.get_command(app)
    known = {*(group.commands if isinstance(group, typer.core.TyperGroup) else ()), "--help"}
    return list(argv) if argv and argv[0] in known else ["serve", *argv]


@contextlib.contextmanager
def _clear_errors() -> Iterator[None]:
    """Configuration, store and database errors end the command with one clear line and exit code 2."""
    try:
        yield
    except (DmpError, StoreError, sqlite3.Error) as exc:
        kind = "database error" if isinstance(exc, sqlite3.Error) else "error"
        _console.print(f"[red]{kind}:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None


def _existing_store(data: Path) -> Store:
    """The store of ``data``, which must exist (inspecting commands never create an empty one)."""
    path = database_path(data)
    if not path.is_file():
        _console.print(
            f"[red]error:[/red] {escape(f'no mock database at {path} (run `dmp mock seed --data {data}` first)')}"
        )
        raise typer.Exit(2)
    return Store.open(path)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8443,
    data: DataOption = _DEFAULT_DATA,
    pki: Annotated[Path | None, typer.Option("--pki", help="Existing test PKI directory (else DATA/pki).")] = None,
    faults: Annotated[Path | None, typer.Option("--faults", help="TOML file of injected faults per service.")] = None,
    no_seed: Annotated[bool, typer.Option("--no-seed", help="Do not seed an empty database.")] = False,
    allow_unsigned: Annotated[bool, typer.Option(help="Accept unsigned VIHFs (test switch).")] = False,
    no_check_ins_key: Annotated[
        bool, typer.Option("--no-check-ins-key", help="Do not verify INS control keys (reference §12.1 switch).")
    ] = False,
    accept_any_action: Annotated[
        bool, typer.Option(help="Answer a body whatever its wsa:Action (default: a mismatch is a Sender fault).")
    ] = False,
    psc_port: Annotated[int, typer.Option(help="Port of the mock Pro Santé Connect provider (0: none).")] = 8444,
    psc_ciba_auto_approve: Annotated[
        float | None, typer.Option(help="Approve CIBA sign-ins by themselves after this many seconds.")
    ] = None,
    max_results: Annotated[
        int, typer.Option("--max-results", help="Objects a TD3.1 answer may hold (XDSTooManyResults).")
    ] = DEFAULT_MAX_RESULTS,
    webps_port: Annotated[
        int, typer.Option("--webps-port", help="Port of the web PS site for browsers (0: not served).")
    ] = 8445,
    max_connections: Annotated[
        int, typer.Option(help="Open connections; past it the one waiting longest for its headers is dropped.")
    ] = _LIMITS.max_connections,
    max_requests: Annotated[
        int, typer.Option(help="Requests in progress; past it a SOAP Receiver fault, HTTP 503 with Retry-After.")
    ] = _LIMITS.max_requests,
    header_timeout: Annotated[
        float, typer.Option(help="Seconds for a request's headers to arrive (slow clients are dropped).")
    ] = _LIMITS.header_timeout,
) -> None:
    """Serve the mock DMP over HTTPS with a required client certificate (generates a PKI on first run)."""
    if max_results < 1:
        raise typer.BadParameter("give at least 1", param_hint="--max-results")
    limits = _limits(max_connections, max_requests, header_timeout)
    with _clear_errors():
        injector = FaultInjector.from_toml(faults) if faults else None
        runtime = prepare(
            data,
            pki_dir=pki,
            seed_if_empty=not no_seed,
            faults=injector,
            require_signature=not allow_unsigned,
            check_ins_key=not no_check_ins_key,
            accept_any_action=accept_any_action,
            max_query_results=max_results,
        )
    base_url = f"https://{_client_host(host)}:{port}{SERVICES_PATH}"
    psc = _start_psc(runtime, host, psc_port, psc_ciba_auto_approve) if psc_port else None
    webps_url = f"https://localhost:{webps_port}" if webps_port else None
    config = write_client_config(runtime, base_url, psc.issuer if psc else None, webps_url=webps_url)
    _print_banner(runtime, base_url, config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    webps = _serve_webps(runtime, host, webps_port) if webps_port else None
    try:
        serve_forever(
            runtime.app,
            host=host,
            port=port,
            server_cert=runtime.pki.server.cert,
            server_key=runtime.pki.server.key,
            client_ca=runtime.pki.ca_bundle,
            limits=limits,
        )
    finally:
        if psc is not None:
            psc.server.stop()
        if webps is not None:
            webps.stop()
        runtime.close()


def _limits(max_connections: int, max_requests: int, header_timeout: float) -> ServerLimits:
    """The server limits of the command line (an idle keep-alive connection is kept at most ``header_timeout``)."""
    for value, hint in ((max_connections, "--max-connections"), (max_requests, "--max-requests")):
        if value < 1:
            raise typer.BadParameter("give at least 1", param_hint=hint)
    if header_timeout <= 0:
        raise typer.BadParameter("give a positive number of seconds", param_hint="--header-timeout")
    return dataclasses.replace(
        _LIMITS,
        max_connections=max_connections,
        max_requests=max_requests,
        header_timeout=header_timeout,
        keep_alive_timeout=min(_LIMITS.keep_alive_timeout, header_timeout),
    )


@dataclasses.dataclass(slots=True)
class _RunningPsc:
    issuer: str
    server: RunningServer


def _start_psc(runtime: MockRuntime, host: str, port: int, auto_approve: float | None) -> _RunningPsc:
    """The mock PSC provider on its own port, client certificate optional (browsers have none)."""
    origin = f"https://{_client_host(host)}:{port}"
    psc = prepare_psc(
        runtime.data_dir, runtime.pki, origin, settings=ProviderSettings(ciba_auto_approve_after=auto_approve)
    )
    pki = runtime.pki
    server = start_in_thread(
        psc.app,
        host=host,
        port=port,
        server_cert=pki.server.cert,
        server_key=pki.server.key,
        client_ca=pki.ca_bundle,
        tls12_only=False,
        require_client_cert=False,
        log_level="info",
    )
    runtime.app.gate.bearer_check = gate_check(psc.provider)  # a Bearer next to the VIHF is checked (§11.5)
    _console.print(f"[bold green]mock Pro Santé Connect[/bold green] on [bold]{escape(psc.provider.issuer)}[/bold]")
    _console.print("  sign in: dmp psc login --config DATA/dmpclient.toml; CIBA: dmp mock psc pending / approve")
    return _RunningPsc(psc.provider.issuer, server)


def _serve_webps(runtime: MockRuntime, host: str, port: int) -> RunningServer | None:
    """The web PS site on its own origin (browsers hold no client certificate); a busy port only warns."""
    try:
        server = start_webps_in_thread(
            runtime.webps.app(),
            server_cert=runtime.pki.server.cert,
            server_key=runtime.pki.server.key,
            host=host,
            port=port,
        )
    except (OSError, RuntimeError) as exc:
        _console.print(
            f"[yellow]warning:[/yellow] {escape(f'web PS site not served on port {port} ({exc})')}; use --webps-port"
        )
        return None
    _console.print(f"  web PS site (TD0.9/TD0.10) https://localhost:{port}/AccesDirect/TableauDeBord (no client cert)")
    return server


def _client_host(host: str) -> str:
    """The host a local client should use: a wildcard bind is reached on loopback (in the certificate SAN)."""
    if host in ("0.0.0.0", ""):  # noqa: S104 - mapping a wildcard bind, not binding
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _mask(ins: str | None, show: bool) -> str:
    if not ins:
        return "-"
    return ins if show else "…" + ins[-4:]


def _print_banner(runtime: MockRuntime, base_url: str, config: Path) -> None:
    pki = runtime.pki
    _console.print(f"[bold green]mock DMP[/bold green] starting on [bold]{escape(base_url)}[/bold]")  # [fd00::1]
    for line in (  # paths, not markup
        f"  trust this CA bundle      {pki.ca_bundle}",
        f"  client TLS (ORG AUTH_CLI) {pki.org_auth.cert}  key {pki.org_auth.key}",
        f"  VIHF signing (ORG SIGN)   {pki.org_sign.cert}  key {pki.org_sign.key}",
        f"  PKCS#12 files             *.p12 in {pki.directory} (password in {pki.p12_password_file.name})",
        f"  ready-made client config  {config}   →  dmp config check --config {config}",
    ):
        _console.print(line, markup=False)
    if runtime.seeded is not None:
        seeded = runtime.seeded
        _console.print(
            f"  seeded an empty database: {seeded.patients} patients, {seeded.documents} documents "
            f"(details: dmp mock seed --help, dmp mock trace)"
        )


@app.command()
def seed(
    data: DataOption = _DEFAULT_DATA,
    patients: Annotated[
        int, typer.Option(min=CLI_MIN_PATIENTS, help=f"Number of patients (at least {CLI_MIN_PATIENTS}).")
    ] = 24,
    documents: Annotated[
        int, typer.Option(min=CLI_MIN_DOCUMENTS, help=f"Number of documents (at least {CLI_MIN_DOCUMENTS}).")
    ] = 240,
    random_seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same data).")] = 1234,
    reset_first: Annotated[bool, typer.Option("--reset", help="Wipe the database before seeding.")] = False,
) -> None:
    """Fill the database with realistic fictitious patients, authorisations and CDA documents."""
    with _clear_errors(), Store.open(database_path(data)) as store:
        if reset_first:
            store.reset()
        summary = seed_store(
            store, patients=patients, documents=documents, random_seed=random_seed, now=dt.datetime.now(dt.UTC)
        )
    table = Table("what", "count", title=escape(f"seeded {database_path(data)}"))
    for name, value in dataclasses.asdict(summary).items():
        table.add_row(name, str(value))
    _console.print(table)


@app.command()
def reset(
    data: DataOption = _DEFAULT_DATA,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Wipe every row of the mock database (the schema and the PKI stay)."""
    with _clear_errors(), _existing_store(data) as store:
        if not yes:
            typer.confirm(f"Wipe every patient, document and trace of {store.path}?", abort=True)
        store.reset()
    _console.print(f"reset {database_path(data)}", markup=False)


@app.command()
def trace(
    data: DataOption = _DEFAULT_DATA,
    patient: Annotated[str | None, typer.Option("--patient", help="Only this patient's INS.")] = None,
    limit: Annotated[int, typer.Option(help="Most recent entries to show.")] = 50,
    show_ins: Annotated[bool, typer.Option("--show-ins", help="Print whole INS values (masked by default).")] = False,
) -> None:
    """Show the access trace ("historique des accès"): who called which TD on which patient, and the outcome."""
    with _clear_errors(), _existing_store(data) as store:
        entries = store.access_trace(patient=patient, limit=limit)
    table = Table("when (UTC)", "TD", "outcome", "caller", "mode", "access", "patient", "detail")
    for entry in entries:
        cells = (
            entry.at.strftime("%Y-%m-%d %H:%M:%S"),
            entry.td,
            entry.outcome.value,
            f"{entry.ps_id or '-'}@{entry.structure_id or '-'}",
            entry.auth_mode or "-",
            entry.access_mode or "-",
            _mask(entry.patient_ins, show_ins),
            (entry.detail or "")[:60],
        )
        table.add_row(*map(escape, cells))  # what callers sent: text, not markup
    _console.print(table)
