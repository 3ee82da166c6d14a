"""The demo provider: a small real HTTP service standing in for a third-party API.

It accepts only its currently valid API keys, sent as a header (`X-API-Key: K` or
`Authorization: Bearer K`), as Basic auth (any user, password K) or as a query parameter
(`?api_key=K`). Admin calls (token in `Authorization: Bearer` or `X-Admin-Token`) issue and
revoke keys, inject faults (answer 429 or 500 to the next N calls) and read counters.

API (all JSON):
  GET  /healthz                        no auth, never faulted
  GET  /v1/ping, GET /v1/data           need a valid key; 401 {"error": "invalid api key"}
  GET  /v1/models                       the same, shaped like an AI provider's model list
                                        (what n8n's openAiApi credential test asks for)
  POST /admin/keys                      {"idempotency_key"?, "label"?, "value"?} -> {"id", "key"}
  GET  /admin/keys                      [{"id", "label", "created_at", "revoked"}] (no values)
  DELETE /admin/keys/{id}               revoke (idempotent)
  POST /admin/faults     {"status": 429|500, "count": N, "scope": "api"|"admin"|"all"}
  DELETE /admin/faults                  clear injected faults
  GET  /admin/stats, POST /admin/stats/reset
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import secrets
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from keyturn.sandbox.background import BackgroundServer, reply_json

log = logging.getLogger(__name__)


@dataclass
class IssuedKey:
    id: str
    value: str
    label: str
    created_at: str
    revoked: bool = False

    def public(self) -> dict[str, Any]:
        return {key: item for key, item in asdict(self).items() if key != "value"}


@dataclass
class Fault:
    status: int
    remaining: int
    scope: str
    retry_after: int


@dataclass
class ProviderState:
    """Everything the provider knows; every access holds `lock`."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    keys: dict[str, IssuedKey] = field(default_factory=dict)
    by_idempotency: dict[str, str] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    accepted: int = 0
    refused: int = 0
    refused_by: dict[str, int] = field(default_factory=dict)
    faulted: int = 0
    issued: int = 0

    def issue(
        self, label: str, value: str | None, idempotency_key: str | None
    ) -> tuple[IssuedKey, bool]:
        with self.lock:
            if idempotency_key and idempotency_key in self.by_idempotency:
                return self.keys[self.by_idempotency[idempotency_key]], False
            key = IssuedKey(
                id=f"key_{secrets.token_hex(6)}",
                value=value or f"demo_{secrets.token_urlsafe(24)}",
                label=label,
                created_at=datetime.now(UTC).isoformat(),
            )
            self.keys[key.id] = key
            self.issued += 1
            if idempotency_key:
                self.by_idempotency[idempotency_key] = key.id
            return key, True

    def revoke(self, key_id: str) -> IssuedKey | None:
        with self.lock:
            key = self.keys.get(key_id)
            if key is not None:
                key.revoked = True
            return key

    def check(self, presented: str | None, caller: str = "") -> bool:
        """Whether `presented` is a valid key; refusals are counted per caller (the first
        word of its User-Agent), so a test can tell who sent a bad key."""
        with self.lock:
            valid = presented is not None and any(
                not key.revoked and hmac.compare_digest(key.value.encode(), presented.encode())
                for key in self.keys.values()
            )
            if valid:
                self.accepted += 1
            else:
                self.refused += 1
                agent = caller.split("/")[0].split(" ")[0] or "unknown"
                self.refused_by[agent] = self.refused_by.get(agent, 0) + 1
            return valid

    def take_fault(self, scope: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.remaining > 0 and fault.scope in (scope, "all"):
                    fault.remaining -= 1
                    self.faulted += 1
                    return fault
            self.faults = [fault for fault in self.faults if fault.remaining > 0]
            return None

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "accepted": self.accepted,
                "refused": self.refused,
                "refused_by": dict(self.refused_by),
                "faulted": self.faulted,
                "issued": self.issued,
                "active_keys": sum(not key.revoked for key in self.keys.values()),
            }

    def reset_counters(self) -> None:
        with self.lock:
            self.accepted = self.refused = self.faulted = 0
            self.refused_by = {}


