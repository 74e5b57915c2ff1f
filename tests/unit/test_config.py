"""DmpConfig: TOML + DMP_* overrides, validation errors naming the field, credentials; `dmp config check`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dmpclient.cli import app
from dmpclient.cli.config import EXIT_ERRORS, EXIT_OK, EXIT_WARNINGS
from dmpclient.config import ENVIRONMENTS, DmpConfig
from dmpclient.errors import DmpConfigError
from dmpclient.security.pki import TestPki, init_test_pki


def _toml(pki: TestPki, directory: Path, *, tls: str | None = None, extra: str = "", structure_id: str = "") -> Path:
    """A config file in ``directory`` whose paths are relative to it."""

    def rel(path: Path) -> str:
        return os.path.relpath(path, directory)

    tls = tls or f'cert = "{rel(pki.org_auth.cert)}"\nkey = "{rel(pki.org_auth.key)}"'
    text = f"""
environment = "dev1"
ca_bundle = "{rel(pki.ca_bundle)}"
{extra}

[credentials.tls]
{tls}

[credentials.signing]
p12 = "{rel(pki.org_sign.p12)}"
p12_password_env = "TEST_SIGN_P12_PASSWORD"

[lps]
nom = "MON LPS"
version = "2.1"
id = "1.2.250.1.999.888.2"
id_homologation_dmp = "BCO-465897-tmp2"

[structure]
id = "{structure_id or pki.structure_id}"
secteur_activite = "SA07"
name = "CENTRE DE SANTE RPPS12718"

