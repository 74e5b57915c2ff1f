"""The call deadline against a hostile server: a trickle (one byte every 0.2 s, forever) and a stall.

A per-read timeout alone would keep such a call open indefinitely. Reported: the wall time of a sync and an
async call with a 2 s deadline, as a ratio to that deadline. Target (issue "Hardening"): the call ends within
its deadline + 1 s (ratio ≤ 1.5).
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from pathlib import Path
from typing import Final

from lxml import etree

from benchmarks._harness import Result
from dmpclient import AsyncDmpClient, DmpClient, DmpConfig, DmpTimeoutError
from dmpclient.security.pki import init_test_pki
from mock_server.server import Receive, Scope, Send, start_in_thread

DEADLINE: Final = 2.0
_BODY: Final = etree.Element("{urn:dmpclient:bench}Trickle")


async def _trickle_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Reads the request, then answers one byte every 0.2 s (or nothing at all for ``/stall``), for 30 s."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/soap+xml")]})
    stall = scope["path"].endswith("/stall")
    for _ in range(150):
        try:
            if (await asyncio.wait_for(receive(), 0.2))["type"] == "http.disconnect":
                return  # the client hung up, as expected
        except TimeoutError:
            if not stall:
                await send({"type": "http.response.body", "body": b" ", "more_body": True})


def _sync_call(config: DmpConfig, service: str) -> float:
    started = time.perf_counter()
    with DmpClient(config) as client, contextlib.suppress(DmpTimeoutError):
        client.call(service, _BODY, action="urn:bench", td="bench", assertion=None, idempotent=True)
    return time.perf_counter() - started


async def _async_call(config: DmpConfig, service: str) -> float:
    started = time.perf_counter()
    async with AsyncDmpClient(config) as client:
        with contextlib.suppress(DmpTimeoutError):
            await client.call(service, _BODY, action="urn:bench", td="bench", assertion=None, idempotent=True)
    return time.perf_counter() - started


def run(quick: bool) -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp:
        pki = init_test_pki(Path(tmp) / "pki")
        with start_in_thread(
            _trickle_app, server_cert=pki.server.cert, server_key=pki.server.key, client_ca=pki.ca_bundle
        ) as server:
            config = DmpConfig.for_test_pki(pki, server.services_url, timeouts={"read": 10.0, "total": DEADLINE})
            results = []
            for service in ("trickle", "stall"):
                for flavour, seconds in (
                    ("sync", _sync_call(config, service)),
                    ("async", asyncio.run(_async_call(config, service))),
                ):
                    results.append(
                        Result(
                            f"call against a {service} server ({flavour}, read timeout 10 s)",
                            seconds,
                            "s",
                            "the call deadline",
                            DEADLINE,
                            target="≤ deadline + 1 s (1.5x)",
                        )
                    )
    return results
