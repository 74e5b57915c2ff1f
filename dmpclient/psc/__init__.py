"""Pro Santé Connect (PSC): sign professionals in, keep their session, call the DMP in PSC mode (reference §11).

Needs the optional ``psc`` extra (``pip install 'dmpclient[psc]'``: authlib, joserfc). The settings
(:class:`PscConfig`, :class:`PscDmpProfile`) import without it; the other names raise a clear
``ImportError`` naming the extra when it is missing.

Web application::

    psc = PscClient(dmp_config.psc)                     # or PscClient.from_dmp_config(dmp_config, psc_config)
    pending = psc.begin_sign_in("https://lps.example/psc/callback")   # keep `pending` in the web session
    # … redirect the browser to pending.url; PSC redirects back to the callback …
    session = psc.finish_sign_in(request_url, pending)
    answer = dmp.test_existence(ins, session.caller_identity("10C"))

Desktop: ``psc.sign_in_with_browser()`` (loopback redirect) or ``psc.sign_in_ciba(national_id)`` (CIBA).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

from dmpclient.psc.config import METADATA_PATH, PSC_ENVIRONMENTS, PscConfig, PscEnvironment
from dmpclient.psc.errors import (
    PscAccessDenied,
    PscCallbackError,
    PscError,
    PscProviderError,
    PscRequestExpired,
    PscSignInRequired,
    PscStorageError,
    PscTokenError,
)
from dmpclient.psc.profile import PscDmpProfile, TokenExchangeSettings

if TYPE_CHECKING:
    from dmpclient.psc.client import AsyncPscClient, PscClient
    from dmpclient.psc.identity import PscIdentity, WorkSituation
    from dmpclient.psc.protocol import CibaStarted, PendingAuthorization, ProviderMetadata, TokenSet
    from dmpclient.psc.session import AsyncHeaderProvider, AsyncPscSession, HeaderProvider, PscSession, SavedSession
    from dmpclient.psc.storage import SessionFile
    from dmpclient.psc.tokens import ProviderKeys

__all__ = [
    "METADATA_PATH",
    "PSC_ENVIRONMENTS",
    "AsyncHeaderProvider",
    "AsyncPscClient",
    "AsyncPscSession",
    "CibaStarted",
    "HeaderProvider",
    "PendingAuthorization",
    "ProviderKeys",
    "ProviderMetadata",
    "PscAccessDenied",
    "PscCallbackError",
    "PscClient",
    "PscConfig",
    "PscDmpProfile",
    "PscEnvironment",
    "PscError",
    "PscIdentity",
    "PscProviderError",
    "PscRequestExpired",
    "PscSession",
    "PscSignInRequired",
    "PscStorageError",
    "PscTokenError",
    "SavedSession",
    "SessionFile",
    "TokenExchangeSettings",
    "TokenSet",
    "WorkSituation",
]

_LAZY: Final = {
    "AsyncPscClient": "client",
    "PscClient": "client",
    "PscIdentity": "identity",
    "WorkSituation": "identity",
    "CibaStarted": "protocol",
    "PendingAuthorization": "protocol",
    "ProviderMetadata": "protocol",
    "TokenSet": "protocol",
    "AsyncHeaderProvider": "session",
    "AsyncPscSession": "session",
    "HeaderProvider": "session",
    "PscSession": "session",
    "SavedSession": "session",
    "SessionFile": "storage",
    "ProviderKeys": "tokens",
}


def __getattr__(name: str) -> Any:
    """Import the OAuth-dependent names on first use (PEP 562), so the settings work without the extra."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dmpclient.psc' has no attribute {name!r}")
    return getattr(importlib.import_module(f"dmpclient.psc.{module}"), name)
