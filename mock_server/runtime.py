"""Assemble a ready-to-serve mock DMP from a data directory: test PKI, SQLite store, seed, gate, routes.

Used by ``dmp mock serve``, ``python -m mock_server``, the demo and the test fixtures, so that all of
them run the very same server.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from dmpclient.security.pki import MANIFEST_NAME, TestPki, init_test_pki, load_test_pki
from dmpclient.security.verify import ReplayCache, VerificationPolicy
from mock_server import wsdl
from mock_server.app import MockDmp
from mock_server.gate import Gate
from mock_server.handlers import default_router
from mock_server.handlers.registry import DEFAULT_MAX_RESULTS
from mock_server.injection import FaultInjector
from mock_server.psc import MOCK_CLIENT_ID
from mock_server.seed import SeedSummary, seed
from mock_server.store import Store, database_path
from mock_server.webps import WebPs

__all__ = ["CLIENT_CONFIG_NAME", "MockRuntime", "prepare", "write_client_config"]

#: A dmpclient configuration pointing at this mock, written next to the data (one-step onboarding).
CLIENT_CONFIG_NAME: Final = "dmpclient.toml"


@dataclass(slots=True)
class MockRuntime:
    """Everything a running mock needs; ``close()`` releases the store."""

    app: MockDmp
    store: Store
    pki: TestPki
    data_dir: Path
    seeded: SeedSummary | None
    #: the web PS site (its routes are in ``app`` too; serve ``webps.app()`` to browsers, without client cert)
    webps: WebPs

    def close(self) -> None:
        self.store.close()


def _pki(data_dir: Path, pki_dir: Path | None) -> TestPki:
    if pki_dir is not None:
        return load_test_pki(pki_dir)
    own = data_dir / "pki"
    return load_test_pki(own) if (own / MANIFEST_NAME).exists() else init_test_pki(own)


def prepare(
    data_dir: Path,
    *,
    pki_dir: Path | None = None,
    seed_if_empty: bool = True,
    faults: FaultInjector | None = None,
    require_signature: bool = True,
    check_ins_key: bool = True,
    accept_any_action: bool = False,
    now: dt.datetime | None = None,
    max_query_results: int = DEFAULT_MAX_RESULTS,
) -> MockRuntime:
    """Open (or create) the mock in ``data_dir``: PKI (generated on first run), store, seed data, app.

    Args:
        max_query_results: objects a TD3.1 answer may hold before ``XDSTooManyResults``.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    pki = _pki(data_dir, pki_dir)
    store = Store.open(database_path(data_dir))
    seeded = None
    if seed_if_empty and not store.list_patients():
        seeded = seed(store, now=now or dt.datetime.now(dt.UTC))
    policy = VerificationPolicy.from_ca_file(
        pki.ca_bundle,
        replay_cache=ReplayCache(),
        require_signature=require_signature,
        check_ins_key=check_ins_key,
    )
    gate = Gate(policy, store)
    webps = WebPs(store, gate)
    router = default_router(max_query_results=max_query_results)
    router.accept_any_action = accept_any_action
    app = MockDmp(store, gate, router, faults=faults, extra_routes=[*webps.routes, *wsdl.routes()])
    return MockRuntime(app, store, pki, data_dir, seeded, webps)


def _toml(value: object) -> str:
    """A TOML basic string (a JSON string is one): paths may hold quotes, backslashes or non-ASCII."""
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")  # TOML also escapes DEL


def write_client_config(
    runtime: MockRuntime, base_url: str, psc_issuer: str | None = None, *, webps_url: str | None = None
) -> Path:
    """Write a dmpclient TOML configuration for this mock (TLS and signing credentials of the test PKI).

    With ``psc_issuer``, a ``[psc]`` section signs in at the mock PSC provider (mutual TLS client auth).
    """
    pki = runtime.pki
    webps = f"webps_url = {_toml(webps_url)}\n" if webps_url else ""
    text = f"""# dmpclient configuration for the bundled mock DMP (generated; test credentials only)
environment = "mock"
base_url = {_toml(base_url)}
{webps}
ca_bundle = {_toml(pki.ca_bundle.resolve())}

[credentials.tls]
cert = {_toml(pki.org_auth.cert.resolve())}
key = {_toml(pki.org_auth.key.resolve())}

[credentials.signing]
cert = {_toml(pki.org_sign.cert.resolve())}
key = {_toml(pki.org_sign.key.resolve())}

[lps]
nom = "DMPCLIENT DEMO"
version = "0.1.0"
id = "1.2.250.1.999.888.2"
id_homologation_dmp = "DMPCLIENT-TEST-tmp1"

[structure]
id = {_toml(pki.structure_id)}
secteur_activite = "SA01"
name = "CENTRE HOSPITALIER DE TEST DMPCLIENT"
"""
    if psc_issuer is not None:
        text += f"""
[psc]
issuer = {_toml(psc_issuer)}
client_id = {_toml(MOCK_CLIENT_ID)}
auth_method = "tls_client_auth"
ca_bundle = {_toml(pki.ca_bundle.resolve())}
"""
    path = runtime.data_dir / CLIENT_CONFIG_NAME
    path.write_text(text, encoding="utf-8")
    return path
