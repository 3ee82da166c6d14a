"""`keyturn serve`'s scheduler against a real n8n and the demo provider, with live webhook
traffic and an injected clock (serve/scheduler.py)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from keyturn.core.config import FileConfig, Settings, load_settings
from keyturn.journal import Journal, open_journal
from keyturn.journal.serve_state import load_states
from keyturn.n8n.client import N8nClient
from keyturn.notify import Notifier
from keyturn.sandbox.n8n_server import LocalN8n
from keyturn.serve import view as v
from keyturn.serve.scheduler import Scheduler
from keyturn.serve.settings import serve_settings
from tests.conftest import N8nHandle, Partner
from tests.helpers import wait_until
from tests.integration.test_notifications import Receiver
from tests.integration.test_rotate_live import rotate_args


@dataclass
class Alerts:
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    channel: Notifier | None = None  # a real one, besides the record

    def __call__(self, kind: str, event: dict[str, Any]) -> None:
        self.sent.append((kind, event))
        if self.channel is not None:
            self.channel.alert(kind, event)

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.sent]


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Harness:
    partner: Partner
    scheduler: Scheduler
    alerts: Alerts
    clock: Clock
    journal: Journal

    def row(self) -> v.CredentialRow:
        (row,) = [
            r
            for r in self.scheduler.view.credentials
            if r.credential_id == self.partner.credential_id
        ]
        return row

    def failures(self) -> int:
        states = load_states(self.journal.engine, self.scheduler.identity)
        return states[self.partner.credential_id].failures


@pytest.fixture
def harness(
    partner: Partner, run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Harness]]:
    """A scheduler for the partner credential, with the [rotation] section given; the first
    rotation done by hand, as a user does (keyturn learns the current value then)."""
    for name, value in partner.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    first = run_cli(*rotate_args(partner), env=partner.env)
    assert first.code == 0, first.stderr
    opened: list[tuple[N8nClient, Journal]] = []

    base = (tmp_path / "keyturn.toml").read_text()

    def make(section: str, provider: bool = True, webhook: str | None = None) -> Harness:
        """`webhook`: also send the alerts, and rotation outcomes, to this JSON webhook."""
        config = tmp_path / "keyturn.toml"
        config.write_text(
            base
            + (f'[notifications]\nwebhook_url = "{webhook}"\n' if webhook else "")
            + f'\n[rotation."{partner.credential_name}"]\n'
            + ('provider = "partner"\n' if provider else "")
            + f'verify_webhooks = ["{partner.webhook_path}"]\ngrace = "0s"\n'
            + section
        )
        settings = load_settings(None, config)
        client, journal = N8nClient(settings.connection), open_journal()
        opened.append((client, journal))
        alerts, clock = Alerts(), Clock(datetime.now(UTC))
        if webhook:
            alerts.channel = Notifier.from_config(settings.file.notifications)
        scheduler = Scheduler(
            settings, serve_settings({"interval": "1s"}), client, journal, alerts, clock=clock
        )
        return Harness(partner, scheduler, alerts, clock, journal)

    yield make
    for client, journal in opened:
        client.close()
        journal.close()


class Traffic:
    """Calls the partner's webhook without pause until stopped: every answer is kept."""

    def __init__(self, partner: Partner) -> None:
        self.partner = partner
        self.codes: list[int] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        url = f"{self.partner.n8n.url}/webhook/{self.partner.webhook_path}"
        with httpx.Client(timeout=30) as http:
            while not self.stop.is_set():
                self.codes.append(http.get(url).status_code)

    def __enter__(self) -> Traffic:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=60)


