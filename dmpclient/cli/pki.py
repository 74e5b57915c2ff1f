"""``dmp pki``: generate the IGC-Santé-like test PKI."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from dmpclient.errors import DmpConfigError
from dmpclient.security.pki import init_test_pki

app = typer.Typer(help="Test PKI (IGC-Santé-like hierarchy, for the mock DMP and tests only).", no_args_is_help=True)
_console = Console()


@app.command("init")
def init(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the PKI into.")],
    structure_id: Annotated[str, typer.Option(help="Struct_IdNat of the test structure (certificate OU).")] = (
        "10B0127189"
    ),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing PKI in OUT.")] = False,
) -> None:
    """Generate root CA, ORGANISATIONS/PERSONNES CAs, ORG AUTH_CLI + ORG SIGN, PS card and server certs."""
    try:
        pki = init_test_pki(out, structure_id=structure_id, overwrite=force)
    except DmpConfigError as exc:
        _console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    _console.print(f"[green]test PKI written to[/green] {escape(str(pki.directory))}")
    for label, files in (
        ("ORG AUTH_CLI (mTLS)", pki.org_auth),
        ("ORG SIGN (VIHF)", pki.org_sign),
        ("PS card signature (DIRECTE)", pki.ps_sign),
        ("PS card authentication (mTLS)", pki.ps_auth),
        ("mock server", pki.server),
    ):
        if files is not None:
            _console.print(f"  {label:30} {files.cert.name:18} {files.subject}", markup=False)
    _console.print(f"  CA bundle to trust              {pki.ca_bundle.name}", markup=False)
    _console.print(f"  PKCS#12 password in             {pki.p12_password_file.name} (mode 600)", markup=False)
    _console.print("  manifest                        manifest.json")
