"""The [psc] settings: environments, overridable hosts, refused values; the provider mounted next to the DMP."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from dmpclient.config import DmpConfig
from dmpclient.errors import DmpConfigError
from dmpclient.psc import AsyncPscClient, PscClient, PscConfig
from dmpclient.security.pki import TestPki
from dmpclient.security.vihf import AuthMode
from mock_server.psc import ADMIN_TOKEN_FILE, prepare_psc
from mock_server.psc.app import ADMIN_HEADER, mount_psc


def test_environments_and_explicit_hosts() -> None:
    sandbox = PscConfig(client_id="lps", client_secret_env="S")
    assert sandbox.discovery_url == (
        "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet/.well-known/wallet-openid-configuration"
    )
    production = PscConfig(environment="production", client_id="lps", client_secret_env="S")
    assert production.issuer_url == "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet"
    moved = PscConfig(
        issuer="https://auth.psc.esante.gouv.fr/auth/realms/esante-wallet/", client_id="x", client_secret_env="S"
    )
    assert moved.issuer_url == "https://auth.psc.esante.gouv.fr/auth/realms/esante-wallet"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"environment": "staging"}, "unknown PSC environment"),
        ({"issuer": "http://auth.example/realm"}, "https://"),
        ({"client_secret_env": None}, "client_secret_env"),
        ({"auth_method": "private_key_jwt", "client_secret_env": None}, "jwt_key"),
        ({"dmp": {"token_exchange": {"token_endpoint": "http://as.example/token"}}}, "https://"),
    ],
)
def test_refused_settings(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PscConfig.model_validate({"client_id": "lps", "client_secret_env": "S", **changes})


def test_the_psc_section_of_a_dmpclient_file(pki: TestPki, tmp_path: Path) -> None:
    path = tmp_path / "dmpclient.toml"
    path.write_text(
        f"""
ca_bundle = "{pki.ca_bundle}"
[credentials.tls]
cert = "{pki.org_auth.cert}"
key = "{pki.org_auth.key}"
[lps]
nom = "LPS"
version = "1"
id_homologation_dmp = "H"
[structure]
id = "{pki.structure_id}"
secteur_activite = "SA01"
[psc]
client_id = "lps"
auth_method = "private_key_jwt"
jwt_key = "keys/psc.key.pem"
[psc.dmp]
mode = "INDIRECTE"
""",
        encoding="utf-8",
    )
    psc = DmpConfig.load(path, env={}).psc
    assert psc is not None
    assert psc.jwt_key == (tmp_path / "keys" / "psc.key.pem").resolve()  # relative to the file
    assert psc.dmp.mode is AuthMode.INDIRECTE
    assert psc.client_id == "lps"
    with pytest.raises(DmpConfigError, match="PSC_SECRET"):
        PscConfig(client_id="lps", client_secret_env="PSC_SECRET").client_secret({})


async def test_mount_psc_routes_the_provider_paths(pki: TestPki, tmp_path: Path) -> None:
    dmp = Starlette(routes=[Route("/si-dmp-server/v2/services/patients", lambda _r: PlainTextResponse("dmp"))])
    psc = prepare_psc(tmp_path, pki, "https://mock.example")
    app = mount_psc(dmp, psc.app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://mock.example") as http:
        discovery = await http.get("/auth/realms/esante-wallet/.well-known/wallet-openid-configuration")
        assert discovery.json()["issuer"] == "https://mock.example/auth/realms/esante-wallet"
        assert (await http.get("/si-dmp-server/v2/services/patients")).text == "dmp"
        assert (await http.get("/mock/psc/ciba")).status_code == 403  # admin token required


async def test_an_admin_token_file_left_empty_by_a_crash_opens_no_door(pki: TestPki, tmp_path: Path) -> None:
    (tmp_path / ADMIN_TOKEN_FILE).write_text("")
    psc = prepare_psc(tmp_path, pki, "https://mock.example")
    assert len(psc.admin_token) >= 16
    assert (tmp_path / ADMIN_TOKEN_FILE).read_text() == psc.admin_token
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=psc.app), base_url="https://mock.example") as http:
        assert (await http.get("/mock/psc/ciba")).status_code == 403
        assert (await http.get("/mock/psc/ciba", headers={ADMIN_HEADER: ""})).status_code == 403
        assert (await http.get("/mock/psc/ciba", headers={ADMIN_HEADER: psc.admin_token})).status_code == 200


def _rsa_pem(encryption: serialization.KeySerializationEncryption) -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def _armoured(label: bytes, data: bytes) -> bytes:
    """PEM armour around bytes that are no key (built here: no key-shaped block sits in the repository)."""
    return b"-----BEGIN " + label + b"-----\n" + base64.b64encode(data) + b"\n-----END " + label + b"-----\n"


@pytest.mark.parametrize(
    ("pem", "message"),
    [
        (lambda: _rsa_pem(serialization.BestAvailableEncryption(b"pin")), "is encrypted"),
        (lambda: _armoured(b"PRIVATE KEY", b"not a key"), "not a PEM private key"),
        (lambda: b"just text", "not a PEM private key"),
        (
            lambda: ec.generate_private_key(ec.SECP256R1()).private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
            "needs an RSA key",
        ),
    ],
    ids=["encrypted", "not-der", "not-pem", "ec-key"],
)
def test_an_unusable_private_key_jwt_key_is_a_config_error(pem: Any, message: str, tmp_path: Path) -> None:
    path = tmp_path / "lps.key.pem"
    content = pem()
    path.write_bytes(content)
    config = PscConfig(
        issuer="https://auth.example/auth/realms/esante-wallet",
        client_id="lps",
        auth_method="private_key_jwt",
        jwt_key=path,
    )
    with pytest.raises(DmpConfigError, match=message) as caught:
        PscClient(config)
    assert caught.value.field == "psc.jwt_key"
    assert str(path) in str(caught.value)
    body = [line for line in content.decode().splitlines() if line and not line.startswith("-----")]
    assert not any(line in str(caught.value) for line in body if len(line) > 8)
    assert caught.value.__cause__ is None


@pytest.mark.parametrize("kind", [PscClient, AsyncPscClient])
async def test_both_clients_take_the_structure_certificate_from_the_dmp_config_only_when_needed(
    pki: TestPki, kind: type[PscClient] | type[AsyncPscClient]
) -> None:
    dmp = DmpConfig.for_test_pki(pki)
    secret = PscConfig(client_id="lps", client_secret_env="S")
    mutual = PscConfig(client_id="lps", auth_method="tls_client_auth")
    with_secret = kind.from_dmp_config(dmp, secret, env={"S": "s3cret"})
    with_tls = kind.from_dmp_config(dmp, mutual)
    assert type(with_secret) is kind
    assert type(with_tls) is kind
    assert with_secret.tls is None
    assert with_tls.tls is not None
    assert with_tls.tls.certificate == dmp.load_tls_credential().certificate
    for client in (with_secret, with_tls):
        if isinstance(client, AsyncPscClient):
            await client.aclose()
        else:
            client.close()
