"""The transaction methods of the clients, one module per service family (sync and async side by side).

:class:`~dmpclient.DmpClient` and :class:`~dmpclient.AsyncDmpClient` inherit them; each method builds the
operation of its transaction (:mod:`dmpclient.transactions`) and executes it.
"""
