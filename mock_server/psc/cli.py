"""``dmp mock psc …``: act as the professional's phone for CIBA requests of the running mock provider."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dmpclient.security.tls import web_client_context
from mock_server.psc import ADMIN_TOKEN_FILE
from mock_server.psc.app import ADMIN_HEADER

__all__ = ["app"]

app = typer.Typer(help="The mock Pro Santé Connect provider (CIBA approvals).", no_args_is_help=True)
_console = Console(highlight=False)
DataOption = Annotated[Path, typer.Option("--data", help="The mock's data directory (admin token, test PKI).")]
UrlOption = Annotated[str, typer.Option("--url", help="The mock provider's origin.")]
PkiOption = Annotated[Path | None, typer.Option("--pki", help="The test PKI directory (default DATA/pki).")]
_DATA = Path(".dmp-mock")
_URL = "https://127.0.0.1:8444"


def _fail(message: str) -> NoReturn:
    _console.print(f"[red]error:[/red] {escape(message)}")  # an HTTP body or a path: text, not markup
    raise typer.Exit(2)


def _call(data: Path, pki: Path | None, url: str, path: str, method: str) -> Any:
    token_file = data / ADMIN_TOKEN_FILE
    if not token_file.is_file():
        _fail(f"no {ADMIN_TOKEN_FILE} in {data}: is `dmp mock serve --data {data}` running?")
    request = urllib.request.Request(  # noqa: S310 - an https URL of the local mock
        url.rstrip("/") + path, method=method, headers={ADMIN_HEADER: token_file.read_text().strip()}
    )
    context = web_client_context(None, (pki or data / "pki") / "ca-bundle.pem")
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as answer:  # noqa: S310
            return json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        _fail(f"HTTP {exc.code}: {exc.read().decode(errors='replace')[:200]}")
    except urllib.error.URLError as exc:
        _fail(f"cannot reach the mock provider at {url}: {exc.reason}")


@app.command()
def pending(data: DataOption = _DATA, url: UrlOption = _URL, pki: PkiOption = None) -> None:
    """List the CIBA requests waiting for the professional's approval."""
    table = Table("auth_req_id", "professional", "channel", "binding message")
    for item in _call(data, pki, url, "/mock/psc/ciba", "GET"):
        table.add_row(*(escape(str(item[key])) for key in ("auth_req_id", "ps_id", "channel", "binding_message")))
    _console.print(table)


@app.command()
def approve(
    auth_req_id: Annotated[str, typer.Argument(help="The request id (see `dmp mock psc pending`).")],
    deny: Annotated[bool, typer.Option("--deny", help="Refuse instead of approving.")] = False,
    data: DataOption = _DATA,
    url: UrlOption = _URL,
    pki: PkiOption = None,
) -> None:
    """Approve (or refuse) a CIBA request, as the professional would on his e-CPS app or card reader."""
    result = _call(data, pki, url, f"/mock/psc/ciba/{auth_req_id}/{'deny' if deny else 'approve'}", "POST")
    _console.print(f"{result['status']} for {result['ps_id']}", markup=False)
