"""``dmp psc``: sign in with Pro Santé Connect, see who is signed in, sign out (reference §11).

The session survives between commands in an owner-only file of the user's cache directory holding
only the refresh token, its expiry and the ID token (:mod:`dmpclient.psc.storage`; ``--session`` to
choose another path). ``logout`` ends the session at PSC and deletes the file.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dmpclient.config import DmpConfig
from dmpclient.errors import DmpError

if TYPE_CHECKING:  # the OAuth names need the psc extra: imported when a command runs
    from dmpclient.psc import CibaStarted, PscClient, PscSession, SessionFile

__all__ = ["app", "signed_in"]

app = typer.Typer(help="Pro Santé Connect: sign in (browser or CIBA), whoami, logout.", no_args_is_help=True)
_console = Console(highlight=False)

_CONFIG_HELP = escape("TOML configuration with a [psc] section (default: $DMP_CONFIG).")  # rich markup: keep [psc]
ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help=_CONFIG_HELP)]
SessionOption = Annotated[
    Path | None, typer.Option("--session", help="Where the session is kept (default: user cache directory).")
]


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except DmpError as exc:
        _fail(str(exc))


def _fail(message: str) -> NoReturn:
    """Print an error (its text is not markup: ``[psc]`` stays) and exit with status 2."""
    _console.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(2)


def _client(config_path: Path | None) -> PscClient:
    return _psc_client(DmpConfig.load(config_path))


def _psc_client(config: DmpConfig) -> PscClient:
    try:
        from dmpclient.psc import PscClient  # noqa: PLC0415
    except ImportError as exc:  # the psc extra is missing: the message says "pip install 'dmpclient[psc]'"
        _fail(str(exc))
    if config.psc is None:
        _fail("the configuration has no [psc] section (see docs/psc.md)")
    return PscClient.from_dmp_config(config, config.psc)


def _store(path: Path | None) -> SessionFile:
    from dmpclient.psc import SessionFile  # noqa: PLC0415

    return SessionFile(path)


@contextmanager
def signed_in(config: DmpConfig, session_file: Path | None = None) -> Iterator[PscSession]:
    """The session of the professional signed in with ``dmp psc login`` (for ``--psc`` on the DMP commands);
    exits with a message when the configuration has no [psc] section or nobody is signed in."""
    with _errors():
        client = _psc_client(config)
        with client:
            yield _restore(client, _store(session_file))


def _restore(client: PscClient, store: SessionFile) -> PscSession:
    saved = store.load(time.time())
    if saved is None:
        _console.print("[yellow]not signed in[/yellow]: run `dmp psc login`")
        raise typer.Exit(1)
    from dmpclient.psc import PscSession  # noqa: PLC0415

    session = PscSession.restore(client, saved)
    store.save(session.save())  # the provider rotated the refresh token
    return session


@app.command()
def login(
    config: ConfigOption = None,
    session_file: SessionOption = None,
    ciba: Annotated[bool, typer.Option("--ciba", help="Sign in without a browser (card reader or e-CPS app).")] = False,
    login_hint: Annotated[str | None, typer.Option("--login-hint", help="CIBA: the national PS id.")] = None,
    channel: Annotated[str, typer.Option(help="CIBA channel: MOBILE (e-CPS) or CARD.")] = "MOBILE",
    timeout: Annotated[float, typer.Option(help="Browser sign-in: seconds to wait for the redirect.")] = 300.0,
) -> None:
    """Sign in and keep the session for the next commands."""
    if channel not in ("MOBILE", "CARD"):
        raise typer.BadParameter("MOBILE or CARD", param_hint="--channel")
    if ciba and not login_hint:
        raise typer.BadParameter("give the professional's national id", param_hint="--login-hint")
    with _errors():
        client = _client(config)
        with client:
            if ciba:
                session = client.sign_in_ciba(
                    str(login_hint), channel=_channel(channel), on_started=_show_binding_message
                )
            else:
                session = client.sign_in_with_browser(open_browser=_open_browser, timeout=timeout)
            _store(session_file).save(session.save())
    identity = session.identity
    _console.print(f"[green]signed in[/green]: {escape(identity.display_name)} ({escape(identity.national_id)})")


def _channel(value: str) -> Literal["MOBILE", "CARD"]:
    return "CARD" if value == "CARD" else "MOBILE"


def _show_binding_message(started: CibaStarted) -> None:
    _console.print(
        "Approve the request on your e-CPS app or card reader: check that it shows "
        f"[bold]{escape(started.binding_message)}[/bold] (valid {started.expires_in} s)…"
    )


def _open_browser(url: str) -> None:
    import webbrowser  # noqa: PLC0415

    _console.print("Opening the browser for Pro Santé Connect; if it does not open, visit:")
    _console.print(url, soft_wrap=True, markup=False)
    webbrowser.open(url)


@app.command()
def whoami(
    config: ConfigOption = None,
    session_file: SessionOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Who is signed in: identity, work situations and the VIHF roles each gives."""
    with _errors():
        client = _client(config)
        with client:
            session = _restore(client, _store(session_file))
    identity = session.identity
    situations: list[dict[str, Any]] = [
        {
            "work_situation": s.selector,
            "vihf_roles": [{"code": r.code, "code_system": r.code_system, "label": r.display_name} for r in s.roles],
            "places": list(s.places),
        }
        for s in identity.work_situations()
    ]
    if as_json:
        document = {"national_id": identity.national_id, "name": identity.display_name, "work_situations": situations}
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    _console.print(f"{identity.display_name} — national id {identity.national_id}", markup=False)
    table = Table("work situation", "VIHF roles", "places")
    for item in situations:
        roles = ", ".join(f"{r['code']} ({r['label']})" for r in item["vihf_roles"])
        table.add_row(escape(item["work_situation"]), escape(roles), escape(", ".join(item["places"])))
    _console.print(table)


@app.command()
def logout(config: ConfigOption = None, session_file: SessionOption = None) -> None:
    """End the session at Pro Santé Connect and delete the saved session."""
    with _errors():
        client = _client(config)
        store = _store(session_file)
        with client:
            saved = store.load(time.time())
            if saved is not None:
                from dmpclient.psc import PscSession  # noqa: PLC0415

                with contextlib.suppress(DmpError):  # already ended at PSC: only the local file remains
                    PscSession.restore(client, saved).logout()
    store.delete()
    _console.print("signed out")
