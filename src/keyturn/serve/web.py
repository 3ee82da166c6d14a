"""The HTTP server's application: health probes, Prometheus metrics and the dashboard.

`create_app` is handed callables, not the scheduler: `view()` builds the dashboard's data,
`metrics()` the Prometheus text, `ready()` the readiness verdict, `rotate_now(id)` starts a
rotation. Routes, sign-in and headers are described in docs/serve.md.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keyturn.checklist import Checklist
from keyturn.core.errors import ExitCode, KeyturnError
from keyturn.core.redact import redact
from keyturn.serve.view import DashboardView
from keyturn.serve.web_auth import (
    SESSION_COOKIE,
    SESSION_SECONDS,
    LoginLimiter,
    Session,
    Signer,
)
from keyturn.serve.web_render import Pages, stylesheet

log = logging.getLogger(__name__)

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# The forms hold a token or a CSRF token: parsing stops at the first field over 8 KiB.
_FORM_LIMITS: dict[str, Any] = {"max_files": 0, "max_fields": 4, "max_part_size": 8 * 1024}
_FLASH_PARAM = "m"
_FLASH_SECONDS = 600.0
_FLASH_KEEP = 256
_MESSAGE_LENGTH = 500


class SecurityHeaders:
    """Adds the security headers to every response (and `no-store` to all but the stylesheet);
    turns an exception into a one-line 500 whose log names only the exception's class (its
    message could quote what an outside system said)."""

    def __init__(self, app: ASGIApp, pages: Pages) -> None:
        self.app = app
        self.pages = pages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cacheable = scope["path"] == "/static/dashboard.css"
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers.update(SECURITY_HEADERS)
                if not cacheable:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            log.error("%s %r failed: %s", scope["method"], scope["path"], type(exc).__name__)
            if started:
                raise
            await self._internal_error(scope)(scope, receive, send_with_headers)

    def _internal_error(self, scope: Scope) -> Response:
        line = "Internal error: the server log names its cause."
        if "text/html" in Request(scope).headers.get("accept", ""):
            return HTMLResponse(self.pages.message("Internal error", line), status_code=500)
        return PlainTextResponse(line, status_code=500)


class Flashes:
    """One-line messages for the next dashboard page, by a random id (never the text itself in
    the URL, so the page never shows what a link says)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._messages: OrderedDict[str, tuple[float, str]] = OrderedDict()

    def put(self, message: str) -> str:
        key = secrets.token_urlsafe(16)
        self._messages[key] = (self._clock(), message[:_MESSAGE_LENGTH])
        while len(self._messages) > _FLASH_KEEP:
            self._messages.popitem(last=False)
        return key

    def pop(self, key: str | None) -> str | None:
        added, message = self._messages.pop(key or "", (0.0, None))
        return message if self._clock() - added <= _FLASH_SECONDS else None


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class Web:
    """The routes' handlers, with what they are given."""

    def __init__(
        self,
        *,
        view: Callable[[], DashboardView],
        metrics: Callable[[], tuple[bytes, str]],
        ready: Callable[[], tuple[bool, str]],
        signer: Signer | None,
        rotate_now: Callable[[str], str] | None,
        limiter: LoginLimiter,
        flashes: Flashes,
        checklist: Callable[[str], Checklist] | None = None,
    ) -> None:
        self.view, self.metrics_text, self.ready = view, metrics, ready
        self.signer, self.rotate_now = signer, rotate_now
        self.checklist = checklist
        self.limiter, self.flashes = limiter, flashes
        self.pages = Pages()
        self.css = stylesheet()

    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = [
            Route("/healthz", self.healthz, methods=["GET"]),
            Route("/readyz", self.readyz, methods=["GET"]),
            Route("/metrics", self.metrics, methods=["GET"]),
            Route("/", self.dashboard, methods=["GET"]),
            Route("/static/dashboard.css", self.stylesheet, methods=["GET"]),
            Route("/login", self.login_form, methods=["GET"]),
        ]
        if self.checklist is not None:
            route = Route("/checklist/{credential_id:path}", self.checklist_page, methods=["GET"])
            routes.append(route)
        if self.signer is not None:
            routes.append(Route("/login", self.login, methods=["POST"]))
            routes.append(Route("/logout", self.logout, methods=["POST"]))
            if self.rotate_now is not None:
                routes.append(Route("/rotate/{credential_id:path}", self.rotate, methods=["POST"]))
        return routes

    # -- probes and metrics

    async def healthz(self, request: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(self, request: Request) -> Response:
        ok, detail = await run_in_threadpool(self.ready)
        return PlainTextResponse(detail, status_code=200 if ok else 503)

    async def metrics(self, request: Request) -> Response:
        if not self._bearer_ok(request) and self._session(request) is None:
            return _unauthorized()
        body, content_type = await run_in_threadpool(self.metrics_text)
        return Response(body, media_type=content_type)

    async def stylesheet(self, request: Request) -> Response:
        headers = {"Cache-Control": "public, max-age=86400"}  # its URL names its version
        return Response(self.css, media_type="text/css", headers=headers)

    # -- the dashboard

    async def dashboard(self, request: Request) -> Response:
        refused = self._page_refused(request)
        if refused is not None:
            return refused
        session = self._session(request)
        data = await run_in_threadpool(self.view)
        flash = self.flashes.pop(request.query_params.get(_FLASH_PARAM))
        csrf = self.signer.csrf(session) if self.signer and session and self.rotate_now else None
        html = self.pages.dashboard(data, flash=flash, csrf=csrf, signed_in=session is not None)
        return HTMLResponse(html)

    async def checklist_page(self, request: Request) -> Response:
        """A credential's last rotation, checked box by box (docs/checklist.md): computed on
        request, from n8n and the journal."""
        refused = self._page_refused(request)
        if refused is not None:
            return refused
        assert self.checklist is not None
        credential_id = request.path_params["credential_id"]
        try:
            result = await run_in_threadpool(self.checklist, credential_id)
        except KeyturnError as exc:
            page = self.pages.message("No checklist", redact(exc.message))
            status = {ExitCode.NOT_FOUND: 404, ExitCode.BUSY: 429}.get(exc.exit_code, 502)
            return HTMLResponse(page, status_code=status)
        return HTMLResponse(self.pages.checklist(result))

    # -- sign-in

    async def login_form(self, request: Request) -> Response:
        if self.signer is None or self._session(request) is not None:
            return RedirectResponse("/", status_code=303)
        return HTMLResponse(self.pages.login(error=None))

    async def login(self, request: Request) -> Response:
        assert self.signer is not None
        client = _client(request)
        wait = math.ceil(self.limiter.wait(client))
        if wait > 0:
            error = f"Too many wrong tokens from this address: try again in {wait}s."
            return self._login_refused(error, 429, {"Retry-After": str(wait)})
        form = await request.form(**_FORM_LIMITS)
        given = form.get("token")
        if not self.signer.token_ok(given if isinstance(given, str) else None):
            self.limiter.failed(client)
            return self._login_refused("Wrong token.", 401, {"WWW-Authenticate": "Bearer"})
        self.limiter.succeeded(client)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            self.signer.new_cookie(),
            max_age=SESSION_SECONDS,
            path="/",
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )
        return response

    async def logout(self, request: Request) -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return response

    def _login_refused(self, error: str, status: int, headers: dict[str, str]) -> Response:
        return HTMLResponse(self.pages.login(error=error), status_code=status, headers=headers)

    # -- rotate now

    async def rotate(self, request: Request) -> Response:
        assert self.signer is not None and self.rotate_now is not None
        session = self._session(request)
        form = await request.form(**_FORM_LIMITS)
        if session is None or not self.signer.csrf_ok(session, form.get("csrf")):
            line = "This form has expired or did not come from this dashboard: reload it."
            page = self.pages.message("Refused", line)
            return HTMLResponse(page, status_code=403)
        message = await run_in_threadpool(self.rotate_now, request.path_params["credential_id"])
        key = self.flashes.put(message)
        return RedirectResponse(f"/?{_FLASH_PARAM}={key}", status_code=303)

    # -- helpers

    def _page_refused(self, request: Request) -> Response | None:
        """With a token: a page for a signed-in browser or a program with the bearer token;
        anyone else is sent to sign in (a program with a wrong token gets 401)."""
        if self.signer is None or self._session(request) is not None or self._bearer_ok(request):
            return None
        if "authorization" in request.headers:
            return _unauthorized()  # a wrong token from a program: it cannot follow a form
        return RedirectResponse("/login", status_code=303)

    def _bearer_ok(self, request: Request) -> bool:
        """A right bearer token; wrong ones count against the client's address as wrong
        sign-ins do, and a client made to wait is refused unchecked."""
        if self.signer is None:
            return True
        header = request.headers.get("authorization")
        if header is None:
            return False
        client = _client(request)
        if self.limiter.wait(client) > 0:
            return False
        if self.signer.bearer_ok(header):
            self.limiter.succeeded(client)
            return True
        self.limiter.failed(client)
        return False

    def _session(self, request: Request) -> Session | None:
        if self.signer is None:
            return None
        return self.signer.session(request.cookies.get(SESSION_COOKIE))


