"""Optional extras of the package, and the ``dmp`` console script that says which one to install when missing.

The SDK installs without the CLI's dependencies (typer, rich) and without the mock's (uvicorn, starlette);
this module imports none of them, so ``dmp`` can always explain what is missing.
"""

from __future__ import annotations

import sys
from typing import Final

__all__ = ["EXTRA_OF", "PLUGIN_EXTRA", "missing_extra_message", "run_cli"]

#: Which extra provides each top-level module the command line or its plugins need.
EXTRA_OF: Final = {
    "typer": "cli",
    "rich": "cli",
    "click": "cli",
    "uvicorn": "mock",
    "starlette": "mock",
    "authlib": "psc",
    "joserfc": "psc",
}
#: The extra that brings everything a ``dmp`` plugin needs (``dmp mock`` also needs authlib, for its PSC provider).
PLUGIN_EXTRA: Final = {"mock": "mock"}


def missing_extra_message(error: ModuleNotFoundError, what: str = "the dmp command", extra: str | None = None) -> str:
    """What to install when ``error`` names a module of an optional extra (``extra`` when the caller knows)."""
    module = (error.name or "").split(".")[0]
    extra = extra or EXTRA_OF.get(module, "all")
    return f"{what} needs the Python package {module!r}: pip install 'dmpclient[{extra}]'"


def run_cli() -> None:
    """The ``dmp`` console script: the CLI, or what to install to get it."""
    try:
        from dmpclient.cli import main as cli_main  # noqa: PLC0415 - typer/rich are an optional extra
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] not in EXTRA_OF:
            raise
        print(missing_extra_message(error), file=sys.stderr)
        raise SystemExit(2) from None
    cli_main()
