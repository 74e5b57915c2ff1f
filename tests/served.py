"""``python -m mock_server serve`` in a subprocess on a free loopback port (tests that kill the mock).

The port is chosen by binding port 0 and closing it, so another process may take it before the mock binds: a
mock that exits because its port is taken is started again on another port (at most three times).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Final

from dmpclient import DmpClient
from dmpclient.config import SERVICES_PATH, DmpConfig
from dmpclient.errors import DmpTransportError
from dmpclient.security.pki import TestPki
from tests.mock_server.conftest import PATB_QUATRE, TEST_OID, identity

__all__ = ["ServedMock"]

REPO: Final = Path(__file__).resolve().parent.parent
_ATTEMPTS: Final = 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServedMock:
    """The mock DMP in its own process on the data directory ``data`` (output in ``logs``), answering once built."""

    def __init__(self, data: Path, pki: TestPki, logs: Path, *, deadline_s: float = 60) -> None:
        self._data, self._pki, self._logs = data, pki, logs
        deadline = time.monotonic() + deadline_s
        for attempt in range(1, _ATTEMPTS + 1):
            self._start()
            if self._answers(deadline):
                return
            self.stop()
            taken = "address already in use" in self._log_path.read_text(errors="replace").lower()
            assert taken, f"the mock server did not start: see {self._log_path}"
            assert attempt < _ATTEMPTS, f"no free port after {_ATTEMPTS} attempts: see {self._log_path}"

    def _start(self) -> None:
        self.port = _free_port()
        self.config = DmpConfig.for_test_pki(
            self._pki,
            base_url=f"https://127.0.0.1:{self.port}{SERVICES_PATH}",
            timeouts={"connect": 2, "read": 10, "write": 10, "pool": 5},
        )
        self._log_path = self._logs / f"serve-{self.port}.log"
        self._log = self._log_path.open("wb")
        command = [sys.executable, "-m", "mock_server", "serve", "--data", str(self._data)]
        command += ["--pki", str(self._pki.directory), "--port", str(self.port), "--no-seed"]
        command += ["--webps-port", "0", "--psc-port", "0"]
        self.process = subprocess.Popen(command, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT)

    def _answers(self, deadline: float) -> bool:
        """Until a TD0.2 is answered (True), the process exits or the deadline passes (False)."""
        with DmpClient(self.config) as client:
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    client.test_existence(PATB_QUATRE, identity(), ins_oid=TEST_OID)
                except DmpTransportError:
                    time.sleep(0.2)
                    continue
                return True
        return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self._log.close()
