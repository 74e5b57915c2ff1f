"""Pro Santé Connect client settings: environment (or explicit hosts), client registration, sign-in options.

The ``[psc]`` section of a dmpclient TOML file, or a :class:`PscConfig` built in code. Pure data: no
network, no OAuth library (importable without the ``psc`` extra).

Example::

    [psc]
    environment = "sandbox"                 # production | sandbox | sandbox-legacy (reference §11.1)
    # issuer = "https://auth.example/auth/realms/esante-wallet"   # explicit host: wins over environment
    client_id = "my-lps"
    auth_method = "client_secret_basic"     # client_secret_post | private_key_jwt | tls_client_auth
    client_secret_env = "PSC_CLIENT_SECRET" # the *name* of the variable holding the secret
    # jwt_key = "psc-client.key.pem"        # private_key_jwt
    redirect_uri = "https://lps.example/psc/callback"   # web apps (desktop apps use a loopback URL)

    [psc.dmp]                               # PSC-mode DMP calls (dmpclient.psc.profile)
    mode = "INDIRECTE_RENFORCEE"
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dmpclient.errors import DmpConfigError
from dmpclient.psc.profile import ClientAuthMethod, PscDmpProfile, https_url

__all__ = [
    "METADATA_PATH",
    "PSC_ENVIRONMENTS",
    "PscConfig",
    "PscEnvironment",
]

#: PSC publishes its metadata here, not at ``openid-configuration`` (reference §11.1 discovery quirk).
METADATA_PATH: Final = "/.well-known/wallet-openid-configuration"
_REALM: Final = "/auth/realms/esante-wallet"


@dataclass(frozen=True, slots=True)
class PscEnvironment:
    """One PSC platform: its issuer (the metadata URL derives from it)."""

    issuer: str

    @property
    def metadata_url(self) -> str:
        return self.issuer + METADATA_PATH


#: Public PSC platforms (reference §11.1). Hosts may move (``*.psc.esante.gouv.fr``): override ``issuer``.
PSC_ENVIRONMENTS: Final[Mapping[str, PscEnvironment]] = {
    "production": PscEnvironment(f"https://auth.esw.esante.gouv.fr{_REALM}"),
    "sandbox": PscEnvironment(f"https://auth.bas.psc.esante.gouv.fr{_REALM}"),
    "sandbox-legacy": PscEnvironment(f"https://auth.bas.esw.esante.gouv.fr{_REALM}"),
}


class PscConfig(BaseModel):
    """How this software signs professionals in with Pro Santé Connect.

    Attributes:
        environment: a name of :data:`PSC_ENVIRONMENTS` (ignored when ``issuer`` is set).
        issuer: the provider's issuer URL (explicit host, mock, future rename).
        metadata_url: the full discovery URL (default ``{issuer}/.well-known/wallet-openid-configuration``).
        client_id: the client id registered at PSC.
        auth_method: client authentication at the token, introspection and CIBA endpoints.
        client_secret_env: name of the environment variable holding the client secret (secret methods).
        jwt_key: PEM private key signing the ``private_key_jwt`` assertions; ``jwt_key_id`` its ``kid``.
        ca_bundle: CAs the provider's TLS certificate must chain to (default: the system store).
        redirect_uri: the registered redirect URI of a web application.
        scope, acr_values: what is asked for (PSC accepts only ``eidas1``).
        timeout: seconds per HTTP exchange with the provider.
        leeway: clock skew tolerated on token times (seconds).
        refresh_margin: refresh the access token when fewer seconds than this remain (PSC gives 120 s).
        work_situation: the default exercice (``codeProfession`` + ``codeCategorieProfessionnelle``, ``"10C"``).
        dmp: the PSC-mode DMP profile (:mod:`dmpclient.psc.profile`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    environment: str = "sandbox"
    issuer: str | None = None
    metadata_url: str | None = None
    client_id: str = Field(min_length=1)
    auth_method: ClientAuthMethod = "client_secret_basic"
    client_secret_env: str | None = None
    jwt_key: Path | None = None
    jwt_key_id: str | None = None
    ca_bundle: Path | None = None
    redirect_uri: str | None = None
    scope: str = "openid scope_all"
    acr_values: str = "eidas1"
    timeout: float = Field(15.0, gt=0, le=300)
    leeway: int = Field(30, ge=0, le=300)
    refresh_margin: int = Field(30, ge=0, le=110)
    work_situation: str | None = None
    dmp: PscDmpProfile = PscDmpProfile()

    @field_validator("environment")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in PSC_ENVIRONMENTS:
            raise ValueError(f"unknown PSC environment {value!r}; use one of {', '.join(PSC_ENVIRONMENTS)} or issuer")
        return value

    @field_validator("issuer", "metadata_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        return https_url(value, "psc.issuer / psc.metadata_url")

    @model_validator(mode="after")
    def _auth_material(self) -> PscConfig:
        if self.auth_method.startswith("client_secret") and not self.client_secret_env:
            raise ValueError(f"auth_method {self.auth_method} needs client_secret_env (the variable's name)")
        if self.auth_method == "private_key_jwt" and self.jwt_key is None:
            raise ValueError("auth_method private_key_jwt needs jwt_key (a PEM private key file)")
        return self

    @property
    def issuer_url(self) -> str:
        """The expected issuer (``iss`` of every token)."""
        return self.issuer or PSC_ENVIRONMENTS[self.environment].issuer

    @property
    def discovery_url(self) -> str:
        """The full metadata URL (PSC's non-standard path unless overridden)."""
        return self.metadata_url or self.issuer_url + METADATA_PATH

    def client_secret(self, env: Mapping[str, str] | None = None) -> str:
        """The client secret, read from the configured environment variable (never stored here)."""
        name = self.client_secret_env or ""
        value = (os.environ if env is None else env).get(name)
        if not value:
            raise DmpConfigError(
                f"psc.client_secret_env: the environment variable {name} is not set", field="psc.client_secret_env"
            )
        return value
