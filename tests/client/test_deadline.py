"""Every call has a total deadline: a server that trickles bytes or stalls mid-answer cannot hold a call open.

Per-read timeouts (5 s here) reset on every byte; the deadline (1.5 s here) bounds the whole call, retries
included, in the sync and the async client alike. The error names the deadline that fired, which tells it apart
from the read timeout; how close to the deadline the call ends is measured in ``benchmarks/bench_deadline.py``.
"""

from __future__ import annotations

import time

import pytest

from dmpclient import AsyncDmpClient, DmpClient, DmpConfig, DmpTimeoutError
from tests.client.conftest import ECHO_ACTION, echo_body

DEADLINE = 1.5


def _config(echo_config: DmpConfig, **retry: float) -> DmpConfig:
    return echo_config.model_copy(
        update={
            "timeouts": echo_config.timeouts.model_copy(update={"read": 5.0, "total": DEADLINE}),
            "retry": echo_config.retry.model_copy(update=retry) if retry else echo_config.retry,
        }
    )


@pytest.mark.parametrize("kind", ["Trickle", "Stall"])
def test_sync_call_ends_at_its_deadline(echo_config: DmpConfig, kind: str) -> None:
    with DmpClient(_config(echo_config)) as client, pytest.raises(DmpTimeoutError, match=r"deadline of 1\.5 s"):
        client.call("echo", echo_body(kind), action=ECHO_ACTION, td="T", assertion=None, idempotent=True)


@pytest.mark.parametrize("kind", ["Trickle", "Stall"])
async def test_async_call_ends_at_its_deadline(echo_config: DmpConfig, kind: str) -> None:
    async with AsyncDmpClient(_config(echo_config)) as client:
        with pytest.raises(DmpTimeoutError, match=r"deadline of 1\.5 s"):
            await client.call("echo", echo_body(kind), action=ECHO_ACTION, td="T", assertion=None, idempotent=True)


def test_a_per_call_deadline_overrides_the_configured_one(echo_config: DmpConfig) -> None:
    with DmpClient(_config(echo_config)) as client, pytest.raises(DmpTimeoutError, match=r"deadline of 0\.5 s"):
        client.call(
            "echo", echo_body("Trickle"), action=ECHO_ACTION, td="T", assertion=None, idempotent=True, deadline=0.5
        )


def test_retries_stop_when_the_deadline_is_spent(echo_config: DmpConfig) -> None:
    config = _config(echo_config, max_attempts=10, backoff_initial=0.4, backoff_max=0.4)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    with DmpClient(config, sleep=sleep) as client, pytest.raises(DmpTimeoutError, match=r"deadline of 1\.5 s"):
        client.call("echo", echo_body("Stall"), action=ECHO_ACTION, td="T", assertion=None, idempotent=True)
    assert not slept  # the first attempt used the whole budget: no retry was started past it