[timeouts]
read = 30
"""
    path = directory / "dmp.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _env(pki: TestPki, **extra: str) -> dict[str, str]:
    return {"TEST_SIGN_P12_PASSWORD": pki.p12_password, **extra}


def test_load_toml_with_relative_paths(pki: TestPki, tmp_path: Path) -> None:
    config = DmpConfig.load(_toml(pki, tmp_path), env=_env(pki))
    assert config.endpoint == ENVIRONMENTS["dev1"] == "https://lps.dev1.dmp.gouv.fr/si-dmp-server/v2/services"
    assert config.service_url("registry") == f"{ENVIRONMENTS['dev1']}/registry"
    assert config.ca_bundle == pki.ca_bundle.resolve()
    assert config.timeouts.read == 30
    assert config.timeouts.connect == 10
    assert config.retry.max_attempts == 1
    assert (config.lps.nom, config.structure.secteur_activite) == ("MON LPS", "SA07")
    assert config.load_tls_credential().subject == pki.org_auth.subject
    assert config.load_signing_credential().subject == pki.org_sign.subject


def test_environment_variables_override_the_file(pki: TestPki, tmp_path: Path) -> None:
    env = _env(
        pki,
        DMP_ENVIRONMENT="production",
        DMP_TIMEOUTS__READ="120",
        DMP_RETRY__MAX_ATTEMPTS="3",
        DMP_STRUCTURE_ID="499900063480001",
        DMP_TLS_CERT=str(pki.org_sign.cert),
        DMP_TLS_KEY=str(pki.org_sign.key),
        DMP_TLS_P12_PASSWORD="not configuration",  # holds a password: ignored as configuration
        OTHER="ignored",
    )
    config = DmpConfig.load(_toml(pki, tmp_path), env=env)
    assert config.endpoint == "https://lps2.dmp.gouv.fr/si-dmp-server/v2/services"
    assert config.timeouts.read == 120
    assert config.retry.max_attempts == 3
    assert config.structure.id == "499900063480001"
    assert config.credentials.tls.cert == pki.org_sign.cert


def test_dmp_config_variable_names_the_file_and_base_url_wins(pki: TestPki, tmp_path: Path) -> None:
    path = _toml(pki, tmp_path)
    config = DmpConfig.load(env=_env(pki, DMP_CONFIG=str(path), DMP_BASE_URL="https://dmp.example.test:8443/x/"))
    assert config.endpoint == "https://dmp.example.test:8443/x"


def test_mock_environment_host_and_port(pki: TestPki) -> None:
    assert DmpConfig.for_test_pki(pki).endpoint == "https://127.0.0.1:8443/si-dmp-server/v2/services"
    config = DmpConfig.for_test_pki(pki, mock={"host": "localhost", "port": 9443})
    assert config.endpoint == "https://localhost:9443/si-dmp-server/v2/services"


def test_p12_password_comes_from_the_named_variable(pki: TestPki, tmp_path: Path) -> None:
    tls = f'p12 = "{pki.org_auth.p12}"\np12_password_env = "TEST_TLS_P12_PASSWORD"'
    path = _toml(pki, tmp_path, tls=tls)
    config = DmpConfig.load(path, env=_env(pki, TEST_TLS_P12_PASSWORD=pki.p12_password))
    assert config.load_tls_credential() is config.load_tls_credential()  # read once
    with pytest.raises(DmpConfigError) as caught:
        DmpConfig.load(path, env=_env(pki)).load_tls_credential()
    assert caught.value.field == "credentials.tls.p12_password_env"
    assert "TEST_TLS_P12_PASSWORD" in str(caught.value)
    with pytest.raises(DmpConfigError) as caught:
        DmpConfig.load(path, env=_env(pki, TEST_TLS_P12_PASSWORD="wrong")).load_tls_credential()
    assert caught.value.field == "credentials.tls"
    assert "wrong password" in str(caught.value)
    assert "wrong" not in str(caught.value).replace("wrong password", "")


def _load_error(pki: TestPki, tmp_path: Path, **kwargs: Any) -> DmpConfigError:
    with pytest.raises(DmpConfigError) as caught:
        DmpConfig.load(_toml(pki, tmp_path, **kwargs), env=_env(pki))
    return caught.value


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DmpConfigError) as caught:
        DmpConfig.load(tmp_path / "absent.toml", env={})
    assert caught.value.field == "config"
    assert "does not exist" in str(caught.value)


def test_invalid_toml_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("environment = \n", encoding="utf-8")
    with pytest.raises(DmpConfigError) as caught:
        DmpConfig.load(path, env={})
    assert caught.value.field == "config"
    assert "not valid TOML" in str(caught.value)


def test_http_url_is_refused(pki: TestPki, tmp_path: Path) -> None:
    error = _load_error(pki, tmp_path, extra='base_url = "http://lps2.dmp.gouv.fr/si-dmp-server/v2/services"')
    assert error.field == "base_url"
    assert "https://" in str(error)


def test_literal_password_is_refused(pki: TestPki, tmp_path: Path) -> None:
    tls = f'p12 = "{pki.org_auth.p12}"\np12_password = "{pki.p12_password}"'
    error = _load_error(pki, tmp_path, tls=tls)
    assert error.field == "credentials.tls.p12_password"
    assert "environment variable" in str(error)
    assert pki.p12_password not in str(error)


def test_password_instead_of_variable_name_is_refused(pki: TestPki, tmp_path: Path) -> None:
    tls = f'p12 = "{pki.org_auth.p12}"\np12_password_env = "my secret!"'
    error = _load_error(pki, tmp_path, tls=tls)
    assert error.field == "credentials.tls.p12_password_env"
    assert "NAME of the environment variable" in str(error)


def test_unknown_environment_is_refused(pki: TestPki, tmp_path: Path) -> None:
    with pytest.raises(DmpConfigError) as caught:
        DmpConfig.load(_toml(pki, tmp_path), env=_env(pki, DMP_ENVIRONMENT="dev42"))
    assert caught.value.field == "environment"
    assert "dev1" in str(caught.value)


def test_bad_structure_id_is_refused(pki: TestPki, tmp_path: Path) -> None:
    error = _load_error(pki, tmp_path, structure_id="X-123")
    assert error.field == "structure.id"
    assert "10B0127189" in str(error)


def test_missing_certificate_file_names_the_field_and_the_fix(pki: TestPki, tmp_path: Path) -> None:
    error = _load_error(pki, tmp_path, tls=f'cert = "/nonexistent/auth.pem"\nkey = "{pki.org_auth.key}"')
    assert error.field == "credentials.tls.cert"
    assert "credentials.tls.cert: file /nonexistent/auth.pem does not exist" in str(error)
    assert "ORG AUTH_CLI certificate (PEM) or use p12" in str(error)


@pytest.mark.parametrize(
    ("tls", "fragment"),
    [
        ("", "either as cert + key (PEM) or as p12"),
        ('cert = "{cert}"', "cert and key go together"),
        ('cert = "{cert}"\nkey = "{key}"\np12 = "{p12}"', "not both"),
    ],
)
def test_credential_form_must_be_pem_or_p12(pki: TestPki, tmp_path: Path, tls: str, fragment: str) -> None:
    files = {"cert": pki.org_auth.cert, "key": pki.org_auth.key, "p12": pki.org_auth.p12}
    error = _load_error(pki, tmp_path, tls=tls.format(**files) or "# nothing")
    assert error.field == "credentials.tls"
    assert fragment in str(error)


def test_unknown_setting_and_missing_section_are_named(pki: TestPki) -> None:
    with pytest.raises(DmpConfigError) as caught:
        DmpConfig.for_test_pki(pki, timeouts={"raed": 3})
    assert caught.value.field == "timeouts.raed"
    with pytest.raises(DmpConfigError) as caught:
        DmpConfig.model_validate({"ca_bundle": str(pki.ca_bundle)})
    assert caught.value.field == "credentials"
    assert "lps: missing" in str(caught.value)


def test_unconfigured_signing_credential(pki: TestPki) -> None:
    config = DmpConfig.for_test_pki(pki, credentials={"tls": {"cert": pki.org_auth.cert, "key": pki.org_auth.key}})
    with pytest.raises(DmpConfigError) as caught:
        config.load_signing_credential()
    assert caught.value.field == "credentials.signing"


# --- dmp config check ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def expiring_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return init_test_pki(tmp_path_factory.mktemp("expiring-pki"), end_entity_days=10, key_size=2048)


def _check(path: Path, env: dict[str, str]) -> Any:
    return CliRunner().invoke(app, ["config", "check", "--config", str(path)], env=env)


def test_config_check_ok(pki: TestPki, tmp_path: Path) -> None:
    result = _check(_toml(pki, tmp_path), _env(pki))
    assert result.exit_code == EXIT_OK, result.output
    assert "https://lps.dev1.dmp.gouv.fr/si-dmp-server/v2/services" in result.output
    assert "MON LPS" in result.output
    assert "10B0127189" in result.output
    assert "configuration OK" in result.output
    assert pki.p12_password not in result.output
    assert "PRIVATE KEY" not in result.output


def test_config_check_warns_about_near_expiry_and_structure_mismatch(expiring_pki: TestPki, tmp_path: Path) -> None:
    result = _check(_toml(expiring_pki, tmp_path, structure_id="10B0167011"), _env(expiring_pki))
    assert result.exit_code == EXIT_WARNINGS, result.output
    output = " ".join(result.output.split())
    assert "expires in 9 days" in output or "expires in 10 days" in output
    assert "differs from structure.id" in output


def test_config_check_flags_a_tls_certificate_without_client_auth(pki: TestPki, tmp_path: Path) -> None:
    tls = f'cert = "{pki.server.cert}"\nkey = "{pki.server.key}"'
    result = _check(_toml(pki, tmp_path, tls=tls), _env(pki))
    assert result.exit_code == EXIT_WARNINGS
    output = " ".join(result.output.split())
    assert "no clientAuth" in output
    assert "different subjects" in output


def test_config_check_errors(pki: TestPki, tmp_path: Path) -> None:
    result = _check(tmp_path / "absent.toml", {})
    assert result.exit_code == EXIT_ERRORS
    assert "does not exist" in " ".join(result.output.split())
    result = _check(_toml(pki, tmp_path), {})  # the signing p12 password variable is not set
    assert result.exit_code == EXIT_ERRORS
    assert "TEST_SIGN_P12_PASSWORD" in " ".join(result.output.split())


def test_an_unknown_secteur_is_refused_at_load(tmp_path: Path, pki: TestPki) -> None:
    from dmpclient.errors import DmpConfigError  # noqa: PLC0415

    with pytest.raises(DmpConfigError, match=r"structure\.secteur_activite"):
        DmpConfig.for_test_pki(pki, structure={"id": pki.structure_id, "secteur_activite": "SA99"})


def test_copies_never_reuse_another_credential(pki: TestPki, rogue_pki: TestPki) -> None:
    config = DmpConfig.for_test_pki(pki)
    original = config.load_tls_credential()
    other = config.model_copy(update={"credentials": DmpConfig.for_test_pki(rogue_pki).credentials})
    assert other.load_tls_credential().certificate != original.certificate
    assert config.load_tls_credential() is original
