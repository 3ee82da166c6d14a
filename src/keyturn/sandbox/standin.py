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

The test that owns it registers and revokes tuples in-process, and reads who presented what:
every request is recorded as (service, caller = the first word of its User-Agent, the sha256
fingerprint of each secret it carried, accepted or not). No raw value is kept: registered
tuples are stored as fingerprints too, and nothing is logged but method, path and verdict.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

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


@dataclass
class StandInState:
    """Everything the stand-in knows; every access holds `lock`. Tuples are kept as the
    fingerprints of their values, so the state never holds a raw secret."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    # {service: {the fingerprints of a registered tuple: whether it is revoked}}
    registered: dict[str, dict[tuple[str, ...], bool]] = field(default_factory=dict)
    records: list[Presentation] = field(default_factory=list)

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


def _service(name: str) -> Service:
    if name not in SERVICES:
        raise ValueError(f"no stand-in service {name!r} (services: {', '.join(SERVICES)})")
    return SERVICES[name]


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
        self._discard_body()
        url = urlsplit(self.path)
        name, _, _ = url.path.lstrip("/").partition("/")
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

    def _discard_body(self) -> None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True  # not read: the connection ends with this answer
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > 0:
            self.rfile.read(length)

    def _reply(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


class _StandInServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        self.state = StandInState()


class StandIn:
    """Runs the stand-in services in a background thread on 127.0.0.1."""

    def __init__(self, port: int = 0) -> None:
        self._server = _StandInServer(("127.0.0.1", port))
        # A short poll makes stop() quick (shutdown waits for the loop's next poll).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        port: int = self._server.server_address[1]
        return port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def state(self) -> StandInState:
        return self._server.state

    def service_url(self, name: str) -> str:
        return f"{self.url}/{_service(name).name}"

    def start(self) -> StandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- control ------------------------------------------------------------------------------

    def accept(self, service: str, *values: str) -> None:
        """Register a credential tuple (in the service's order); un-revokes a revoked one."""
        self.state.set_revoked(service, values, False)

    def revoke(self, service: str, *values: str) -> None:
        self.state.set_revoked(service, values, True)

    # -- what was presented -------------------------------------------------------------------

    def mark(self) -> int:
        """A position in the record: pass it as `since` to see only later requests."""
        with self.state.lock:
            return len(self.state.records)

    def records(self, service: str, since: int = 0) -> list[Presentation]:
        _service(service)
        with self.state.lock:
            return [r for r in self.state.records[since:] if r.service == service]

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
