"""``dmp`` prints bracketed text as it is: rich reads ``[psc]`` or ``[/x]`` as markup unless it is escaped.

Extras (``dmpclient[mock]``), TOML sections (``[psc]``, ``[credentials.tls]``), IPv6 hosts and text from a file
or a server must survive; a stray closing tag must not crash the command.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import typer.main
from typer.testing import CliRunner

from dmpclient.cli import app, consult
from dmpclient.errors import RegistryErrorItem
from dmpclient.security.pki import TestPki
from dmpclient.xds.models import ResponseStatus
from dmpclient.xds.results import QueryResult
from tests.unit.test_config import _toml
from tests.unit.vihf_factory import INS

WIDE = {"COLUMNS": "250", "TERMINAL_WIDTH": "250"}
PSC_SECTION = (
    '[psc]\nissuer = "https://auth.example/auth/realms/esante-wallet"\nclient_id = "lps"\nclient_secret_env = "S"'
)
#: What rich takes for a tag (its markup grammar: a letter, #, / or @ after the bracket).
RICH_TAG = re.compile(r"\[[a-z#/@][^\[\]]*\]")
runner = CliRunner()


def flat(output: str) -> str:
    """The output without the line breaks rich adds at its console width (set when the module was imported)."""
    return output.replace("\n", "")


def _help_texts() -> list[tuple[list[str], str]]:
    """Every command path of ``dmp`` with the help texts of the command and its options."""
    found: list[tuple[list[str], str]] = []

    def walk(command: object, path: list[str]) -> None:
        texts = [getattr(command, "help", None) or ""]
        texts += [getattr(param, "help", None) or "" for param in getattr(command, "params", [])]
        found.append((path, "\n".join(texts)))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return found


def test_every_bracketed_word_of_every_help_page_is_shown() -> None:
    checked = 0
    for path, text in _help_texts():
        literal = [tag for tag in RICH_TAG.findall(text.replace("\\[", "[")) if not tag.startswith("[/")]
        if not literal:
            continue
        shown = runner.invoke(app, [*path, "--help"], env=WIDE)
        assert shown.exit_code == 0, shown.output
        for tag in literal:
            assert tag in shown.output, f"dmp {' '.join(path)} --help lost {tag}"
        checked += 1
    assert checked >= 3  # dmp psc login / whoami / logout: "TOML configuration with a [psc] section"


def test_the_help_of_an_unavailable_plugin_names_its_extra() -> None:
    code = "import sys; sys.modules['uvicorn'] = None; from dmpclient.cli import app; app(['--help'])"
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **WIDE}, check=False
    )
    assert "pip install 'dmpclient[mock]'" in run.stdout, run.stdout + run.stderr


def test_psc_without_a_psc_section_says_so(pki: TestPki, tmp_path: Path) -> None:
    config = _toml(pki, tmp_path)
    result = runner.invoke(app, ["psc", "whoami", "-c", str(config), "--session", str(tmp_path / "s.json")], env=WIDE)
    assert result.exit_code == 2
    assert "the configuration has no [psc] section" in flat(result.output)


def test_psc_without_the_psc_extra_names_it(pki: TestPki, tmp_path: Path) -> None:
    config = _toml(pki, tmp_path, extra=PSC_SECTION)
    code = (
        "import sys; sys.modules['authlib'] = None; sys.modules['joserfc'] = None\n"
        "import importlib.util; real = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda n, *a: None if n in ('authlib', 'joserfc') else real(n, *a)\n"
        f"from dmpclient.cli import app; app(['psc', 'whoami', '-c', {str(config)!r}])"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **WIDE}, check=False
    )
    assert run.returncode == 2, run.stderr
    assert "pip install 'dmpclient[psc]'" in flat(run.stdout), run.stdout


def test_config_errors_keep_their_toml_sections(tmp_path: Path) -> None:
    config = tmp_path / "empty.toml"
    config.write_text('ca_bundle = "ca.pem"\n', encoding="utf-8")
    result = runner.invoke(app, ["config", "check", "--config", str(config)], env=WIDE)
    assert result.exit_code == 2
    assert "a [credentials.tls] section" in flat(result.output)
    assert "a [lps] section" in flat(result.output)
    result = runner.invoke(app, ["psc", "login", "-c", str(config)], env=WIDE)
    assert "a [structure] section" in flat(result.output)


def test_a_closing_tag_in_a_path_neither_crashes_nor_vanishes(tmp_path: Path) -> None:
    missing = tmp_path / "[" / "red]capture[/red].xml"  # "[/red]" with no opening tag: a rich MarkupError
    result = runner.invoke(app, ["inspect", str(missing)], env=WIDE)
    assert result.exit_code == 2, result.output
    assert "red]capture[/red].xml" in flat(result.output)


def test_a_vihf_shows_its_values_as_text(pki: TestPki, tmp_path: Path) -> None:
    """``dmp vihf show`` reads a file anyone may have written: its values are text, not markup."""
    out = tmp_path / "vihf.xml"
    name = "LIBRE [bold]MAX[/i]"  # a tag that would vanish, and a closing tag that would crash rich
    build = [
        *("vihf", "build", "--mode", "air", "--cert", str(pki.org_sign.cert), "--key", str(pki.org_sign.key)),
        *("--ins", INS, "--ins-oid", "1.2.250.1.213.1.4.10", "--ps-id", "899900063480", "--name", name),
        *("--specialty", "SM26", "--secteur", "SA01", "--out", str(out)),
    ]
    built = runner.invoke(app, build, env=WIDE)
    assert built.exit_code == 0, built.output
    shown = runner.invoke(app, ["vihf", "show", str(out)], env=WIDE)
    assert shown.exit_code == 0, shown.output
    assert name in shown.output


def test_find_masks_an_ins_the_dmp_echoes_in_a_warning() -> None:
    """A PartialSuccess warning is printed for the operator: an INS the registry put in it is masked."""
    warning = RegistryErrorItem("XDSRegistryError", f"registre partiel pour {INS} [b]", "registry-2")
    result = QueryResult(status=ResponseStatus.PARTIAL_SUCCESS, errors=(warning,))
    with consult._console.capture() as captured:
        consult._print_query(result, "Documents")
    shown = flat(captured.get())
    assert INS not in shown
    assert "XDSRegistryError registre partiel pour [INS] [b]" in shown
