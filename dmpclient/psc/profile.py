"""What the DMP expects in "PSC mode": every value here is configuration, because the contract is not public.

Reference §11.5 and §14 item 4: whether the DMP SOAP services accept a Pro Santé Connect token, at which
authorisation server, with which scopes, and which VIHF values a PSC-authenticated call carries, is
**unknown**. This module isolates those choices; each default says where it comes from:

============================  ===============================================  ==================================
Setting                       Default                                          Source
============================  ===============================================  ==================================
``mode``                      ``INDIRECTE_RENFORCEE`` (AIR)                    DRIMBOX (consultation); GENVIHF
                                                                               uses ``INDIRECTE``
``authn_context_class``       ``…:ac:classes:MobileTwoFactorUnregistered``     GENVIHF
``primary_authentication``    ``CONF_EXI_PGSSIS`` (AIR ``AuthnContextDecl``)   project default (§2.11)
``token_exchange``            none: no Bearer header is sent                   observed practice: no PSC token
                                                                               reaches the DMP (DRIMBOX)
``subject_token_type``        ``urn:ietf:params:oauth:token-type:jwt``         SECIG (the ANS proxy sample uses
                                                                               ``…:access_token``)
``subject_issuer``            none (the ANS proxy sample sends ``psc``)        PSCPROXY
``client auth`` at the AS     ``tls_client_auth`` (structure certificate)      SECIG: client id + mTLS
``header``                    ``Authorization: Bearer <exchanged token>``      SECIG diagrams (legacy SAML
                                                                               services behind the proxy)
============================  ===============================================  ==================================

Replace them when the official PSC-mode DMP specification is available.
"""

from __future__ import annotations

from typing import Final, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dmpclient.security.vihf_build import AIR_SIMPLIFIE
from dmpclient.security.vihf_model import AuthMode
from dmpclient.security.vihf_psc import PSC_AUTHN_CONTEXT_CLASS

__all__ = [
    "JWT_TOKEN_TYPE",
    "TOKEN_EXCHANGE_GRANT",
    "ClientAuthMethod",
    "PscDmpProfile",
    "TokenExchangeSettings",
    "https_url",
]

#: RFC 8693 grant type and the token type SECIG names for the PSC access token.
TOKEN_EXCHANGE_GRANT: Final = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 - a URN
JWT_TOKEN_TYPE: Final = "urn:ietf:params:oauth:token-type:jwt"  # noqa: S105 - a URN

#: Client authentication methods PSC advertises that the SDK implements (reference §11.2).
ClientAuthMethod = Literal["client_secret_basic", "client_secret_post", "private_key_jwt", "tls_client_auth"]


def https_url(value: str | None, what: str) -> str | None:
    """Refuse anything but an absolute ``https://`` URL (tokens and secrets travel there)."""
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"{what} must be an absolute https:// URL")
    return value.rstrip("/")


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TokenExchangeSettings(_Settings):
    """RFC 8693 token exchange at the DMP side's authorisation server (reference §11.5; all of it unknown).

    Attributes:
        token_endpoint: the authorisation server's token endpoint (https).
        client_id: the client id there (default: the PSC client id).
        auth_method: client authentication there (default mutual TLS with the structure's certificate).
        scope, audience, resource: what to ask for (business scopes; none by default).
        subject_token_type: the type declared for the PSC access token.
        subject_issuer: the non-standard ``subject_issuer`` parameter of the ANS proxy sample (``"psc"``).
        refresh_margin: seconds before its expiry an exchanged token is replaced.
    """

    token_endpoint: str
    client_id: str | None = None
    auth_method: ClientAuthMethod = "tls_client_auth"
    scope: str | None = None
    audience: str | None = None
    resource: str | None = None
    subject_token_type: str = JWT_TOKEN_TYPE
    subject_issuer: str | None = None
    refresh_margin: int = Field(30, ge=0, le=600)

    @field_validator("token_endpoint")
    @classmethod
    def _https(cls, value: str) -> str:
        return https_url(value, "token_exchange.token_endpoint") or value


class PscDmpProfile(_Settings):
    """The VIHF values of a PSC-mode DMP call, and whether a Bearer token goes with it (see module table)."""

    mode: Literal[AuthMode.AIR, AuthMode.INDIRECTE] = AuthMode.AIR
    authn_context_class: str = PSC_AUTHN_CONTEXT_CLASS
    primary_authentication: str = AIR_SIMPLIFIE
    token_exchange: TokenExchangeSettings | None = None
