"""Validation of Pro Santé Connect tokens (JWS, Keycloak-issued) against the provider's JWKS.

Reference §11.4: "validate with the JWKS, never assume the algorithm". The key is chosen by ``kid`` (or
the only key), and the algorithm must be one that key's type can do (its ``alg`` when published):
``none`` and the HMAC family are never accepted, whatever the header says. Claims are then checked
for the use at hand: an ID token (issuer, audience, ``azp``, expiry, ``iat``, nonce, ``acr``), an access
token (issuer, audience, expiry), a signed UserInfo (issuer, audience). Built on joserfc.
"""

from __future__ import annotations

import dmpclient.psc._require  # noqa: F401  (first: a clear error without the psc extra)

# isort: split

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from joserfc import jws, jwt
from joserfc.errors import ExpiredTokenError, JoseError, MissingClaimError
from joserfc.jwk import ECKey, KeySet, RSAKey

from dmpclient.psc.errors import PscTokenError

__all__ = ["ProviderKeys", "Verified", "validate_access_token", "validate_id_token", "validate_userinfo_jwt"]

_RSA_ALGORITHMS: Final = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
_EC_ALGORITHMS: Final = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
_MAX_TOKEN: Final = 64 * 1024


@dataclass(frozen=True, slots=True, repr=False)
class Verified:
    """A token whose signature and claims were checked: its header and claims (never printed)."""

    header: Mapping[str, Any]
    claims: Mapping[str, Any]

    def __repr__(self) -> str:
        return f"Verified(alg={self.header.get('alg')!r}, kid={self.header.get('kid')!r})"


class ProviderKeys:
    """The provider's public signing keys (a JWKS document), with the algorithm each one allows.

    Raises:
        PscTokenError: the document is not a JWKS of public RSA / EC signature keys.
    """

    def __init__(self, jwks: Mapping[str, Any]) -> None:
        try:
            imported = KeySet.import_key_set(dict(jwks))  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError):
            raise PscTokenError("the provider's JWKS is not a valid key set", rule="jwks") from None
        keys = [k for k in imported.keys if isinstance(k, RSAKey | ECKey) and k.get("use") in (None, "sig")]
        if any(k.is_private for k in keys):
            raise PscTokenError("the provider's JWKS holds a private key; refusing it", rule="jwks")
        self._keys: tuple[RSAKey | ECKey, ...] = tuple(keys)

    @property
    def kids(self) -> frozenset[str]:
        return frozenset(k.kid for k in self._keys if k.kid)

    def key_for(self, header: Mapping[str, Any]) -> RSAKey | ECKey:
        """The key named by the header's ``kid`` (or the only key when there is no ``kid``)."""
        kid = header.get("kid")
        if kid is None and len(self._keys) == 1:
            return self._keys[0]
        for key in self._keys:
            if kid is not None and key.kid == kid:
                return key
        raise PscTokenError("the token is signed with a key the provider does not publish (kid)", rule="unknown_key")

    @staticmethod
    def algorithms(key: RSAKey | ECKey) -> tuple[str, ...]:
        """What ``key`` may verify: its published ``alg``, else its type's signature family."""
        family = _RSA_ALGORITHMS if isinstance(key, RSAKey) else (_EC_ALGORITHMS.get(str(key.get("crv"))),)
        allowed = tuple(alg for alg in family if alg)
        if key.alg:
            return (key.alg,) if key.alg in allowed else ()
        return allowed

    def verify(self, token: str) -> Verified:
        """Check the signature of a compact JWS with the key and algorithm the provider allows."""
        if not token or len(token) > _MAX_TOKEN:
            raise PscTokenError("the token is empty or too large", rule="format")
        try:
            header = jws.extract_compact(token.encode("ascii")).headers()
        except (JoseError, ValueError, UnicodeError):
            raise PscTokenError("the token is not a compact JWS", rule="format") from None
        alg = header.get("alg")
        key = self.key_for(header)
        if alg not in self.algorithms(key):
            raise PscTokenError(f"token algorithm {str(alg)[:16]!r} is not allowed for its key", rule="algorithm")
        try:
            decoded = jwt.decode(token, key, algorithms=[str(alg)])
        except JoseError:
            raise PscTokenError(
                "the token signature does not verify with the provider's key", rule="signature"
            ) from None
        return Verified(decoded.header, decoded.claims)


def _check(claims: Mapping[str, Any], registry: jwt.JWTClaimsRegistry, what: str) -> None:
    try:
        registry.validate(dict(claims))
    except ExpiredTokenError:
        raise PscTokenError(f"the {what} has expired", rule="expired") from None
    except MissingClaimError as exc:
        raise PscTokenError(f"the {what} lacks claim(s) {exc.claim}", rule="missing_claim") from None
    except JoseError as exc:
        claim = getattr(exc, "claim", "?")
        rule = {"iss": "issuer", "aud": "audience"}.get(claim, claim)
        raise PscTokenError(f"the {what} has an invalid '{claim}' claim", rule=rule) from None


def _same(a: object, b: str) -> bool:
    return isinstance(a, str) and hmac.compare_digest(a.encode(), b.encode())


def validate_id_token(
    token: str,
    keys: ProviderKeys,
    *,
    issuer: str,
    client_id: str,
    nonce: str | None,
    now: int,
    leeway: int = 30,
    acr: str | None = "eidas1",
) -> Verified:
    """Validate an ID token (OpenID Connect Core §3.1.3.7) with PSC's ``acr`` requirement.

    Args:
        nonce: the nonce sent in the authorization request (``None`` for flows without one: CIBA, refresh).
        acr: the authentication level required (PSC: ``eidas1``); ``None`` skips the check.
    """
    verified = keys.verify(token)
    claims = verified.claims
    registry = jwt.JWTClaimsRegistry(
        now=now,
        leeway=leeway,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
    )
    _check(claims, registry, "ID token")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise PscTokenError("the ID token names several audiences and another authorized party", rule="azp")
    if nonce is not None and not _same(claims.get("nonce"), nonce):
        raise PscTokenError("the ID token nonce is not the one of our request (replay?)", rule="nonce")
    if acr is not None and claims.get("acr") != acr:
        raise PscTokenError(f"the ID token authentication level is not {acr}", rule="acr")
    return verified


def validate_access_token(
    token: str, keys: ProviderKeys, *, issuer: str, audience: str | None, now: int, leeway: int = 30
) -> Verified:
    """Validate a JWT access token for a resource server: signature, issuer, audience (when given), expiry."""
    verified = keys.verify(token)
    options: dict[str, Any] = {"iss": {"essential": True, "value": issuer}, "exp": {"essential": True}}
    if audience is not None:
        options["aud"] = {"essential": True, "value": audience}
    _check(verified.claims, jwt.JWTClaimsRegistry(now=now, leeway=leeway, **options), "access token")
    return verified


def validate_userinfo_jwt(token: str, keys: ProviderKeys, *, issuer: str, client_id: str, now: int) -> Verified:
    """Validate a signed UserInfo answer (OpenID Connect Core §5.3.2: ``iss`` and ``aud`` required)."""
    verified = keys.verify(token)
    registry = jwt.JWTClaimsRegistry(
        now=now, iss={"essential": True, "value": issuer}, aud={"essential": True, "value": client_id}
    )
    _check(verified.claims, registry, "signed UserInfo")
    return verified
