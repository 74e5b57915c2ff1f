"""Fail early, and clearly, when the optional ``psc`` extra (authlib, joserfc) is not installed."""

from __future__ import annotations

import importlib.util
from typing import Final

__all__ = ["MISSING_EXTRA"]

MISSING_EXTRA: Final = (
    "Pro Santé Connect support needs the optional 'psc' extra (authlib, joserfc): pip install 'dmpclient[psc]'"
)

if importlib.util.find_spec("authlib") is None or importlib.util.find_spec("joserfc") is None:
    raise ImportError(MISSING_EXTRA)
