"""The dashboard's sign-in: the token as a bearer header, or a session cookie that proves it.

A session needs no server state: the cookie holds a random id, its issue time and an
HMAC-SHA256 of both keyed by the token, so any replica can check it and a new token ends every
session. The rotate-now forms carry a CSRF token, another HMAC of the same id under a different
label: the page shows the CSRF token while the cookie is HttpOnly, so neither may give the
other away.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

SESSION_COOKIE = "keyturn_session"
SESSION_SECONDS = 12 * 3600  # one on-call shift
_CLOCK_SKEW = 60  # seconds a cookie issued by another replica may seem to come from the future
_SESSION_LABEL = b"keyturn-session\x00"
_CSRF_LABEL = b"keyturn-csrf\x00"
MAX_TOKEN_LENGTH = 4096
_ISSUED = re.compile(r"[0-9]{1,12}")


@dataclass(frozen=True)
class Session:
    session_id: str
    issued: int


class Signer:
    """Checks the token and signs what proves it (session cookies, CSRF tokens)."""

    def __init__(self, token: str, clock: Callable[[], float] = time.time) -> None:
        self._key = token.encode()
        self._clock = clock

    def token_ok(self, given: str | None) -> bool:
        if not given or len(given) > MAX_TOKEN_LENGTH:
            return False
        return _same(given, self._key)

    def bearer_ok(self, authorization: str | None) -> bool:
        """Whether an Authorization header is `Bearer <the token>`."""
        scheme, _, value = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and self.token_ok(value.strip())

    def new_cookie(self) -> str:
        payload = f"{secrets.token_urlsafe(24)}.{int(self._clock())}"
        return f"{payload}.{self._mac(_SESSION_LABEL, payload)}"

    def session(self, cookie: str | None) -> Session | None:
        """The session a cookie proves, or None (absent, forged, expired, or an old token's)."""
        parts = (cookie or "").split(".")
        if len(parts) != 3 or not _ISSUED.fullmatch(parts[1]):
            return None
        session_id, issued, mac = parts
        if not _same(mac, self._mac(_SESSION_LABEL, f"{session_id}.{issued}")):
            return None
        age = self._clock() - int(issued)
        if not -_CLOCK_SKEW <= age <= SESSION_SECONDS:
            return None
        return Session(session_id, int(issued))

    def csrf(self, session: Session) -> str:
        return self._mac(_CSRF_LABEL, session.session_id)

    def csrf_ok(self, session: Session, given: object) -> bool:
        return isinstance(given, str) and _same(given, self.csrf(session))

    def _mac(self, label: bytes, message: str) -> str:
        return hmac.new(self._key, label + message.encode(), hashlib.sha256).hexdigest()


def _same(given: str, expected: str | bytes) -> bool:
    """Constant-time equality; `given` comes from a client and may hold any character."""
    wanted = expected.encode() if isinstance(expected, str) else expected
    return hmac.compare_digest(given.encode(errors="replace"), wanted)


@dataclass
class _Failures:
    count: int
    last: float


class LoginLimiter:
    """Failed sign-ins per client address, in this process.

    After `free` failures a client must wait before its next attempt: `base` seconds, doubled
    with each further failure up to `cap`. Attempts made while waiting are refused unchecked, so
    parallel guesses gain nothing. A client is forgotten `forget_after` seconds after its last
    failure, or on success; at most `max_clients` are remembered (the oldest go first).
    """

    def __init__(
        self,
        *,
        free: int = 5,
        base: float = 1.0,
        cap: float = 300.0,
        forget_after: float = 3600.0,
        max_clients: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._free, self._base, self._cap = free, base, cap
        self._forget_after, self._max_clients = forget_after, max_clients
        self._clock = clock
        self._clients: OrderedDict[str, _Failures] = OrderedDict()

    def wait(self, client: str) -> float:
        """Seconds before `client` may try again (0: now)."""
        self._forget_old()
        failures = self._clients.get(client)
        if failures is None or failures.count < self._free:
            return 0.0
        delay = min(self._cap, self._base * 2.0 ** (failures.count - self._free))
        return max(0.0, failures.last + delay - self._clock())

    def failed(self, client: str) -> None:
        failures = self._clients.pop(client, None) or _Failures(0, 0.0)
        self._clients[client] = _Failures(failures.count + 1, self._clock())
        while len(self._clients) > self._max_clients:
            self._clients.popitem(last=False)

    def succeeded(self, client: str) -> None:
        self._clients.pop(client, None)

    def _forget_old(self) -> None:
        horizon = self._clock() - self._forget_after
        while self._clients:
            oldest = next(iter(self._clients.values()))
            if oldest.last > horizon:
                return
            self._clients.popitem(last=False)
