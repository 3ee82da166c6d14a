"""The one way keyturn talks HTTP: a client factory and the one retry policy.

Every outbound client comes from `new_client` (keyturn's User-Agent). Every call that may be
retried (n8n's API, providers, probes, notifications) goes through `send_with_retries`; the
few that must see the first answer (a webhook run as a proof, a readiness poll with its own
deadline) use the client alone. The policy:
exponential backoff with jitter on 429, 500, 502, 503, 504 and connection errors, honouring
`Retry-After` (seconds or an HTTP date, capped), for a bounded number of attempts. A request
that is not idempotent is retried only when the server surely did not act on it: a 429, or a
connection that was never made; so a retry never creates twice.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from tenacity import RetryCallState, Retrying, retry_if_result, stop_after_attempt

from keyturn import __version__

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
) -> httpx.Client:
    """An httpx client with keyturn's User-Agent; `transport` lets tests swap the network."""
    return httpx.Client(
        base_url=base_url,
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        timeout=timeout,
        verify=verify,
        transport=transport,
    )


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
