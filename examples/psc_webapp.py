"""A small web application that signs a professional in with Pro Santé Connect, then queries the DMP as him.

What a web LPS does (reference §11.2, §11.6):

1. ``/login``: :meth:`PscClient.begin_sign_in` gives the authorization URL (code flow, PKCE S256, state,
   nonce, ``acr_values=eidas1``); the pending request stays on the server, the browser gets only a cookie;
2. ``/callback``: :meth:`PscClient.finish_sign_in` checks the state, redeems the code, validates the ID
   token and reads UserInfo: the professional's :class:`PscSession` stays on the server;
3. ``/patient?ins=…``: TD0.2 and TD3.1 in PSC mode, the VIHF built from the session's work situation;
4. ``/logout``: ends the PSC session.

Run it against the bundled mocks (``dmp mock serve`` writes ``.dmp-mock/dmpclient.toml`` with a ``[psc]``
section for its provider)::

    python examples/psc_webapp.py --config .dmp-mock/dmpclient.toml --port 8000
    # then open http://127.0.0.1:8000/
"""

from __future__ import annotations

import argparse
import html
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from dmpclient import DmpClient, DmpConfig, DmpError, InsOid
from dmpclient.psc import PendingAuthorization, PscClient, PscError, PscSession

__all__ = ["WebApp", "build_app"]

COOKIE: Final = "lps_session"
DEFAULT_INS: Final = "207058575627097"


@dataclass
class WebApp:
    """Server-side state: pending sign-ins and signed-in sessions, by an opaque cookie (never the tokens)."""

    psc: PscClient
    dmp: DmpClient
    base_url: str
    pending: dict[str, PendingAuthorization] = field(default_factory=dict)
    sessions: dict[str, PscSession] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def redirect_uri(self) -> str:
        return f"{self.base_url}/callback"


def _page(body: str) -> HTMLResponse:
    head = "<!doctype html><html lang='fr'><meta charset='utf-8'><title>LPS de démonstration</title>"
    return HTMLResponse(f"{head}<body>{body}</body></html>")


def build_app(state: WebApp) -> Starlette:
    """The web application's routes (sync endpoints: Starlette runs them in worker threads)."""

    def home(_: Request) -> Response:
        return _page("<h1>LPS de démonstration</h1><a id='login' href='/login'>Se connecter avec Pro Santé Connect</a>")

    def login(_: Request) -> Response:
        pending = state.psc.begin_sign_in(state.redirect_uri)
        cookie = secrets.token_urlsafe(24)
        with state.lock:
            state.pending[cookie] = pending
        response = RedirectResponse(pending.url, status_code=303)
        response.set_cookie(COOKIE, cookie, httponly=True, samesite="lax")
        return response

    def callback(request: Request) -> Response:
        cookie = request.cookies.get(COOKIE, "")
        with state.lock:
            pending = state.pending.pop(cookie, None)
        if pending is None:
            return _page("<p>Aucune connexion en cours.</p>")
        try:
            session = state.psc.finish_sign_in(str(request.url), pending)
        except PscError as exc:
            return _page(f"<p id='error'>Connexion refusée : {html.escape(str(exc))}</p>")
        with state.lock:
            state.sessions[cookie] = session
        return RedirectResponse("/patient", status_code=303)

    def patient(request: Request) -> Response:
        with state.lock:
            session = state.sessions.get(request.cookies.get(COOKIE, ""))
        if session is None:
            return RedirectResponse("/", status_code=303)
        ins = request.query_params.get("ins", DEFAULT_INS)
        situations = ", ".join(s.selector for s in session.identity.work_situations())
        try:
            caller = session.caller_identity()
            answer = state.dmp.test_existence(ins, caller, ins_oid=InsOid.TEST)
            documents = state.dmp.find_documents(ins, caller, ins_oid=InsOid.TEST).documents
        except DmpError as exc:
            return _page(f"<p id='error'>{html.escape(str(exc))}</p>")
        authorization = answer.authorization.value if answer.authorization else "-"
        return _page(
            f"<p id='who'>Connecté : {html.escape(session.identity.display_name)} "
            f"({html.escape(session.identity.national_id)}), situations : {html.escape(situations)}</p>"
            f"<p id='td02'>TD0.2 : DMP {html.escape(answer.status.value)}, autorisation {html.escape(authorization)}, "
            f"médecin traitant : {'oui' if answer.treating_physician else 'non'}</p>"
            f"<p id='td31'>TD3.1 : {len(documents)} document(s)</p><ul id='documents'>"
            + "".join(f"<li>{html.escape(entry.title or entry.unique_id)}</li>" for entry in documents[:10])
            + "</ul><a id='logout' href='/logout'>Se déconnecter</a>"
        )

    def logout(request: Request) -> Response:
        with state.lock:
            session = state.sessions.pop(request.cookies.get(COOKIE, ""), None)
        if session is not None:
            session.logout()
        response = _page("<p id='bye'>Déconnecté.</p>")
        response.delete_cookie(COOKIE)
        return response

    return Starlette(
        routes=[
            Route("/", home),
            Route("/login", login),
            Route("/callback", callback),
            Route("/patient", patient),
            Route("/logout", logout),
        ]
    )


def main() -> None:
    import uvicorn  # noqa: PLC0415 - only when run as a program

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path(".dmp-mock/dmpclient.toml"))
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    config = DmpConfig.load(args.config)
    if config.psc is None:
        raise SystemExit(f"{args.config} has no [psc] section")
    with PscClient.from_dmp_config(config, config.psc) as psc, DmpClient(config) as dmp:
        state = WebApp(psc, dmp, f"http://127.0.0.1:{args.port}")
        uvicorn.run(build_app(state), host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