def _unauthorized() -> Response:
    return PlainTextResponse(
        "Unauthorized: send Authorization: Bearer <token>.",
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


def create_app(
    *,
    view: Callable[[], DashboardView],
    metrics: Callable[[], tuple[bytes, str]],
    ready: Callable[[], tuple[bool, str]],
    token: str | None,
    rotate_now: Callable[[str], str] | None = None,
    limiter: LoginLimiter | None = None,
    clock: Callable[[], float] = time.time,
    checklist: Callable[[str], Checklist] | None = None,
) -> Starlette:
    """The application. `token` None leaves every route open (the caller allows that only on a
    loopback address) and rotate-now absent; `limiter` and `clock` are for tests."""
    if token is not None and not token.strip():
        raise ValueError("the dashboard token is empty")  # never open the dashboard by mistake
    web = Web(
        view=view,
        metrics=metrics,
        ready=ready,
        signer=Signer(token, clock) if token else None,
        rotate_now=rotate_now if token else None,
        limiter=limiter or LoginLimiter(),
        flashes=Flashes(),
        checklist=checklist,
    )
    middleware = [Middleware(SecurityHeaders, pages=web.pages)]
    if token is None:
        middleware.append(Middleware(LoopbackHostsOnly))
    return Starlette(routes=web.routes(), middleware=middleware)


class LoopbackHostsOnly:
    """Without a token the server listens on loopback only, and must answer only requests
    addressed to a loopback name: a web page whose DNS name is made to point at 127.0.0.1
    (DNS rebinding) sends its own Host and would otherwise read the dashboard."""

    ALLOWED = frozenset({"127.0.0.1", "localhost", "::1"})

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _host_name(Request(scope).headers.get("host", "")) not in (
            self.ALLOWED
        ):
            response = PlainTextResponse(
                "Misdirected request: this dashboard answers on 127.0.0.1 or localhost only.",
                status_code=421,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _host_name(host: str) -> str:
    """The name in a Host header, without its port (`[::1]:9464` -> `::1`)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host
