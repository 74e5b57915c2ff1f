"""The loopback redirect of a desktop sign-in (RFC 8252 §7.3): one request on 127.0.0.1, then close.

The browser comes back to ``http://127.0.0.1:{port}/callback?code=…&state=…``; the receiver answers a
short page telling the user to return to the application, and hands the full URL to the client, which
checks ``state`` and redeems the code with the PKCE verifier.
"""

from __future__ import annotations

import http.server
import threading
import webbrowser
from collections.abc import Callable
from typing import Any, Self

from dmpclient.psc.errors import PscCallbackError

__all__ = ["LoopbackReceiver"]

_PAGE = (
    "<!doctype html><html lang='fr'><meta charset='utf-8'><title>Pro Santé Connect</title>"
    "<body><p>Connexion terminée : vous pouvez revenir à l'application.</p></body></html>"
).encode()


class LoopbackReceiver:
    """An HTTP listener on ``127.0.0.1`` (``port=0``: a free port) that catches one ``/callback`` request."""

    def __init__(self, port: int = 0, path: str = "/callback") -> None:
        self._path = path
        self._received: str | None = None
        self._done = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if not self.path.startswith(receiver._path):
                    self.send_error(404)
                    return
                receiver._received = f"http://127.0.0.1:{receiver.port}{self.path}"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(_PAGE)))
                self.end_headers()
                self.wfile.write(_PAGE)
                receiver._done.set()

            def log_message(self, format: str, *args: Any) -> None:  # the query holds the code: never log it
                return

        self._server = http.server.HTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="psc-loopback")

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}{self._path}"

    def open(self, url: str, open_browser: Callable[[str], object] | None) -> None:
        """Start listening, then open the authorization URL (default: the system browser)."""
        self._thread.start()
        (open_browser or webbrowser.open)(url)

    def wait(self, timeout: float) -> str:
        """The callback URL, once the browser came back."""
        if not self._done.wait(timeout) or self._received is None:
            raise PscCallbackError(f"no sign-in came back within {int(timeout)} s; try again")
        return self._received

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
