"""A bounded load generator for loopback webhooks: live traffic during a rotation.

Sends GETs at a fixed rate from a small thread pool, for at most `max_seconds` and
`max_requests`, and counts every answer. A dropped connection or timeout counts as a failed
run (n8n sometimes drops a webhook connection while executions fail).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx


@dataclass
class LoadStats:
    """`sent` counts answered calls; a call still unanswered when the generator stops counts
    as failed (an overloaded n8n that answers late, or never, is not zero downtime)."""

    sent: int = 0
    ok: int = 0
    failed: int = 0
    submitted: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    failure_times: list[float] = field(default_factory=list)


class LoadGenerator:
    def __init__(
        self,
        url: str,
        rate_per_second: float = 20.0,
        max_seconds: float = 60.0,
        max_requests: int = 5000,
        timeout: float = 30.0,
    ) -> None:
        self.url = url
        self.interval = 1.0 / rate_per_second
        self.max_seconds = max_seconds
        self.max_requests = max_requests
        self.timeout = timeout
        self.stats = LoadStats()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = 0.0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def wait_for(self, answered: int, timeout: float = 30.0) -> None:
        """Block until `answered` requests got an answer (or `timeout` passed)."""
        deadline = time.monotonic() + timeout
        while self.stats.sent < answered and time.monotonic() < deadline:
            self._stop.wait(0.05)

    def start(self) -> LoadGenerator:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def stop(self) -> LoadStats:
        """Stop sending, wait for the calls in flight (each bounded by `timeout`), and count
        any still unanswered as failed."""
        self._stop.set()
        self._thread.join(timeout=self.timeout + 10)
        with self._lock:
            self._closed = True  # a late answer no longer changes the counts
            unanswered = self.stats.submitted - self.stats.sent
            if unanswered > 0:
                self.stats.sent += unanswered
                self.stats.failed += unanswered
                self.stats.outcomes["unanswered"] += unanswered
        return self.stats

    def __enter__(self) -> LoadGenerator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        deadline = self._started + self.max_seconds
        with httpx.Client(timeout=self.timeout) as http, ThreadPoolExecutor(8) as pool:
            next_at = time.monotonic()
            for _ in range(self.max_requests):
                if self._stop.is_set() or time.monotonic() >= deadline:
                    break
                with self._lock:
                    self.stats.submitted += 1
                pool.submit(self._one, http)
                next_at += self.interval
                self._stop.wait(max(0.0, next_at - time.monotonic()))

    def _one(self, http: httpx.Client) -> None:
        try:
            outcome = str(http.get(self.url).status_code)
        except httpx.HTTPError as exc:
            outcome = type(exc).__name__
        with self._lock:
            if self._closed:
                return
            self.stats.sent += 1
            self.stats.outcomes[outcome] += 1
            if outcome == "200":
                self.stats.ok += 1
            else:
                self.stats.failed += 1
                self.stats.failure_times.append(time.monotonic() - self._started)
