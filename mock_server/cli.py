"""``dmp mock …`` (and ``python -m mock_server``): serve, seed, reset and inspect the mock DMP."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from dmpclient.config import SERVICES_PATH
from dmpclient.errors import DmpError
from mock_server.faults import FaultInjector
from mock_server.runtime import MockRuntime, prepare, write_client_config
from mock_server.seed import MIN_DOCUMENTS, MIN_PATIENTS
from mock_server.seed import seed as seed_store
from mock_server.server import serve_forever
from mock_server.state import Store, database_path

__all__ = ["app"]

app = typer.Typer(help="The bundled mock DMP (mutual TLS, VIHF checks, rights matrices, SQLite state).")
_console = Console()
DataOption = Annotated[Path, typer.Option("--data", help="Data directory (database, generated PKI, config).")]
_DEFAULT_DATA = Path(".dmp-mock")


def _fail(exc: DmpError) -> typer.Exit:
    _console.print(f"[red]error:[/red] {exc}")
    return typer.Exit(2)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8443,
    data: DataOption = _DEFAULT_DATA,
    pki: Annotated[Path | None, typer.Option("--pki", help="Existing test PKI directory (else DATA/pki).")] = None,
    faults: Annotated[Path | None, typer.Option("--faults", help="TOML file of injected faults per service.")] = None,
    no_seed: Annotated[bool, typer.Option("--no-seed", help="Do not seed an empty database.")] = False,
    allow_unsigned: Annotated[bool, typer.Option(help="Accept unsigned VIHFs (test switch).")] = False,
) -> None:
    """Serve the mock DMP over HTTPS with a required client certificate (generates a PKI on first run)."""
    try:
        injector = FaultInjector.from_toml(faults) if faults else None
        runtime = prepare(
            data, pki_dir=pki, seed_if_empty=not no_seed, faults=injector, require_signature=not allow_unsigned
        )
    except DmpError as exc:
        raise _fail(exc) from None
    base_url = f"https://{_client_host(host)}:{port}{SERVICES_PATH}"
    config = write_client_config(runtime, base_url)
    _print_banner(runtime, base_url, config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        serve_forever(
            runtime.app,
            host=host,
            port=port,
            server_cert=runtime.pki.server.cert,
            server_key=runtime.pki.server.key,
            client_ca=runtime.pki.ca_bundle,
        )
    finally:
        runtime.close()


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
    _console.print(f"[bold green]mock DMP[/bold green] listening on [bold]{base_url}[/bold]")
    _console.print(f"  trust this CA bundle      {pki.ca_bundle}")
    _console.print(f"  client TLS (ORG AUTH_CLI) {pki.org_auth.cert}  key {pki.org_auth.key}")
    _console.print(f"  VIHF signing (ORG SIGN)   {pki.org_sign.cert}  key {pki.org_sign.key}")
    _console.print(f"  PKCS#12 files             *.p12 in {pki.directory} (password in {pki.p12_password_file.name})")
    _console.print(f"  ready-made client config  {config}   →  dmp config check --config {config}")
    if runtime.seeded is not None:
        seeded = runtime.seeded
        _console.print(
            f"  seeded an empty database: {seeded.patients} patients, {seeded.documents} documents "
            f"(details: dmp mock seed --help, dmp mock trace)"
        )


@app.command()
def seed(
    data: DataOption = _DEFAULT_DATA,
    patients: Annotated[int, typer.Option(help=f"Number of patients (at least {MIN_PATIENTS}).")] = 24,
    documents: Annotated[int, typer.Option(help=f"Number of documents (at least {MIN_DOCUMENTS}).")] = 240,
    random_seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same data).")] = 1234,
    reset_first: Annotated[bool, typer.Option("--reset", help="Wipe the database before seeding.")] = False,
) -> None:
    """Fill the database with realistic fictitious patients, authorisations and CDA documents."""
    with Store.open(database_path(data)) as store:
        if reset_first:
            store.reset()
        try:
            summary = seed_store(
                store, patients=patients, documents=documents, random_seed=random_seed, now=dt.datetime.now(dt.UTC)
            )
        except DmpError as exc:
            raise _fail(exc) from None
    table = Table("what", "count", title=f"seeded {database_path(data)}")
    for name, value in dataclasses.asdict(summary).items():
        table.add_row(name, str(value))
    _console.print(table)


@app.command()
def reset(data: DataOption = _DEFAULT_DATA) -> None:
    """Wipe every row of the mock database (the schema and the PKI stay)."""
    with Store.open(database_path(data)) as store:
        store.reset()
    _console.print(f"reset {database_path(data)}")


@app.command()
def trace(
    data: DataOption = _DEFAULT_DATA,
    patient: Annotated[str | None, typer.Option("--patient", help="Only this patient's INS.")] = None,
    limit: Annotated[int, typer.Option(help="Most recent entries to show.")] = 50,
    show_ins: Annotated[bool, typer.Option("--show-ins", help="Print whole INS values (masked by default).")] = False,
) -> None:
    """Show the access trace ("historique des accès"): who called which TD on which patient, and the outcome."""
    with Store.open(database_path(data)) as store:
        entries = store.access_trace(patient=patient, limit=limit)
    table = Table("when (UTC)", "TD", "outcome", "caller", "mode", "access", "patient", "detail")
    for entry in entries:
        table.add_row(
            entry.at.strftime("%Y-%m-%d %H:%M:%S"),
            entry.td,
            entry.outcome.value,
            f"{entry.ps_id or '-'}@{entry.structure_id or '-'}",
            entry.auth_mode or "-",
            entry.access_mode or "-",
            _mask(entry.patient_ins, show_ins),
            (entry.detail or "")[:60],
        )
    _console.print(table)
