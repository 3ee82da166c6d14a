"""The one way keyturn talks HTTP: a client factory and the one retry policy.

Every outbound client comes from `new_client` (keyturn's User-Agent). Every call that may be
retried (n8n's API, providers, probes, notifications) goes through `send_with_retries`; the
few that must see the first answer (a webhook run as a proof, a readiness poll with its own
deadline) use the client alone. The policy:
exponential backoff with jitter on 429, 500, 502, 503, 504 and connection errors, honouring
`Retry-After` (seconds or an HTTP date, capped), for a bounded number of attempts. A request
that is not idempotent is retried only when the server surely did not act on it: a 429, or a
connection that was never made; so a retry never creates twice.

Transport: `verify` is True (certifi's public CAs, or `SSL_CERT_FILE` / `SSL_CERT_DIR` when
set), False, or the path of a CA bundle (a PEM file, or a folder of hashed certificates) that
replaces the default CAs. Proxies come from the environment (`HTTPS_PROXY`, `HTTP_PROXY`,
`ALL_PROXY`, `NO_PROXY`: httpx's `trust_env`, kept on). A client that carries a secret
(`carries`) logs one warning per destination when that secret would travel over plain http://
to anything but loopback.
"""

from __future__ import annotations

import email.utils
import ipaddress
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from tenacity import RetryCallState, Retrying, retry_if_result, stop_after_attempt

from keyturn import __version__
from keyturn.core.errors import ConfigError

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_SECONDS = 60.0
USER_AGENT = f"keyturn/{__version__}"

# What one attempt ends with: an answer, or the transport error that kept it from coming.
Outcome = httpx.Response | httpx.TransportError


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to try, and how long to wait between tries."""

    attempts: int = 3
    initial: float = 0.5
    maximum: float = 8.0
    retry_after_cap: float = MAX_RETRY_AFTER_SECONDS  # the longest Retry-After keyturn waits

    def wait_seconds(self, attempt: int, outcome: Outcome | None) -> float:
        """Retry-After when the server gave one, else exponential backoff with jitter."""
        if isinstance(outcome, httpx.Response):
            after = retry_after_seconds(outcome)
            if after is not None:
                return min(after, self.retry_after_cap)
        backoff = min(self.maximum, self.initial * 2 ** (attempt - 1))
        return float(backoff) + random.uniform(0, self.initial)  # noqa: S311 (jitter, not a secret)


def new_client(
    *,
    base_url: str = "",
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
    verify: bool | str = True,
    transport: httpx.BaseTransport | None = None,
    carries: str | None = None,
    ca_setting: str = "the CA bundle setting",
) -> httpx.Client:
    """An httpx client with keyturn's User-Agent; `transport` lets tests swap the network.

    `verify`: True, False or a CA bundle's path (`ca_setting` names where it was set, for the
    error when the file cannot be used). `carries` names what the client's requests carry
    (the n8n API key, an admin token) for the plain-http warning.
    """
    hooks = {"request": [_plain_http_warning(carries)]} if carries else {}
    return httpx.Client(
        base_url=base_url,
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        timeout=timeout,
        verify=tls_context(verify, ca_setting),
        transport=transport,
        trust_env=True,  # proxies (HTTPS_PROXY, NO_PROXY...) and SSL_CERT_FILE from the env
        event_hooks=hooks,
    )


def tls_context(verify: bool | str, ca_setting: str) -> ssl.SSLContext | bool:
    """What httpx's `verify` gets: True and False as they are, a CA bundle as an SSL context."""
    if isinstance(verify, bool):
        return verify
    try:
        if Path(verify).is_dir():
            return ssl.create_default_context(capath=verify)
        return ssl.create_default_context(cafile=verify)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or "unreadable"
        raise ConfigError(
            f"The CA bundle {verify} ({ca_setting}) cannot be used: {reason}.",
            f"Point {ca_setting} at a PEM file holding the CA certificates to trust.",
        ) from None


def tls_failure(exc: BaseException) -> bool:
    """Whether a transport error is a failed TLS verification (an unknown CA, a wrong name)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(cause):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost: the only hosts a secret may reach over plain http."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


_warned: set[tuple[str, str]] = set()
_warned_lock = threading.Lock()


def _plain_http_warning(what: str) -> Callable[[httpx.Request], None]:
    def warn(request: httpx.Request) -> None:
        url = request.url
        if url.scheme != "http" or is_loopback(url.host):
            return
        origin = f"http://{url.netloc.decode('ascii', 'replace')}"
        with _warned_lock:
            if (what, origin) in _warned:
                return
            _warned.add((what, origin))
        log.warning(
            "%s is sent over plain http to %s: anyone on the network path can read it; "
            "use https://",
            what,
            origin,
        )

    return warn


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The server's Retry-After (seconds or an HTTP date), capped; None when absent or bad."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(0.0, min(seconds, MAX_RETRY_AFTER_SECONDS))


def should_retry(outcome: Outcome, *, idempotent: bool) -> bool:
    """Whether another attempt is safe and may help."""
    if isinstance(outcome, httpx.Response):
        if outcome.status_code not in RETRYABLE_STATUSES:
            return False
        return idempotent or outcome.status_code == 429
    if isinstance(outcome, httpx.ConnectError | httpx.ConnectTimeout):
        return True  # the request never reached the server
    return idempotent


def send_with_retries(
    send: Callable[[], httpx.Response],
    policy: RetryPolicy,
    *,
    idempotent: bool,
    what: str,
) -> Outcome:
    """Call `send` until it gives a final answer or the attempts run out; return the last outcome.

    A transport error is returned, not raised, so each caller words its own message.
    """

    def attempt() -> Outcome:
        try:
            return send()
        except httpx.TransportError as exc:
            return exc

    def log_retry(state: RetryCallState) -> None:
        outcome = state.outcome.result() if state.outcome else None
        seen = (
            outcome.status_code if isinstance(outcome, httpx.Response) else type(outcome).__name__
        )
        wait = state.next_action.sleep if state.next_action else 0
        log.info("%s failed (%s); retry %d in %.1fs", what, seen, state.attempt_number, wait)

    retrying = Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=lambda state: policy.wait_seconds(
            state.attempt_number, state.outcome.result() if state.outcome else None
        ),
        retry=retry_if_result(lambda outcome: should_retry(outcome, idempotent=idempotent)),
        before_sleep=log_retry,
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
    )
    outcome: Outcome = retrying(attempt)
    return outcome
