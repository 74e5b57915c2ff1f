"""SQLite persistence of the mock DMP, one module per aggregate.

``database`` holds the file, pool and transactions; ``patients``, ``authorisations``, ``registry`` and
``trace`` add each aggregate's reads and writes; ``records`` are the typed rows; ``migrations`` the schema.
:class:`Store` is all of them over one database.
"""

from __future__ import annotations

from mock_server.store.authorisations import AuthorisationStore
from mock_server.store.database import DATABASE_FILENAME, database_path
from mock_server.store.registry import RegistryStore
from mock_server.store.trace import TraceStore

__all__ = ["DATABASE_FILENAME", "Store", "database_path"]


class Store(AuthorisationStore, RegistryStore, TraceStore):
    """The mock's persistent state. Open with :meth:`open`; share one instance between threads."""
