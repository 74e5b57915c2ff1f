"""The SDK installs without its CLI and mock extras: importing it loads neither, and ``dmp`` says what to install."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dmpclient import _entry


def test_import_dmpclient_loads_no_cli_no_server_no_http_stack() -> None:
    probe = (
        "import sys, dmpclient; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'rich', 'typer', 'click', 'uvicorn', 'starlette', 'mock_server', 'httpx'}))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    assert loaded.strip() == "[]"


@pytest.mark.parametrize(("module", "extra"), [("typer", "cli"), ("rich", "cli"), ("uvicorn", "mock")])
def test_the_dmp_command_names_the_missing_extra(
    module: str, extra: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # importing it now raises ModuleNotFoundError
    for loaded in [name for name in sys.modules if name.startswith("dmpclient.cli")]:
        monkeypatch.delitem(sys.modules, loaded)
    if extra == "mock":  # the CLI itself loads; only the mock plugin lacks its server
        monkeypatch.setattr(sys, "argv", ["dmp", "mock"])
        with pytest.raises(SystemExit) as stopped:
            _entry.main()
    else:
        with pytest.raises(SystemExit) as stopped:
            _entry.main()
    assert stopped.value.code == 2
    assert f"pip install 'dmpclient[{extra}]'" in capsys.readouterr().err


def test_an_unrelated_missing_module_is_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    error = ModuleNotFoundError("No module named 'lxml'", name="lxml")
    assert "dmpclient[all]" in _entry.missing_extra_message(error)
