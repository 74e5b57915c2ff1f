"""Import rules of design/architecture.md, checked on the source (a contract in CI)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGES = ("dmpclient", "mock_server")


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (REPO / package).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Top-level names imported by a module (``import a.b`` and ``from a.b import c`` give ``a.b``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")


def _importers(prefix: str) -> set[str]:
    return {
        _module_name(path)
        for path in _modules()
        if any(name == prefix or name.startswith(prefix + ".") for name in _imports(path))
    }


@pytest.mark.parametrize(
    ("library", "allowed"),
    [
        ("httpx", {"dmpclient.transport"}),
        ("ssl", {"dmpclient.security.tls"}),
        ("signxml", {"dmpclient.security.xmldsig"}),
    ],
)
def test_dangerous_libraries_are_confined(library: str, allowed: set[str]) -> None:
    assert _importers(library) <= allowed


def test_dmpclient_never_imports_mock_server() -> None:
    assert not {m for m in _importers("mock_server") if m.startswith("dmpclient")}


def test_mock_server_never_imports_the_client_shell() -> None:
    assert not {m for m in _importers("dmpclient._client") if m.startswith("mock_server")}


@pytest.mark.parametrize("package", ["soap", "xds", "hl7v3", "custom", "transactions"])
def test_pure_core_does_not_import_security_or_transport(package: str) -> None:
    paths = list((REPO / "dmpclient" / package).rglob("*.py"))
    assert paths
    offenders = {
        (_module_name(path), name)
        for path in paths
        for name in _imports(path)
        if name.startswith(("dmpclient.security", "dmpclient._client", "dmpclient.config", "httpx", "ssl"))
    }
    assert not offenders


def test_cli_uses_public_names_only() -> None:
    private = {
        (module, name)
        for path in (REPO / "dmpclient" / "cli").rglob("*.py")
        for module in [_module_name(path)]
        for name in _imports(path)
        if name.startswith("dmpclient.") and any(part.startswith("_") for part in name.split(".")[1:])
    }
    assert not private