def test_a_credential_past_its_max_age_is_rotated_with_no_failed_run(
    harness: Callable[..., Harness],
) -> None:
    h = harness('max_age = "90d"\njitter = "0s"\n')
    keys_before = h.partner.active_keys()
    h.scheduler.tick()
    assert h.row().state == v.OK and h.partner.active_keys() == keys_before  # not due yet

    h.clock.now += timedelta(days=91)
    with Traffic(h.partner) as traffic:
        h.scheduler.tick()
    assert traffic.codes and set(traffic.codes) == {200}, traffic.codes  # zero failed runs
    assert len(h.partner.active_keys()) == 1 and h.partner.active_keys() != keys_before
    row = h.row()
    assert row.last_rotation_status == "completed"
    assert row.age_seconds is not None and row.age_seconds > 90 * 86400  # the injected clock
    assert h.alerts.sent == []  # a success is not an alert
    assert h.scheduler.leader and h.scheduler.view.last_evaluation is not None


@pytest.fixture
def team_webhook() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


def test_a_failing_provider_is_retried_then_needs_attention_with_one_alert(
    harness: Callable[..., Harness], team_webhook: Receiver
) -> None:
    receiver = team_webhook
    h = harness(
        'max_age = "1d"\njitter = "0s"\nmax_attempts = 3\nretry_backoff = "10m"\n',
        webhook=f"{receiver.url}/hooks/keyturn",
    )
    keys_before = h.partner.active_keys()
    h.partner.admin.add_fault(status=503, count=10_000, scope="admin")  # issuing keys fails
    h.clock.now += timedelta(days=2)

    h.scheduler.tick()
    assert h.failures() == 1 and h.row().state == v.RETRYING
    assert h.row().next_attempt == h.clock.now + timedelta(minutes=10)
    h.scheduler.tick()  # before the back-off: not tried again
    assert h.failures() == 1
    h.clock.now += timedelta(minutes=10)
    h.scheduler.tick()
    assert h.failures() == 2
    h.clock.now += timedelta(minutes=20)
    h.scheduler.tick()
    assert h.failures() == 3 and h.row().state == v.NEEDS_ATTENTION
    for _ in range(3):  # never retried in a loop, never alerted again
        h.clock.now += timedelta(hours=7)
        h.scheduler.tick()
    assert h.failures() == 3
    assert h.alerts.kinds() == ["needs_attention"]
    ((_, alert),) = h.alerts.sent
    assert alert["credential_id"] == h.partner.credential_id and alert["attempts"] == 3
    assert h.partner.call_webhook() == 200  # n8n kept the old key each time

    # Fixed: the provider answers again; the dashboard's "rotate now" clears the mark.
    h.partner.admin.clear_faults()
    assert h.partner.active_keys() == keys_before
    h.clock.now = datetime.now(UTC)  # back to the real time the rotation is recorded at
    h.scheduler.requests.put(h.partner.credential_id)
    h.scheduler.tick()
    assert h.row().state == v.OK and h.failures() == 0
    assert h.alerts.kinds() == ["needs_attention", "recovered"]
    # What the team's webhook received: one alert for the three failures, then the success.
    received = [(body.get("alert"), body.get("outcome")) for _, _, body in receiver.posts]
    assert received == [("needs_attention", None), (None, "success"), ("recovered", None)]
    assert all(h.partner.key not in json.dumps(body) for _, _, body in receiver.posts)


def test_a_window_keeps_rotations_out_of_forbidden_hours(
    harness: Callable[..., Harness],
) -> None:
    h = harness('max_age = "1d"\nschedule = "0 3 * * *"\nwindow = "1h"\njitter = "0s"\n')
    day = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    keys_before = h.partner.active_keys()
    h.clock.now = day.replace(hour=12)
    h.scheduler.tick()
    assert h.partner.active_keys() == keys_before
    row = h.row()
    assert row.state == v.DUE and row.next_rotation == (day + timedelta(days=1)).replace(hour=3)
    h.clock.now = day.replace(hour=3, minute=59)
    h.scheduler.tick()
    assert h.partner.active_keys() != keys_before
    assert h.row().last_rotation_status == "completed"


def test_due_but_blocked_is_alerted_once_with_its_reason(
    harness: Callable[..., Harness],
) -> None:
    # No provider for this credential: nothing can issue its new key unattended.
    h = harness('max_age = "1d"\njitter = "0s"\n', provider=False)
    h.clock.now += timedelta(days=2)
    for _ in range(3):
        h.scheduler.tick()
        h.clock.now += timedelta(minutes=5)
    assert h.alerts.kinds() == ["due_blocked"]
    assert h.row().state == v.BLOCKED and "new" in h.row().detail.lower()


