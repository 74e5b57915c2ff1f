"""Import rules of design/architecture.md, checked on the source (a contract in CI)."""

from __future__ import annotations

import ast
import importlib
import importlib.util
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
        # dmpclient.psc is an HTTP client of its own (Pro Santé Connect is not the DMP).
        ("httpx", {"dmpclient.transport", "dmpclient.psc.client", "dmpclient.psc.session"}),
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


#: Which dmpclient packages each package may import (design/architecture.md "Import rules"; imports point
#: one way: the pure core at the bottom, the glue and the shells on top).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "data": set(),  # package data (value sets, rights matrices)
    "ids": {"errors"},
    "_xml": {"errors"},
    "codes": {"errors"},
    "_deadline": {"errors"},
    "files": set(),  # owner-only, atomic writes (secrets, health data)
    "_logging": {"_xml", "errors"},  # redaction parses with the hardened parser (allowlist, not patterns)
    "soap": {"_xml", "errors", "ids"},
    "hl7v3": {"_xml", "errors", "ids"},
    "custom": {"_xml", "errors", "ids"},
    "xds": {"_xml", "codes", "errors", "ids"},
    "security": {"_xml", "codes", "errors", "files", "ids", "soap"},
    "transactions": {"_xml", "codes", "custom", "errors", "files", "hl7v3", "ids", "soap", "xds"},
    "config": {"_xml", "codes", "errors", "ids", "psc", "security"},
    "psc": {"codes", "config", "errors", "files", "ids", "security"},
    "transport": {"_deadline", "config", "errors", "security", "soap"},
    "_prepare": {"config", "errors", "hl7v3", "ids", "security", "soap", "transactions"},
    # bulk feeding, its journal and the origin of submissions: glue over the core, the config and security
    "feeding": {"codes", "config", "errors", "files", "ids", "security", "transactions", "xds"},
}


def _package_imports() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (REPO / "dmpclient").rglob("*.py"):
        parts = _module_name(path).split(".")
        package = parts[1] if len(parts) > 1 else "dmpclient"
        targets = {name.split(".")[1] for name in _imports(path) if name.startswith("dmpclient.")}
        found.setdefault(package, set()).update(targets - {package})
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_every_package_imports_only_what_its_layer_allows(package: str) -> None:
    assert _package_imports().get(package, set()) <= ALLOWED[package]


def test_every_package_has_a_declared_layer() -> None:
    # the top: they may use the whole SDK
    shells = {"dmpclient", "_client", "_shell", "_methods", "cli", "extras", "inspection"}
    assert set(_package_imports()) <= set(ALLOWED) | shells


def _imported_names(path: Path) -> set[tuple[str, str]]:
    """``(module, name)`` of every ``from dmpclient…/mock_server… import name`` of a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.module
        and node.level == 0
        and node.module.split(".")[0] in PACKAGES
        for alias in node.names
    }


def _exports(module: str, name: str) -> bool:
    """Whether ``module`` lists ``name`` in ``__all__``, or ``name`` is one of its submodules."""
    imported = importlib.import_module(module)
    if name in getattr(imported, "__all__", ()):
        return True
    return hasattr(imported, "__path__") and importlib.util.find_spec(f"{module}.{name}") is not None


def test_modules_import_only_what_other_modules_export() -> None:
    """A name used by another module is public API: its module lists it in ``__all__`` (brief: explicit API)."""
    private = {
        (_module_name(path), module, name)
        for path in _modules()
        for module, name in _imported_names(path)
        if not _exports(module, name)
    }
    assert private == set()
