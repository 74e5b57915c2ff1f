"""The sync and async clients offer the same public methods with the same signatures."""

from __future__ import annotations

import inspect

from dmpclient import AsyncDmpClient, DmpClient

#: Where the two shells legitimately differ (closing, and the context-manager protocol).
_SHELL_ONLY = {"close", "aclose"}


def _public(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_") and callable(member) and name not in _SHELL_ONLY
    }


def test_same_public_methods_and_signatures() -> None:
    sync, asynchronous = _public(DmpClient), _public(AsyncDmpClient)
    assert sorted(sync) == sorted(asynchronous)
    for name in sync:
        ours, theirs = sync[name], asynchronous[name]
        assert list(ours.parameters) == list(theirs.parameters), name
        for parameter in ours.parameters.values():
            other = theirs.parameters[parameter.name]
            assert (parameter.kind, parameter.default) == (other.kind, other.default), f"{name}.{parameter.name}"


def test_every_transaction_method_is_a_coroutine_on_the_async_client() -> None:
    for name in _public(AsyncDmpClient):
        member = getattr(AsyncDmpClient, name)
        if name not in {"context", "config", "vihf_issuer", "webps_url"}:  # webps_url only builds a URL
            assert inspect.iscoroutinefunction(member), name
