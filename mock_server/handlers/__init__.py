"""Mock DMP handlers, one module per service family; :func:`default_router` registers them all."""

from __future__ import annotations

from mock_server.handlers import (
    feeding,
    habilitations,
    legacy,
    lifecycle,
    patients,
    patients_pdq,
    patients_specific,
    registry,
    repository,
)
from mock_server.routing import Router

__all__ = ["default_router"]


def default_router(*, max_query_results: int = registry.DEFAULT_MAX_RESULTS) -> Router:
    """A router answering every transaction the mock implements so far.

    Args:
        max_query_results: objects a TD3.1 answer may hold before ``XDSTooManyResults``.
    """
    router = Router()
    router.extend(patients.ROUTES)
    router.extend(habilitations.ROUTES)
    router.extend(patients_specific.ROUTES)
    router.extend(patients_pdq.ROUTES)
    router.extend(registry.routes(max_query_results))
    router.extend(repository.ROUTES)
    router.extend(feeding.ROUTES)
    router.extend(lifecycle.ROUTES)
    router.extend(legacy.ROUTES)  # recognised only to be refused (TD1.1, TD1.2)
    return router
