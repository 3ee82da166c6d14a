"""The stand-in service: real HTTP services that check credentials where the real ones read them.

One server on 127.0.0.1 hosts several services, each under its own path prefix
(`/openai`, `/gitlab`...). Any method and any path under a prefix answers 200 with a plausible
JSON body when the credential tuple the request carries is registered and not revoked, else
401 `{"error": ...}`. Each service reads its credential where n8n's credential type puts it
(data/n8n_credential_probes.json, `authenticate`), and only there:

  openai     Authorization: Bearer KEY
  gitlab     Private-Token: TOKEN
  ghost      ?key=KEY
  wordpress  Basic USER:PASSWORD          accept("wordpress", user, password)
  discourse  Api-Key: KEY, Api-Username: USER   accept("discourse", key, user)
  datadog    DD-API-KEY: A, DD-APPLICATION-KEY: B   accept("datadog", a, b)
  ollama     Authorization: Bearer KEY (a self-hosted Ollama behind an authenticating proxy)

`StandIn(root="ollama")` serves one service at the root of its address instead (every path),
as a real single-service host does: on Ollama's default port, a credential whose base URL
is its type's default reaches it.

and an OAuth2 authorization server with its API, under `/oauth` (RFC 6749 and 6750):

  POST /oauth/token   client authentication by HTTP Basic (`client_id:client_secret`, sent
                      raw as n8n's OAuth2 client and most others do) or by `client_id` and
                      `client_secret` in the form, never both; a client that does not
                      authenticate: 401 invalid_client. grant_type=client_credentials: a random
                      Bearer access token; authorization_code or refresh_token: 400
                      invalid_grant (this server issues neither codes nor refresh tokens);
                      accept_client(client_id, secret), revoke_client(client_id, secret)
  any other /oauth/*  Authorization: Bearer <an issued token not revoked>, else 401
                      invalid_token; revoke_tokens() ends every issued token (tokens do not
                      expire by themselves: `expires_in` is advisory)

The test that owns it registers and revokes tuples in-process, and reads who presented what:
every request is recorded as (service, caller = the first word of its User-Agent, the sha256
fingerprint of each secret it carried, accepted or not); an API call under /oauth carries its
access token. Every token request is recorded apart (TokenRequest: caller, how the client
authenticated, the fingerprint of the client secret it presented, the verdict). No raw value is
kept: registered tuples, client secrets and issued tokens are stored as fingerprints too, and
nothing is logged but method, path and verdict.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from keyturn.sandbox.background import BackgroundServer, reply_json
from keyturn.sandbox.demo_provider import _bearer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Request:
    """What a service may read a credential from."""

    headers: Message
    query: dict[str, list[str]]


Reader = Callable[[_Request], str | None]


@dataclass(frozen=True)
class Part:
    """One value of a service's credential tuple, and where the service reads it."""

    name: str
    secret: bool
    read: Reader


@dataclass(frozen=True)
class Service:
    name: str
    parts: tuple[Part, ...]
    body: Any  # what an accepted call answers, shaped like the real service's


def fingerprint(value: str) -> str:
    """How the stand-in names a value it saw: never the value itself."""
    return hashlib.sha256(value.encode()).hexdigest()


def caller_of(user_agent: str | None) -> str:
    """The first word of a User-Agent (`keyturn/0.3` -> `keyturn`), as the demo provider
    counts its callers."""
    return (user_agent or "").split("/")[0].split(" ")[0] or "unknown"


def _header(name: str) -> Reader:
    return lambda request: request.headers.get(name) or None


def _query(name: str) -> Reader:
    def read(request: _Request) -> str | None:
        values = request.query.get(name)
        return values[0] if values and values[0] else None

    return read


def _bearer_token(request: _Request) -> str | None:
    return _bearer(request.headers.get("Authorization"))


def _basic(request: _Request) -> tuple[str, str] | None:
    authorization = request.headers.get("Authorization") or ""
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def _basic_user(request: _Request) -> str | None:
    pair = _basic(request)
    return (pair[0] or None) if pair else None


def _basic_password(request: _Request) -> str | None:
    pair = _basic(request)
    return (pair[1] or None) if pair else None


