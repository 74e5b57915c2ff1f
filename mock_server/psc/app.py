"""The mock PSC provider over HTTP: a Starlette application at PSC's paths (reference §11.1).

Served on its own port with the client certificate optional (browsers have none; ``tls_client_auth``
clients present the structure's), or mounted next to the mock DMP with :func:`mount_psc`. Paths, under
the issuer ``{origin}/auth/realms/esante-wallet``: ``/.well-known/wallet-openid-configuration``,
``/protocol/openid-connect/{auth,token,userinfo,certs,token/introspect,logout,ext/ciba/auth}``. The
mock's own controls live under ``/mock/psc/`` and need the admin token written in the data directory.
"""

from __future__ import annotations

import hmac
import html
import logging
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749.errors import OAuth2Error
from joserfc import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from dmpclient.psc.errors import PscTokenError
from mock_server.psc.provider import MockPscProvider, StarletteOAuth2Request
from mock_server.server import ASGIApp, Receive, Scope, Send, client_certificate

__all__ = ["ADMIN_HEADER", "PSC_PREFIXES", "REALM_PATH", "mount_psc", "psc_app"]

REALM_PATH: Final = "/auth/realms/esante-wallet"
ADMIN_HEADER: Final = "X-Mock-Psc-Admin"
PSC_PREFIXES: Final = (REALM_PATH, "/mock/psc/")
_OIDC: Final = f"{REALM_PATH}/protocol/openid-connect"
_log = logging.getLogger("mock_server.psc")
_MAX_FORM: Final = 64 * 1024


