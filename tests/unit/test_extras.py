"""The SDK installs without its CLI and mock extras: importing it loads neither, and ``dmp`` says what to install."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dmpclient.extras import missing_extra_message


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)


def test_import_dmpclient_loads_no_cli_no_server_no_http_stack() -> None:
    probe = _python(
        "import sys, dmpclient; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'rich', 'typer', 'click', 'uvicorn', 'starlette', 'mock_server', 'httpx'}))"
    )
    assert probe.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("missing", "argv", "extra"),
    [
        ("typer", ["dmp", "--help"], "cli"),
        ("uvicorn", ["dmp", "mock", "serve"], "mock"),
        ("authlib", ["dmp", "mock", "serve"], "mock"),  # the plugin's extra, not the module's usual one (psc)
    ],
)
def test_the_dmp_command_names_the_missing_extra(missing: str, argv: list[str], extra: str) -> None:
    """Run ``dmp`` in a fresh interpreter where ``missing`` cannot be imported."""
    run = _python(
        f"import sys; sys.modules[{missing!r}] = None; sys.argv = {argv!r}; "
        "from dmpclient.extras import run_cli; run_cli()"
    )
    assert run.returncode == 2, run.stderr
    assert f"pip install 'dmpclient[{extra}]'" in run.stderr


def test_an_unrelated_missing_module_is_not_hidden() -> None:
    error = ModuleNotFoundError("No module named 'lxml'", name="lxml")
    assert "dmpclient[all]" in missing_extra_message(error)