SERVICES: dict[str, Service] = {
    service.name: service
    for service in (
        Service(
            "openai",
            (Part("api_key", True, _bearer_token),),
            {"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]},
        ),
        Service(
            "gitlab",
            (Part("token", True, _header("Private-Token")),),
            {"id": 1, "name": "stand-in", "active": True, "revoked": False, "scopes": ["api"]},
        ),
        Service(
            "ghost",
            (Part("key", True, _query("key")),),
            {"settings": {"title": "Stand-in", "lang": "en"}, "posts": []},
        ),
        Service(
            "wordpress",
            (Part("user", False, _basic_user), Part("password", True, _basic_password)),
            [{"id": 1, "name": "Stand-in", "slug": "stand-in"}],
        ),
        Service(
            "discourse",
            (
                Part("api_key", True, _header("Api-Key")),
                Part("user", False, _header("Api-Username")),
            ),
            {"groups": [{"id": 1, "name": "staff"}]},
        ),
        Service(
            "datadog",
            (
                Part("api_key", True, _header("DD-API-KEY")),
                Part("app_key", True, _header("DD-APPLICATION-KEY")),
            ),
            {"valid": True},
        ),
        Service(
            "ollama",
            (Part("api_key", True, _bearer_token),),
            {"models": [{"name": "llama3:8b", "model": "llama3:8b"}]},
        ),
    )
}


@dataclass(frozen=True)
class Presentation:
    """One request to a service: who sent it, the fingerprints of the secrets it carried (in
    the service's order, the ones present), and whether it was accepted. The path has no
    query string (ghost's key travels there)."""

    service: str
    caller: str
    fingerprints: tuple[str, ...]
    accepted: bool
    method: str
    path: str


@dataclass
class Tally:
    accepted: int = 0
    refused: int = 0


# -- the OAuth2 service -----------------------------------------------------------------------

OAUTH = "oauth"
TOKEN_PATH = f"/{OAUTH}/token"
TOKEN_LIFETIME = 3600  # seconds, as `expires_in`
OAUTH_BODY = {"data": [{"id": 1, "name": "stand-in"}], "has_more": False}


@dataclass(frozen=True)
class TokenRequest:
    """One request to the token endpoint. `client_auth` is how the client authenticated
    (`basic`, `body` or `none`); `secret` the fingerprint of the client secret it presented
    (None: none); `client_accepted` whether the client authenticated (an unknown code is then
    still refused: `outcome` invalid_grant); `outcome` is `token` or the OAuth2 error answered.
    `header_names` are the request's header names, lowercase (never their values)."""

    caller: str
    client_auth: str
    client_id: str | None
    secret: str | None
    grant_type: str | None
    client_accepted: bool
    outcome: str
    status: int
    header_names: tuple[str, ...]


@dataclass(frozen=True)
class ClientAuth:
    """The client authentication a token request carries, while it is judged (never stored)."""

    method: str  # basic, body or none
    client_id: str | None = None
    secret: str | None = field(default=None, repr=False)


@dataclass
class IssuedToken:
    """An access token the stand-in issued (kept under its fingerprint)."""

    client_id: str
    secret: str  # the fingerprint of the client secret it was issued for
    revoked: bool = False


@dataclass(frozen=True)
class Answer:
    status: int
    payload: Any
    headers: dict[str, str] = field(default_factory=dict)


_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749, 5.1


def oauth_error(status: int, error: str, description: str = "") -> Answer:
    """An RFC 6749 error answer; 401 says how to authenticate (RFC 7235)."""
    payload = {"error": error, **({"error_description": description} if description else {})}
    headers = dict(_NO_STORE)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="stand-in oauth"'
    return Answer(status, payload, headers)


def read_form(headers: Message, body: bytes) -> dict[str, str] | None:
    """A token request's form parameters, or None when it is not a form, is not UTF-8, or
    repeats a parameter (RFC 6749, 3.2)."""
    content_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return None
    try:
        parsed = parse_qs(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        return None
    if any(len(values) > 1 for values in parsed.values()):
        return None
    return {name: values[0] for name, values in parsed.items()}


def client_auth(headers: Message, form: dict[str, str]) -> ClientAuth | None:
    """How the request authenticates its client (RFC 6749, 2.3.1): HTTP Basic, or
    client_id and client_secret in the form; None when it uses both (forbidden)."""
    basic = _basic(_Request(headers, {}))
    in_body = "client_secret" in form
    if basic is not None and in_body:
        return None
    if basic is not None:
        return ClientAuth("basic", basic[0] or None, basic[1] or None)
    if in_body:
        return ClientAuth("body", form.get("client_id") or None, form["client_secret"] or None)
    return ClientAuth("none", form.get("client_id") or None)


def grant_answer(grant_type: str | None, form: dict[str, str]) -> Answer | None:
    """The answer to an authenticated client's grant, or None: issue a token."""
    if grant_type == "client_credentials":
        return None
    if not grant_type:
        return oauth_error(400, "invalid_request", "grant_type is missing")
    if grant_type == "authorization_code":
        if not form.get("code"):
            return oauth_error(400, "invalid_request", "code is missing")
        return oauth_error(400, "invalid_grant", "unknown authorization code")
    if grant_type == "refresh_token":
        return oauth_error(400, "invalid_grant", "unknown refresh token")
    return oauth_error(400, "unsupported_grant_type")


def _token_record(
    caller: str,
    headers: Message,
    form: dict[str, str],
    auth: ClientAuth | None,
    answer: Answer,
    *,
    accepted: bool,
) -> TokenRequest:
    """What the stand-in keeps of a token request: the client secret as its fingerprint."""
    return TokenRequest(
        caller=caller,
        client_auth=auth.method if auth else "none",
        client_id=auth.client_id if auth else None,
        secret=fingerprint(auth.secret) if auth and auth.secret else None,
        grant_type=form.get("grant_type") or None,
        client_accepted=accepted,
        outcome="token" if answer.status == 200 else str(answer.payload["error"]),
        status=answer.status,
        header_names=tuple(sorted({name.lower() for name in headers})),
    )


@dataclass
class StandInState:
    """Everything the stand-in knows; every access holds `lock`. Tuples, client secrets and
    issued tokens are kept as fingerprints, so the state never holds a raw secret."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    # {service: {the fingerprints of a registered tuple: whether it is revoked}}
    registered: dict[str, dict[tuple[str, ...], bool]] = field(default_factory=dict)
    records: list[Presentation | TokenRequest] = field(default_factory=list)
    # {OAuth2 client id: {the fingerprint of one of its secrets: whether it is revoked}}
    clients: dict[str, dict[str, bool]] = field(default_factory=dict)
    tokens: dict[str, IssuedToken] = field(default_factory=dict)  # by fingerprint

    def set_revoked(self, service: str, values: tuple[str, ...], revoked: bool) -> None:
        key = _tuple_key(service, values)
        with self.lock:
            self.registered.setdefault(service, {})[key] = revoked

    def judge(self, service: Service, request: _Request, method: str, path: str) -> bool:
        """Whether the request carries a registered, unrevoked tuple; recorded either way."""
        values = [part.read(request) for part in service.parts]
        secrets = tuple(
            fingerprint(value)
            for part, value in zip(service.parts, values, strict=True)
            if part.secret and value is not None
        )
        present = tuple(fingerprint(value) for value in values if value is not None)
        caller = caller_of(request.headers.get("User-Agent"))
        with self.lock:
            revoked = self.registered.get(service.name, {}).get(present, True)
            accepted = len(present) == len(values) and not revoked
            self.records.append(Presentation(service.name, caller, secrets, accepted, method, path))
        return accepted

    # -- OAuth2 ---------------------------------------------------------------------------

    def set_client_secret(self, client_id: str, secret: str, revoked: bool) -> None:
        if not client_id or not secret:
            raise ValueError("an OAuth2 client takes a non-empty client id and secret")
        with self.lock:
            self.clients.setdefault(client_id, {})[fingerprint(secret)] = revoked

    def revoke_tokens(self) -> int:
        """Revoke every issued token still valid; how many that was."""
        with self.lock:
            live = [token for token in self.tokens.values() if not token.revoked]
            for token in live:
                token.revoked = True
        return len(live)

    def token_request(self, caller: str, method: str, headers: Message, body: bytes) -> Answer:
        """Judge a request to the token endpoint, issue a token if it earns one, record it."""
        form = read_form(headers, body) if method == "POST" else None
        auth = client_auth(headers, form) if form is not None else None
        with self.lock:
            answer, accepted = self._token_answer(method, form, auth)
            self.records.append(
                _token_record(caller, headers, form or {}, auth, answer, accepted=accepted)
            )
        return answer

    def _token_answer(
        self, method: str, form: dict[str, str] | None, auth: ClientAuth | None
    ) -> tuple[Answer, bool]:
        """(the answer, whether the client authenticated); holds the lock."""
        if method != "POST":
            return oauth_error(405, "invalid_request", "the token endpoint takes POST"), False
        if form is None or auth is None:
            why = "not a form" if form is None else "more than one client authentication"
            return oauth_error(400, "invalid_request", why), False
        secret = self._accepted_secret(auth)
        if auth.client_id is None or secret is None:
            return oauth_error(401, "invalid_client"), False
        refused = grant_answer(form.get("grant_type"), form)
        if refused is not None:
            return refused, True
        return self._issue(auth.client_id, secret, form.get("scope")), True

    def _accepted_secret(self, auth: ClientAuth) -> str | None:
        """The fingerprint of the client's secret when it is registered and not revoked."""
        if auth.client_id is None or auth.secret is None:
            return None
        secret = fingerprint(auth.secret)
        revoked = self.clients.get(auth.client_id, {}).get(secret, True)
        return None if revoked else secret

    def _issue(self, client_id: str, secret: str, scope: str | None) -> Answer:
        token = secrets.token_urlsafe(32)
        self.tokens[fingerprint(token)] = IssuedToken(client_id, secret)
        payload = {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME}
        if scope:
            payload["scope"] = scope
        return Answer(200, payload, dict(_NO_STORE))

    def api_call(self, caller: str, headers: Message, method: str, path: str) -> bool:
        """Whether an API call under /oauth carries an issued, unrevoked Bearer token;
        recorded either way (the token's fingerprint)."""
        token = _bearer(headers.get("Authorization"))
        presented = (fingerprint(token),) if token else ()
        with self.lock:
            issued = self.tokens.get(presented[0]) if presented else None
            accepted = issued is not None and not issued.revoked
            self.records.append(Presentation(OAUTH, caller, presented, accepted, method, path))
        return accepted

    def issued_for(self, token_fingerprint: str) -> str | None:
        """The fingerprint of the client secret a token was issued for (None: not issued)."""
        with self.lock:
            issued = self.tokens.get(token_fingerprint)
        return issued.secret if issued else None


def _service(name: str) -> Service:
    if name not in SERVICES:
        raise ValueError(f"no stand-in service {name!r} (services: {', '.join(SERVICES)})")
    return SERVICES[name]


def _known(name: str) -> str:
    """A service's name (the credential services' or the OAuth2 one's), else ValueError."""
    return name if name == OAUTH else _service(name).name


def _tuple_key(name: str, values: tuple[str, ...]) -> tuple[str, ...]:
    service = _service(name)
    expected = ", ".join(part.name for part in service.parts)
    if len(values) != len(service.parts) or not all(values):
        raise ValueError(f"{name} takes {len(service.parts)} non-empty value(s): {expected}")
    return tuple(fingerprint(value) for value in values)


class _Handler(BaseHTTPRequestHandler):
    server: _StandInServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the default line is the request line, and ghost's key is in its query."""

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

    def _dispatch(self) -> None:
        body = self._read_body()
        url = urlsplit(self.path)
        name = self.server.root or url.path.lstrip("/").partition("/")[0]
        if name == OAUTH:
            return self._oauth(url.path, body)
        service = SERVICES.get(name)
        if service is None:
            return self._reply(404, {"error": f"no service at /{name}"})
        request = _Request(self.headers, parse_qs(url.query, keep_blank_values=True))
        accepted = self.server.state.judge(service, request, self.command, url.path)
        verdict = "accepted" if accepted else "refused"
        log.debug("stand-in %s %s %s: %s", name, self.command, url.path, verdict)
        if not accepted:
            return self._reply(401, {"error": f"{name}: invalid credentials"})
        return self._reply(200, service.body)

    def _oauth(self, path: str, body: bytes) -> None:
        state = self.server.state
        caller = caller_of(self.headers.get("User-Agent"))
        if path.rstrip("/") == TOKEN_PATH:
            answer = state.token_request(caller, self.command, self.headers, body)
            verdict = "token" if answer.status == 200 else answer.payload["error"]
        elif state.api_call(caller, self.headers, self.command, path):
            answer, verdict = Answer(200, OAUTH_BODY), "accepted"
        else:
            answer, verdict = _INVALID_TOKEN, "refused"
        log.debug("stand-in %s %s %s: %s", OAUTH, self.command, path, verdict)
        self._reply(answer.status, answer.payload, answer.headers)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True  # not read: the connection ends with this answer
            return b""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _reply(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        reply_json(self, status, payload, headers)


_INVALID_TOKEN = Answer(
    401, {"error": "invalid_token"}, {"WWW-Authenticate": 'Bearer error="invalid_token"'}
)  # RFC 6750, 3.1


class _StandInServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], root: str | None) -> None:
        super().__init__(address, _Handler)
        self.state = StandInState()
        self.root = root  # the one service served at every path, if any


class StandIn(BackgroundServer):
    """Runs the stand-in services in a background thread on 127.0.0.1."""

    _server: _StandInServer

    def __init__(self, port: int = 0, root: str | None = None) -> None:
        if root is not None:
            _known(root)
        super().__init__(_StandInServer(("127.0.0.1", port), root))

    @property
    def state(self) -> StandInState:
        return self._server.state

    def service_url(self, name: str) -> str:
        if name == self._server.root:
            return self.url
        return f"{self.url}/{_known(name)}"

    @property
    def token_url(self) -> str:
        """The OAuth2 service's token endpoint."""
        return f"{self.url}{TOKEN_PATH}"

    # -- control ------------------------------------------------------------------------------

    def accept(self, service: str, *values: str) -> None:
        """Register a credential tuple (in the service's order); un-revokes a revoked one."""
        self.state.set_revoked(service, values, False)

    def revoke(self, service: str, *values: str) -> None:
        self.state.set_revoked(service, values, True)

    def accept_client(self, client_id: str, secret: str) -> None:
        """Register a secret of an OAuth2 client (un-revokes a revoked one). A client may hold
        several secrets at once, as providers allow while one is rotated."""
        self.state.set_client_secret(client_id, secret, False)

    def revoke_client(self, client_id: str, secret: str) -> None:
        """Revoke one secret of an OAuth2 client; the tokens it got stay valid."""
        self.state.set_client_secret(client_id, secret, True)

    def revoke_tokens(self) -> int:
        """Revoke every access token issued so far (a client must fetch a new one); how many."""
        return self.state.revoke_tokens()

    # -- what was presented -------------------------------------------------------------------

    def mark(self) -> int:
        """A position in the record: pass it as `since` to see only later requests."""
        with self.state.lock:
            return len(self.state.records)

    def records(self, service: str, since: int = 0) -> list[Presentation]:
        """The requests to a service (for `oauth`: its API calls, each with its token)."""
        _known(service)
        with self.state.lock:
            return [
                r
                for r in self.state.records[since:]
                if isinstance(r, Presentation) and r.service == service
            ]

    def token_requests(self, since: int = 0, caller: str | None = None) -> list[TokenRequest]:
        """The requests to the OAuth2 token endpoint (only `caller`'s, when given)."""
        with self.state.lock:
            return [
                r
                for r in self.state.records[since:]
                if isinstance(r, TokenRequest) and caller in (None, r.caller)
            ]

    def client_secret_callers(self, secret: str, since: int = 0) -> set[str]:
        """Who presented this client secret to the token endpoint, accepted or not."""
        wanted = fingerprint(secret)
        return {r.caller for r in self.token_requests(since) if r.secret == wanted}

    def token_counts(self, since: int = 0) -> dict[str, Tally]:
        """{caller: how many of its token requests got a token or were refused}."""
        tallies: dict[str, Tally] = {}
        for record in self.token_requests(since):
            tally = tallies.setdefault(record.caller, Tally())
            if record.outcome == "token":
                tally.accepted += 1
            else:
                tally.refused += 1
        return tallies

    def presented_by(self, service: str, since: int = 0) -> dict[str, set[str]]:
        """{caller: fingerprints of every secret it presented}, accepted or not."""
        seen: dict[str, set[str]] = {}
        for record in self.records(service, since):
            seen.setdefault(record.caller, set()).update(record.fingerprints)
        return seen

    def callers_of(self, service: str, value: str, since: int = 0) -> set[str]:
        """Who presented this secret value to the service."""
        wanted = fingerprint(value)
        return {c for c, fps in self.presented_by(service, since).items() if wanted in fps}

    def counts(self, service: str, since: int = 0) -> dict[str, Tally]:
        """{caller: how many of its requests were accepted and refused}."""
        tallies: dict[str, Tally] = {}
        for record in self.records(service, since):
            tally = tallies.setdefault(record.caller, Tally())
            if record.accepted:
                tally.accepted += 1
            else:
                tally.refused += 1
        return tallies