async def _form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (the only form OAuth uses), bounded."""
    if request.method != "POST":
        return {}
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_FORM:
            raise OAuth2Error(description="request body too large", status_code=413)
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


async def _oauth_request(request: Request) -> StarletteOAuth2Request:
    return StarletteOAuth2Request(
        request.method,
        str(request.url),
        request.headers,
        dict(request.query_params),
        await _form(request),
        client_certificate(request.scope),
    )


def _response(result: tuple[int, Any, Mapping[str, str]] | None) -> Response:
    if result is None:
        return HTMLResponse("<p>Déconnecté de Pro Santé Connect (mock).</p>")
    status, body, headers = result
    headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    if status in (301, 302, 303) and "Location" in headers:
        return RedirectResponse(headers["Location"], status_code=302)
    if isinstance(body, dict):
        return JSONResponse(body, status_code=status, headers=headers)
    return Response(str(body), status_code=status, headers=headers, media_type="text/plain")


def _error(error: OAuth2Error) -> Response:
    status, body, _headers = error()
    return JSONResponse(dict(body), status_code=status, headers={"Cache-Control": "no-store"})


def _sign_in_page(provider: MockPscProvider, params: Mapping[str, str]) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in params.items()
    )
    rows = "".join(
        f'<li><button type="submit" name="ps_id" value="{html.escape(u.ps_id)}" id="ps-{html.escape(u.ps_id)}">'
        f"{html.escape(u.family_name)} {html.escape(u.given_name)}</button> — {html.escape(u.label)} "
        f"<small>({html.escape(u.ps_id)})</small></li>"
        for u in sorted(provider.users.values(), key=lambda u: (u.family_name, u.given_name))
    )
    return (
        "<!doctype html><html lang='fr'><meta charset='utf-8'><title>Pro Santé Connect (mock)</title>"
        "<body><h1>Pro Santé Connect — bac à sable dmpclient</h1>"
        "<p>Choisissez le professionnel de test (e-CPS simulée, niveau eidas1) :</p>"
        f"<form method='post'>{hidden}<ul>{rows}</ul>"
        "<button type='submit' name='deny' value='1' id='deny'>Refuser</button></form></body></html>"
    )


def psc_app(provider: MockPscProvider, *, admin_token: str | None = None) -> Starlette:
    """The provider's ASGI application (``admin_token``: enables ``/mock/psc/`` for ``dmp mock psc``)."""
    server = provider.server

    async def discovery(_: Request) -> Response:
        return JSONResponse(provider.metadata())

    async def certs(_: Request) -> Response:
        return JSONResponse(provider.key.jwks())

    async def authorize(request: Request) -> Response:
        oauth = await _oauth_request(request)
        try:
            grant = server.get_consent_grant(oauth)
        except OAuth2Error as error:
            return _response(server.handle_error_response(oauth, error))
        if oauth.payload.data.get("acr_values", "eidas1") != "eidas1":
            return PlainTextResponse("only acr_values=eidas1 is accepted", status_code=400)
        if request.method == "GET":
            return HTMLResponse(_sign_in_page(provider, dict(request.query_params)))
        user = None if oauth.form.get("deny") else provider.users.get(oauth.form.get("ps_id", ""))
        return _response(server.create_authorization_response(oauth, grant_user=user, grant=grant))

    async def token(request: Request) -> Response:
        return _response(server.create_token_response(await _oauth_request(request)))

    async def introspect(request: Request) -> Response:
        return _response(server.create_endpoint_response("introspection", await _oauth_request(request)))

    async def logout(request: Request) -> Response:
        oauth = await _oauth_request(request)
        try:
            return _response(server.create_endpoint_response("end_session", oauth))
        except OAuth2Error as error:
            return _error(error)

    async def userinfo(request: Request) -> Response:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        try:
            claims = provider.validate_psc_access_token(value) if scheme.lower() == "bearer" else None
        except PscTokenError:
            claims = None
        user = provider.users.get(str(claims.get("SubjectNameID"))) if claims else None
        if claims is None or user is None:
            headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            return JSONResponse({"error": "invalid_token"}, status_code=401, headers=headers)
        document = user.userinfo()
        client = provider.store.clients.get(str(claims.get("azp")))
        if client is not None and client.userinfo_jwt:
            signed = jwt.encode(
                {"alg": "RS256"},
                {**document, "iss": provider.issuer, "aud": client.client_id},
                provider.key.signing_set,
            )
            return Response(signed, media_type="application/jwt")
        return JSONResponse(document)

    async def ciba(request: Request) -> Response:
        oauth = await _oauth_request(request)
        try:
            client = server.authenticate_client(
                oauth, ["client_secret_basic", "client_secret_post", "client_assertion_jwt", "tls_client_auth"], "ciba"
            )
            answer = provider.start_ciba(client, oauth.form)
        except OAuth2Error as error:
            return _error(error)
        _log.info(  # the request id is a credential of the client: it is listed by `dmp mock psc pending` only
            "CIBA request for %s (%s), binding message %s: `dmp mock psc pending`, then `dmp mock psc approve ID`",
            oauth.form.get("login_hint"),
            oauth.form.get("channel"),
            oauth.form.get("binding_message"),
        )
        return JSONResponse(answer)

    def admin_allowed(request: Request) -> bool:
        given = request.headers.get(ADMIN_HEADER, "")
        return bool(admin_token) and hmac.compare_digest(given.encode(), (admin_token or "").encode())

    async def ciba_decide(request: Request) -> Response:
        if not admin_allowed(request):
            return PlainTextResponse("forbidden", status_code=403)
        if request.path_params["what"] not in ("approve", "deny"):
            return PlainTextResponse("approve or deny", status_code=404)
        try:
            record = provider.decide_ciba(
                request.path_params["auth_req_id"], approve=request.path_params["what"] == "approve"
            )
        except KeyError as exc:
            return PlainTextResponse(str(exc.args[0]), status_code=404)
        return JSONResponse({"status": record.status, "ps_id": record.user.ps_id})

    async def ciba_pending(request: Request) -> Response:
        if not admin_allowed(request):
            return PlainTextResponse("forbidden", status_code=403)
        return JSONResponse(
            [
                {
                    "auth_req_id": r.auth_req_id,
                    "ps_id": r.user.ps_id,
                    "binding_message": r.binding_message,
                    "channel": r.channel,
                }
                for r in provider.pending_ciba()
            ]
        )

    return Starlette(
        routes=[
            Route(f"{REALM_PATH}/.well-known/wallet-openid-configuration", discovery),
            Route(f"{_OIDC}/certs", certs),
            Route(f"{_OIDC}/auth", authorize, methods=["GET", "POST"]),
            Route(f"{_OIDC}/token", token, methods=["POST"]),
            Route(f"{_OIDC}/token/introspect", introspect, methods=["POST"]),
            Route(f"{_OIDC}/userinfo", userinfo, methods=["GET", "POST"]),
            Route(f"{_OIDC}/logout", logout, methods=["GET", "POST"]),
            Route(f"{_OIDC}/ext/ciba/auth", ciba, methods=["POST"]),
            Route("/mock/psc/ciba", ciba_pending),
            Route("/mock/psc/ciba/{auth_req_id}/{what:str}", ciba_decide, methods=["POST"]),
        ]
    )


def mount_psc(dmp_app: ASGIApp, psc: ASGIApp) -> ASGIApp:
    """One ASGI app: PSC's paths (:data:`PSC_PREFIXES`) go to ``psc``, everything else to the mock DMP.

    The mock DMP's port requires a client certificate: mounted there, the provider serves API clients
    (CIBA, token exchange, mutual TLS) but not browsers; ``dmp mock serve`` gives it its own port too.
    """

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        target = psc if path.startswith(PSC_PREFIXES) else dmp_app
        await target(scope, receive, send)

    return app
