"""Where a secret goes in a request (`AuthPlacement`), and probing a secret with one GET."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Literal

import httpx

from keyturn.core.errors import ConfigError
from keyturn.core.http import RetryPolicy, new_client, send_with_retries, tls_failure
from keyturn.core.redact import redact

AuthKind = Literal["header", "query", "bearer", "basic"]


@dataclass(frozen=True)
class ProbeResult:
    """Whether a secret worked, and what was seen (safe to show: no secret in it)."""

    ok: bool
    detail: str
    refused: bool = False  # the service said plainly that the credential is wrong


@dataclass(frozen=True)
class AuthPlacement:
    """Where a secret goes in a request: `header:NAME`, `query:NAME`, `bearer`, `basic:USER`."""

    kind: AuthKind
    name: str = ""

    def describe(self) -> str:
        return f"{self.kind}:{self.name}" if self.name else self.kind

    def apply(self, secret: str) -> tuple[dict[str, str], dict[str, str]]:
        """(headers, query parameters) carrying `secret`."""
        if self.kind == "header":
            return {self.name: secret}, {}
        if self.kind == "query":
            return {}, {self.name: secret}
        if self.kind == "bearer":
            return {"Authorization": f"Bearer {secret}"}, {}
        token = base64.b64encode(f"{self.name}:{secret}".encode()).decode()
        return {"Authorization": f"Basic {token}"}, {}


def parse_auth(text: str, option: str = "--probe-auth") -> AuthPlacement:
    kind, _, name = text.partition(":")
    if kind in ("header", "query") and name:
        return AuthPlacement(kind, name)  # type: ignore[arg-type]
    if kind == "basic" and name:
        return AuthPlacement("basic", name)
    if kind == "bearer" and not name:
        return AuthPlacement("bearer")
    raise ConfigError(
        f"{option} {text!r} is not an auth placement.",
        "Use header:NAME, query:NAME, bearer or basic:USER.",
    )


def probe_url(
    url: str,
    secret: str,
    placement: AuthPlacement,
    *,
    timeout: float = 10.0,
    attempts: int = 3,
    transport: httpx.BaseTransport | None = None,
    verify: bool | str = True,
    ca_setting: str = "the CA bundle setting",
) -> ProbeResult:
    """GET `url` with the secret applied; retries 429/5xx with backoff; 2xx means it works.

    `verify` is True, False or a CA bundle's path; `ca_setting` names where a user sets it.
    """
    headers, params = placement.apply(secret)

    with new_client(
        timeout=timeout,
        transport=transport,
        verify=verify,
        carries="the secret being probed",
        ca_setting=ca_setting,
    ) as http:
        outcome = send_with_retries(
            lambda: http.get(url, headers=headers, params=params),
            RetryPolicy(attempts, 0.3, 5.0),
            idempotent=True,
            what="probe",  # not the URL: a user may have put a key in its query
        )
    if isinstance(outcome, httpx.TransportError):
        failure = f"{type(outcome).__name__}: {outcome}"
        if tls_failure(outcome):
            failure += f"; if its certificate comes from a private CA, set {ca_setting}"
        return ProbeResult(False, redact(f"probe of {url} failed: {failure}"))
    ok = 200 <= outcome.status_code < 300
    verdict = "accepted" if ok else "refused"
    return ProbeResult(
        ok,
        f"probe GET {url} ({placement.describe()}): {outcome.status_code} {verdict}",
        refused=outcome.status_code in (401, 403),  # the answer is about the credential
    )


# `--probe-auth auto`: the placements APIs use most, tried in this order.
COMMON_PLACEMENTS = (
    AuthPlacement("bearer"),
    AuthPlacement("header", "X-API-Key"),
    AuthPlacement("header", "Authorization"),
    AuthPlacement("query", "api_key"),
)


def detect_placement(
    url: str,
    secret: str,
    decoy: str,
    candidates: tuple[AuthPlacement, ...] = COMMON_PLACEMENTS,
    *,
    transport: httpx.BaseTransport | None = None,
    verify: bool | str = True,
) -> tuple[AuthPlacement | None, str]:
    """Find where `url` reads a key: the first placement in which `secret` is accepted,
    confirmed by a random `decoy` being refused there (an endpoint that takes any key
    proves nothing). At most one request per candidate plus one, none retried, each logged
    without the secret."""
    tried = []
    for placement in candidates:
        result = probe_url(url, secret, placement, attempts=1, transport=transport, verify=verify)
        tried.append(placement.describe())
        if not result.ok:
            continue
        control = probe_url(url, decoy, placement, attempts=1, transport=transport, verify=verify)
        if control.ok:
            return None, (
                f"probe GET {url} accepts a random key too ({placement.describe()}): it "
                "proves nothing; give a URL that checks the key"
            )
        return placement, f"{result.detail}; a random key refused there"
    return None, f"probe GET {url}: the key was accepted in no placement tried ({', '.join(tried)})"
