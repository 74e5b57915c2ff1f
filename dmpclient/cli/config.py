"""``dmp config``: check a configuration, its certificates and the identity it sends to the DMP."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Final

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dmpclient.config import DmpConfig
from dmpclient.errors import DmpConfigError
from dmpclient.security.credentials import Credential, load_certificates

__all__ = ["EXIT_ERRORS", "EXIT_OK", "EXIT_WARNINGS", "app"]

app = typer.Typer(help="Client configuration (TOML file + DMP_* environment variables).", no_args_is_help=True)
_console = Console()

EXIT_OK: Final = 0
EXIT_WARNINGS: Final = 1
EXIT_ERRORS: Final = 2
EXPIRY_WARNING_DAYS: Final = 30
_CHECK_HELP: Final = (
    "Load the configuration and the certificates, and report what the DMP would object to.\n\n"
    "Exit status 0: all good.\n\n"
    "Exit status 1: usable, with warnings (certificate expiring within 30 days, not an ORG certificate, "
    "TLS certificate without clientAuth, certificate OU different from structure.id, TLS and signing "
    "subjects differ).\n\n"
    "Exit status 2: errors (invalid configuration, unreadable credentials, key not matching its "
    "certificate, expired certificate).\n\n"
    "Keys and passwords are never printed."
)


@dataclass
class _Report:
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_ERRORS if self.errors else EXIT_WARNINGS if self.warnings else EXIT_OK


def _check_credential(label: str, credential: Credential, config: DmpConfig, report: _Report, *, tls: bool) -> Table:
    now = dt.datetime.now(dt.UTC)
    certificate = credential.certificate
    days = credential.days_left(now)
    table = Table(title=label, show_header=False, title_justify="left")
    table.add_row("subject", escape(credential.subject))
    table.add_row("issuer", escape(certificate.issuer.rfc4514_string()))
    table.add_row("valid from", certificate.not_valid_before_utc.isoformat())
    table.add_row("valid until", f"{certificate.not_valid_after_utc.isoformat()} ({days:.0f} days left)")
    if days < 0:
        report.errors.append(f"{label}: the certificate expired on {certificate.not_valid_after_utc:%Y-%m-%d}")
    elif days < EXPIRY_WARNING_DAYS:
        report.warnings.append(f"{label}: the certificate expires in {days:.0f} days — order its renewal")
    if certificate.not_valid_before_utc > now:
        report.errors.append(f"{label}: the certificate is not valid yet")
    if not credential.key_matches():
        report.errors.append(f"{label}: the private key does not belong to the certificate")
    if not credential.is_organisation_certificate():
        report.warnings.append(f"{label}: not an organisation (ORG) certificate — the DMP expects IGC-Santé ORG ones")
    if tls and not credential.has_client_auth():
        report.warnings.append(f"{label}: no clientAuth extended key usage — it cannot authenticate a TLS client")
    if credential.organizational_unit != config.structure.id:
        report.warnings.append(
            f"{label}: certificate OU {credential.organizational_unit!r} differs from structure.id "
            f"{config.structure.id!r} (the DMP compares them)"
        )
    return table


def _summary(config: DmpConfig) -> Table:
    table = Table(title="configuration", show_header=False, title_justify="left")
    table.add_row("environment", "custom (base_url)" if config.base_url else config.environment)
    table.add_row("base URL", escape(config.endpoint))  # an IPv6 literal host is bracketed
    table.add_row("CA bundle", escape(f"{config.ca_bundle} ({len(load_certificates(config.ca_bundle))} certificates)"))
    lps = config.lps
    table.add_row(
        "LPS", escape(f"{lps.nom} {lps.version} (id {lps.id or '-'}, homologation {lps.id_homologation_dmp})")
    )
    structure = config.structure
    table.add_row("structure", escape(f"{structure.id} {structure.secteur_activite} {structure.name}".rstrip()))
    table.add_row("retries", f"{config.retry.max_attempts} attempt(s) for idempotent calls")
    return table


def _load_credential(config: DmpConfig, report: _Report, *, tls: bool) -> Credential | None:
    try:
        return config.load_tls_credential() if tls else config.load_signing_credential()
    except DmpConfigError as exc:
        report.errors.append(exc.message)
        return None


@app.command("check", help=_CHECK_HELP)
def check(
    config_file: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="TOML configuration file (default: $DMP_CONFIG); DMP_* variables apply."),
    ] = None,
) -> None:
    """Load the configuration and the certificates, and report what the DMP would object to."""
    report = _Report()
    try:
        config = DmpConfig.load(config_file)
    except DmpConfigError as exc:
        _console.print(f"[red]error:[/red] {escape(exc.message)}")  # names TOML sections: [credentials.tls]…
        raise typer.Exit(EXIT_ERRORS) from None
    _console.print(_summary(config))
    subjects = []
    for label, tls in (("TLS client certificate (credentials.tls)", True), ("VIHF signing certificate", False)):
        if not tls and config.credentials.signing is None:
            report.warnings.append("credentials.signing is not configured: only DIRECTE (card) mode can sign VIHFs")
            continue
        credential = _load_credential(config, report, tls=tls)
        if credential is not None:
            _console.print(_check_credential(label, credential, config, report, tls=tls))
            subjects.append(credential.subject)
    if len(set(subjects)) > 1:
        report.warnings.append("the TLS and signing certificates have different subjects (the DMP expects the same DN)")
    for warning in report.warnings:
        _console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    for error in report.errors:
        _console.print(f"[red]error:[/red] {escape(error)}")
    if report.exit_code == EXIT_OK:
        _console.print("[green]configuration OK[/green]")
    raise typer.Exit(report.exit_code)
