"""Errors of the Pro Santé Connect client (reference §11), under the SDK's one :class:`DmpError` root.

::

    DmpError
    ├── PscError                      something went wrong with Pro Santé Connect
    │   ├── PscProviderError          the provider answered an OAuth error (``error`` code kept)
    │   │   ├── PscAccessDenied       the professional refused, or the provider refused the client
    │   │   └── PscRequestExpired     a CIBA request expired before the professional approved it
    │   ├── PscCallbackError          the redirect back from the provider is not ours (state, code, error)
    │   ├── PscSignInRequired         the session is over (refresh token expired or revoked): sign in again
    │   └── PscStorageError           the saved-session file or its directory is not safe (owner, mode, link)
    └── DmpSecurityError
        └── PscTokenError             a token failed validation (signature, issuer, audience, expiry, nonce, acr)

Messages never contain a token, a code, a secret or a name; provider texts are shortened and cleaned.
"""

from __future__ import annotations

import re
from typing import Final

from dmpclient.errors import DmpError, DmpSecurityError

__all__ = [
    "PscAccessDenied",
    "PscCallbackError",
    "PscError",
    "PscProviderError",
    "PscRequestExpired",
    "PscSignInRequired",
    "PscStorageError",
    "PscTokenError",
    "provider_text",
]

_UNPRINTABLE: Final = re.compile(r"[^\x20-\x7e\u00a0-\u017f]")
_TOKEN_LIKE: Final = re.compile(r"[A-Za-z0-9_\-]{24,}(?:\.[A-Za-z0-9_\-]{8,}){0,2}")
_MAX_TEXT: Final = 200


def provider_text(text: object) -> str:
    """A provider-supplied text fit for an error message: printable, short, no token-like strings."""
    cleaned = _UNPRINTABLE.sub(" ", str(text or ""))[:_MAX_TEXT].strip()
    return _TOKEN_LIKE.sub("[redacted]", cleaned)


class PscError(DmpError):
    """Root of the Pro Santé Connect errors."""


class PscProviderError(PscError):
    """The provider answered an OAuth 2 / OpenID Connect error.

    Args:
        error: the OAuth ``error`` code (``invalid_grant``, ``access_denied``…).
        status_code: the HTTP status of the answer, when there was one.
    """

    def __init__(self, message: str, *, error: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.error = error
        self.status_code = status_code


class PscAccessDenied(PscProviderError):
    """The professional refused the sign-in (CIBA ``access_denied``) or the provider refused this client."""


class PscRequestExpired(PscProviderError):
    """The CIBA request expired (``expired_token``) before the professional approved it: start again."""


class PscCallbackError(PscError):
    """The authorization response is not the answer to our request (state), or carries an error."""


class PscSignInRequired(PscError):
    """The Pro Santé Connect session is over (refresh token expired or revoked): the user must sign in again."""


class PscStorageError(PscError):
    """The saved-session file or its directory is open to other users (owner, mode, link): the message says why."""


class PscTokenError(DmpSecurityError):
    """A token from the provider failed validation; ``rule`` names the check (``"signature"``, ``"nonce"``…)."""

    def __init__(self, message: str, *, rule: str) -> None:
        super().__init__(message, rule=rule, dmp_code="PSCInvalidToken")
