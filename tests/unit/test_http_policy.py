"""The one retry policy every outbound call uses (core/http.py): edge cases a real server does not
produce on demand, through httpx's mock transport."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from keyturn.core.http import (
    MAX_RETRY_AFTER_SECONDS,
    RetryPolicy,
    new_client,
    retry_after_seconds,
    send_with_retries,
)

FAST = RetryPolicy(attempts=3, initial=0.001, maximum=0.01)


def answers(*outcomes: int | type[httpx.TransportError]) -> tuple[httpx.MockTransport, list[int]]:
    """A transport that answers each request with the next status (or raises the next error)."""
    seen: list[int] = []
    queue = list(outcomes)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(1)
        outcome = queue.pop(0)
        if isinstance(outcome, int):
            return httpx.Response(outcome)
        raise outcome("boom", request=request)

    return httpx.MockTransport(handle), seen


def send(
    transport: httpx.MockTransport, method: str, idempotent: bool
) -> httpx.Response | httpx.TransportError:
    with new_client(transport=transport) as http:
        return send_with_retries(
            lambda: http.request(method, "http://127.0.0.1:9/x"),
            FAST,
            idempotent=idempotent,
            what="test",
        )


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried_then_answered(status: int) -> None:
    transport, seen = answers(status, status, 200)
    outcome = send(transport, "GET", idempotent=True)
    assert isinstance(outcome, httpx.Response) and outcome.status_code == 200
    assert len(seen) == 3


def test_attempts_are_bounded_and_the_last_answer_is_returned() -> None:
    transport, seen = answers(503, 503, 503, 200)
    outcome = send(transport, "GET", idempotent=True)
    assert isinstance(outcome, httpx.Response) and outcome.status_code == 503
    assert len(seen) == 3


def test_a_post_is_not_retried_when_the_server_may_have_acted() -> None:
    transport, seen = answers(500, 200)
    outcome = send(transport, "POST", idempotent=False)
    assert isinstance(outcome, httpx.Response) and outcome.status_code == 500
    assert len(seen) == 1
    transport, seen = answers(httpx.ReadTimeout, 200)
    assert isinstance(send(transport, "POST", idempotent=False), httpx.ReadTimeout)
    assert len(seen) == 1


def test_a_post_is_retried_when_the_server_surely_did_not_act() -> None:
    transport, seen = answers(429, httpx.ConnectError, 201)
    outcome = send(transport, "POST", idempotent=False)
    assert isinstance(outcome, httpx.Response) and outcome.status_code == 201
    assert len(seen) == 3


def test_client_errors_are_final() -> None:
    transport, seen = answers(401, 200)
    outcome = send(transport, "GET", idempotent=True)
    assert isinstance(outcome, httpx.Response) and outcome.status_code == 401
    assert len(seen) == 1


def test_retry_after_in_seconds_in_a_date_capped_or_garbage() -> None:
    def after(value: str) -> float | None:
        return retry_after_seconds(httpx.Response(429, headers={"Retry-After": value}))

    assert after("2") == 2.0
    assert after("100000") == MAX_RETRY_AFTER_SECONDS
    assert after("-5") == 0.0
    assert after("soon") is None
    in_ten = email.utils.formatdate(time.time() + 10, usegmt=True)
    seconds = after(in_ten)
    assert seconds is not None and 8 <= seconds <= 10
    assert retry_after_seconds(httpx.Response(429)) is None


def test_retry_after_is_honoured_over_backoff() -> None:
    response = httpx.Response(503, headers={"Retry-After": "3"})
    assert RetryPolicy(initial=0.5).wait_seconds(1, response) == 3.0
    backoff = RetryPolicy(initial=0.5, maximum=8).wait_seconds(10, httpx.Response(503))
    assert 8 <= backoff <= 8.5  # capped, plus jitter