class _Handler(BaseHTTPRequestHandler):
    server: _ProviderServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Method, path and status only: a query string may carry a key (`?api_key=`)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("demo provider: %s %s %s", self.command, urlsplit(self.path).path, code)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        body = self._read_body()
        if path == "/healthz":
            return self._reply(200, {"ok": True})
        is_admin = path.startswith("/admin")
        if not path.startswith(("/admin/faults", "/admin/stats")):
            fault = self.server.state.take_fault("admin" if is_admin else "api")
            if fault is not None:
                headers = {"Retry-After": str(fault.retry_after)} if fault.status == 429 else {}
                return self._reply(
                    fault.status, {"error": f"injected fault {fault.status}"}, headers
                )
        if is_admin:
            return self._admin(method, path, body)
        if method == "GET" and path in ("/v1/ping", "/v1/data", "/v1/models"):
            caller = self.headers.get("User-Agent") or ""
            if not self.server.state.check(self._presented_key(url.query), caller):
                return self._reply(401, {"error": "invalid api key"})
            return self._reply(200, {"ok": True, "data": [{"id": 1, "value": "demo"}]})
        return self._reply(404, {"error": "not found"})

    def _admin(self, method: str, path: str, body: dict[str, Any]) -> None:
        token = self.headers.get("X-Admin-Token") or _bearer(self.headers.get("Authorization"))
        if not token or not hmac.compare_digest(token, self.server.admin_token):
            return self._reply(401, {"error": "invalid admin token"})
        state = self.server.state
        if method == "POST" and path == "/admin/keys":
            key, created = state.issue(
                str(body.get("label", "")), body.get("value"), body.get("idempotency_key")
            )
            return self._reply(201 if created else 200, {**key.public(), "key": key.value})
        if method == "GET" and path == "/admin/keys":
            with state.lock:
                return self._reply(200, {"keys": [key.public() for key in state.keys.values()]})
        if method == "DELETE" and path.startswith("/admin/keys/"):
            revoked = state.revoke(path.removeprefix("/admin/keys/"))
            if revoked is None:
                return self._reply(404, {"error": "no such key"})
            return self._reply(200, revoked.public())
        if method == "POST" and path == "/admin/faults":
            return self._add_fault(body)
        if method == "DELETE" and path == "/admin/faults":
            with state.lock:
                state.faults.clear()
            return self._reply(200, {"faults": 0})
        if method == "GET" and path == "/admin/stats":
            return self._reply(200, state.stats())
        if method == "POST" and path == "/admin/stats/reset":
            state.reset_counters()
            return self._reply(200, state.stats())
        return self._reply(404, {"error": "not found"})

    def _add_fault(self, body: dict[str, Any]) -> None:
        try:
            fault = Fault(
                status=int(body.get("status", 500)),
                remaining=int(body.get("count", 1)),
                scope=str(body.get("scope", "all")),
                retry_after=int(body.get("retry_after", 1)),
            )
        except (TypeError, ValueError):
            return self._reply(400, {"error": "status, count and retry_after must be integers"})
        if fault.scope not in ("api", "admin", "all") or fault.status < 400:
            return self._reply(400, {"error": "scope must be api, admin or all; status >= 400"})
        with self.server.state.lock:
            self.server.state.faults.append(fault)
        return self._reply(200, asdict(fault))

    def _presented_key(self, query: str) -> str | None:
        header = self.headers.get("X-API-Key")
        if header:
            return header
        authorization = self.headers.get("Authorization") or ""
        if authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode()
            except (ValueError, UnicodeDecodeError):
                return None
            return decoded.partition(":")[2]
        bearer = _bearer(authorization)
        if bearer:
            return bearer
        values = parse_qs(query).get("api_key")
        return values[0] if values else None

    def _read_body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0:
            return {}
        raw = self.rfile.read(length)
        try:
            parsed = json.loads(raw)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}

    def _reply(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        reply_json(self, status, payload, headers)


def _bearer(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return None


class _ProviderServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], admin_token: str) -> None:
        super().__init__(address, _Handler)
        self.state = ProviderState()
        self.admin_token = admin_token


class DemoProvider(BackgroundServer):
    """Runs the demo provider in a background thread on 127.0.0.1."""

    _server: _ProviderServer

    def __init__(self, port: int = 0, admin_token: str | None = None) -> None:
        self.admin_token = admin_token or secrets.token_urlsafe(24)
        super().__init__(_ProviderServer(("127.0.0.1", port), self.admin_token))

    @property
    def state(self) -> ProviderState:
        return self._server.state

    def serve_forever(self) -> None:
        self._server.serve_forever()


def http_provider_settings(url: str, admin_token_file: str, probe_auth: str) -> dict[str, Any]:
    """The keyturn.toml section that makes the demo provider a keyturn provider."""
    return {
        "type": "http",
        "admin_token_file": admin_token_file,
        "admin_header": "X-Admin-Token",
        "admin_scheme": "",
        "issue": {
            "url": f"{url}/admin/keys",
            "json": {"label": "n8n {credential_name}", "idempotency_key": "{idempotency_token}"},
            "secret_path": "key",
            "key_id_path": "id",
        },
        "revoke": {"method": "DELETE", "url": f"{url}/admin/keys/{{key_id}}"},
        "probe": {"url": f"{url}/v1/ping", "auth": probe_auth},
    }
