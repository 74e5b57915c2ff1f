"""Mock DMP handlers, one module per service family; :func:`default_router` registers them all."""

from __future__ import annotations

from mock_server.handlers import patients
from mock_server.routing import Router

__all__ = ["default_router"]


def default_router() -> Router:
    """A router answering every transaction the mock implements so far."""
    router = Router()
    router.extend(patients.ROUTES)
    return router