def test_a_key_revoked_behind_keyturns_back_is_seen_before_a_workflow_fails(
    harness: Callable[..., Harness],
) -> None:
    h = harness('max_age = "90d"\n')
    h.scheduler.tick()
    row = h.row()
    assert row.health == v.HEALTHY and "keyturn's probe" in row.health_detail, row
    (key_id,) = h.partner.active_keys()
    h.partner.revoke_key(key_id)  # a leak response by someone else, say
    for _ in range(3):
        h.clock.now += timedelta(minutes=16)  # past serve's health interval (15m)
        h.scheduler.tick()
    row = h.row()
    assert row.health == v.FAILING and "keyturn's probe" in row.health_detail, row
    assert h.alerts.kinds() == ["unhealthy"]  # once, however many checks fail
    ((_, alert),) = h.alerts.sent
    assert h.partner.key not in str(alert)


def test_a_rotation_by_hand_clears_needs_attention_for_good(
    harness: Callable[..., Harness], run_cli: Any
) -> None:
    h = harness('max_age = "1s"\njitter = "0s"\nmax_attempts = 1\n')
    h.partner.admin.add_fault(status=503, count=10_000, scope="admin")
    started = datetime.now(UTC)  # the hand rotation is a moment older: due after a second
    wait_until(lambda: datetime.now(UTC) - started > timedelta(seconds=1.5), 10)
    h.clock.now = datetime.now(UTC)
    h.scheduler.tick()
    assert h.row().state == v.NEEDS_ATTENTION

    h.partner.admin.clear_faults()
    by_hand = run_cli(
        "rotate", h.partner.credential_id, "--provider", "partner",
        "--verify-webhook", h.partner.webhook_path, "--grace", "0s", env=h.partner.env,
    )  # fmt: skip
    assert by_hand.code == 0, by_hand.stderr
    h.clock.now = datetime.now(UTC)
    h.scheduler.tick()
    states = load_states(h.journal.engine, h.scheduler.identity)
    assert not states[h.partner.credential_id].needs_attention  # in the journal, not only here
    assert h.row().state != v.NEEDS_ATTENTION
    assert h.alerts.kinds() == ["needs_attention", "recovered"]


def test_health_from_n8ns_own_credential_test(
    n8n: N8nHandle, n8n_server: LocalN8n, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A type with a test in n8n (here n8n's own API): n8n runs it, keyturn reads the verdict;
    a refused key is failing, alerted once however often it is checked."""
    monkeypatch.setenv("KEYTURN_STATE_DIR", str(tmp_path / "state"))
    good_key = n8n_server.create_api_key(["workflow:list"])
    base = {"baseUrl": f"{n8n.url}/api/v1"}
    good = n8n.client.create_credential("n8n API (good)", "n8nApi", {"apiKey": good_key, **base})
    bad = n8n.client.create_credential("n8n API (bad)", "n8nApi", {"apiKey": "x" * 40, **base})
    settings = Settings(n8n.client.connection, FileConfig())
    journal = open_journal()
    alerts, clock = Alerts(), Clock(datetime.now(UTC))
    try:
        scheduler = Scheduler(
            settings, serve_settings({"interval": "1m"}), n8n.client, journal, alerts, clock=clock
        )
        for _ in range(3):
            scheduler.tick()
            clock.now += timedelta(minutes=16)
        rows = {row.credential_id: row for row in scheduler.view.credentials}
        assert rows[good.id].health == v.HEALTHY
        assert "n8n credential test" in rows[good.id].health_detail
        assert rows[bad.id].health == v.FAILING
        assert "n8n credential test" in rows[bad.id].health_detail
        assert alerts.kinds() == ["unhealthy"]
        assert alerts.sent[0][1]["credential_id"] == bad.id
    finally:
        journal.close()
