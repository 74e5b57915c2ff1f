"""The ``dmp`` command line (typer + rich).

Each command family lives in its own module and is registered here. Plugins (the bundled mock DMP
registers ``dmp mock``) are discovered through the ``dmpclient.cli`` entry-point group, so that
dmpclient itself never imports ``mock_server``.
"""

from __future__ import annotations

import warnings
from importlib.metadata import entry_points

import typer

from dmpclient.cli import config as config_cli
from dmpclient.cli import patients as patients_cli
from dmpclient.cli import pki as pki_cli
from dmpclient.cli import vihf as vihf_cli

__all__ = ["app", "main"]

app = typer.Typer(
    name="dmp",
    help="DMP (Mon espace santé) client toolkit: test PKI, configuration, VIHF, transactions, mock DMP.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(pki_cli.app, name="pki")
app.add_typer(config_cli.app, name="config")
app.add_typer(vihf_cli.app, name="vihf")
patients_cli.register(app)


def _register_plugins() -> None:
    for entry in entry_points(group="dmpclient.cli"):
        try:
            plugin = entry.load()
        except Exception as exc:
            warnings.warn(f"dmp: plugin {entry.name!r} could not be loaded ({exc})", RuntimeWarning, stacklevel=1)
            continue
        app.add_typer(plugin, name=entry.name)


_register_plugins()


def main() -> None:
    """Console-script entry point."""
    app()
