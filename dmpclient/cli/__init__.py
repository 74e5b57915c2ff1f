"""The ``dmp`` command line (typer + rich).

Each command family lives in its own module and is registered here. Plugins (the bundled mock DMP
registers ``dmp mock``) are discovered through the ``dmpclient.cli`` entry-point group, so that
dmpclient itself never imports ``mock_server``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from importlib.metadata import entry_points

import typer
from rich.markup import escape

from dmpclient.cli import config as config_cli
from dmpclient.cli import consult as consult_cli
from dmpclient.cli import feed as feed_cli
from dmpclient.cli import inspect as inspect_cli
from dmpclient.cli import patients as patients_cli
from dmpclient.cli import pki as pki_cli
from dmpclient.cli import psc as psc_cli
from dmpclient.cli import vihf as vihf_cli
from dmpclient.extras import PLUGIN_EXTRA, missing_extra_message

__all__ = ["app", "main"]

app = typer.Typer(
    name="dmp",
    help="DMP (Mon espace santé) client toolkit: test PKI, configuration, VIHF, transactions, inspect, mock DMP.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(pki_cli.app, name="pki")
app.add_typer(config_cli.app, name="config")
app.add_typer(vihf_cli.app, name="vihf")
app.add_typer(psc_cli.app, name="psc")
app.command("find")(consult_cli.find)
app.command("get")(consult_cli.get)
app.command("versions")(consult_cli.versions)
app.command("inspect")(inspect_cli.inspect)
patients_cli.register(app)
app.command("feed")(feed_cli.feed)
app.command("replace")(feed_cli.replace)
for _name, _command in feed_cli.LIFECYCLE_COMMANDS.items():
    app.command(_name)(_command)


def _register_plugins() -> None:
    for entry in entry_points(group="dmpclient.cli"):
        try:
            plugin = entry.load()
        except ModuleNotFoundError as exc:  # an optional extra is not installed: say which
            message = missing_extra_message(exc, f"dmp {entry.name}", PLUGIN_EXTRA.get(entry.name))
            app.command(
                entry.name,
                help=escape(f"(unavailable: {message})"),  # typer renders help as rich markup: keep [mock]
                context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
            )(_unavailable(message))
            continue
        except Exception as exc:
            warnings.warn(f"dmp: plugin {entry.name!r} could not be loaded ({exc})", RuntimeWarning, stacklevel=1)
            continue
        app.add_typer(plugin, name=entry.name)


def _unavailable(message: str) -> Callable[[], None]:
    def command() -> None:
        typer.echo(message, err=True)
        raise typer.Exit(2)

    return command


_register_plugins()


def main() -> None:
    """Console-script entry point."""
    app()
