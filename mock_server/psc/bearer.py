"""The mock DMP's check of a PSC-mode call's Bearer token (reference §11.5; project design).

When a call carries ``Authorization: Bearer <token>`` next to its VIHF, the token must be a JWT from the
configured authorisation server (signature with its JWKS, ``iss``), meant for the DMP (``aud``), not
expired, and about the same professional as the VIHF: its ``SubjectNameID`` equals the VIHF
``Subject/NameID``. The gate turns the :class:`~dmpclient.psc.errors.PscTokenError` into a fault.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dmpclient.psc.errors import PscTokenError
from dmpclient.psc.tokens import ProviderKeys, validate_access_token
from mock_server.errors import MockFault
from mock_server.gate import BearerCheck

if TYPE_CHECKING:
    from mock_server.psc.provider import MockPscProvider

__all__ = ["BearerCaller", "check_bearer", "gate_check"]


@dataclass(frozen=True, slots=True)
class BearerCaller:
    """Who the accepted token speaks for."""

    national_id: str
    client_id: str | None


def check_bearer(
    authorization: str | None,
    vihf_name_id: str,
    *,
    keys: ProviderKeys,
    issuer: str,
    audience: str,
    now: int,
    required: bool = False,
    leeway: int = 30,
) -> BearerCaller | None:
    """Validate the ``Authorization`` header of a DMP call against its VIHF.

    Args:
        authorization: the header value (``None`` when absent).
        vihf_name_id: the verified VIHF's ``Subject/NameID``.
        required: refuse calls without a Bearer token (PSC-only deployments).

    Returns:
        The caller, or ``None`` when there is no header and none is required.

    Raises:
        PscTokenError: rule ``bearer_missing``, ``bearer_scheme``, a token rule (``signature``,
            ``audience``, ``expired``, ``issuer``, ``unknown_key``, ``algorithm``…) or ``bearer_subject``.
    """
    if not authorization:
        if required:
            raise PscTokenError("a Bearer token is required next to the VIHF in PSC mode", rule="bearer_missing")
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise PscTokenError("the Authorization header is not 'Bearer <token>'", rule="bearer_scheme")
    verified = validate_access_token(token.strip(), keys, issuer=issuer, audience=audience, now=now, leeway=leeway)
    subject = verified.claims.get("SubjectNameID")
    if not isinstance(subject, str) or subject != vihf_name_id:
        raise PscTokenError("the VIHF NameID is not the Bearer token's SubjectNameID", rule="bearer_subject")
    client = verified.claims.get("azp")
    return BearerCaller(subject, client if isinstance(client, str) else None)


def gate_check(provider: MockPscProvider, *, required: bool = False) -> BearerCheck:
    """The mock DMP gate's PSC-mode check against this provider (a refusal is a SOAP fault, subcode
    ``PSCInvalidToken`` — project design, the official code is unknown, reference §11.5)."""

    def check(authorization: str | None, vihf_name_id: str, now: dt.datetime) -> None:
        try:
            check_bearer(
                authorization,
                vihf_name_id,
                keys=provider.public_keys,
                issuer=provider.issuer,
                audience=provider.settings.dmp_audience,
                now=int(now.timestamp()),
                required=required,
            )
        except PscTokenError as exc:
            raise MockFault(exc.dmp_code, f"Jeton Pro Santé Connect refusé ({exc.rule}) : {exc.message}") from exc

    return check
