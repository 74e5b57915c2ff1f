"""Session-wide fixtures: where ../shared is, and one generated test PKI per test session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

from dmpclient.security.pki import TestPki, init_test_pki

# Hypothesis's default 200 ms per-example deadline is a timing assertion in disguise: on a loaded machine it fails
# correct code. Speed is measured in benchmarks/, so property tests only check properties.
settings.register_profile("dmpclient", deadline=None)
settings.load_profile("dmpclient")

REPO = Path(__file__).resolve().parent.parent


def find_shared() -> Path:
    """Locate the read-only ``shared`` folder: $DMP_SHARED, then ../shared, then /work/shared."""
    candidates = [os.environ.get("DMP_SHARED"), REPO.parent / "shared", Path("/work/shared")]
    for candidate in candidates:
        if candidate and (Path(candidate) / "schemas" / "catalog.md").exists():
            return Path(candidate)
    raise RuntimeError("cannot find the shared folder; set DMP_SHARED to its path")


#: The command-line tools of the independent oracles (tests skip without them, except under DMP_REQUIRE_ORACLES=1).
ORACLE_TOOLS = (("xmlsec1",), ("chromium", "chromium-browser"), ("chromedriver",))


def pytest_sessionstart(session: pytest.Session) -> None:
    """In CI (``DMP_REQUIRE_ORACLES=1``), a missing oracle fails the run rather than skipping its tests."""
    missing = [names[0] for names in ORACLE_TOOLS if not any(shutil.which(name) for name in names)]
    if os.environ.get("DMP_REQUIRE_ORACLES") == "1" and missing:
        raise pytest.UsageError(f"DMP_REQUIRE_ORACLES=1 but not installed: {', '.join(missing)} (see .ci/run)")


SHARED = find_shared()
SCHEMAS = SHARED / "schemas"
FIXTURES = SHARED / "fixtures" / "ehealthsuisse"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return SHARED


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    """The trusted test PKI (generated once per session, never committed)."""
    return init_test_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def rogue_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    """A second, untrusted hierarchy with the same shapes (for 'certificate from another CA' tests)."""
    return init_test_pki(tmp_path_factory.mktemp("rogue-pki"), ca_prefix="ROGUE")
