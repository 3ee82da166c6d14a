"""The scheduler's state machine on edge cases a real n8n and provider cannot produce on demand:
a rotation that cannot be finished nor rolled back, a channel that is down when an alert goes
out, a policy name two credentials share, the lease lost between two rotations. The journal is
real (SQLite); n8n's answers and the rotations are stand-ins."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from keyturn.core.config import FileConfig, N8nConnection, Settings
from keyturn.core.crypto import SecretBox
from keyturn.core.errors import ConfigError, RotationFailed, RotationPaused
from keyturn.journal import Journal, open_journal
from keyturn.journal.serve_state import load_states
from keyturn.n8n.models import Credential
from keyturn.serve import scheduler as scheduler_module
from keyturn.serve import view as v
from keyturn.serve.scheduler import Scheduler
from keyturn.serve.settings import serve_settings

URL = "http://127.0.0.1:5678"
T0 = datetime(2026, 12, 1, 12, tzinfo=UTC)


class FakeN8n:
    def __init__(self, credentials: list[Credential]) -> None:
        self.credentials = credentials

    def list_credentials(self) -> list[Credential]:
        return list(self.credentials)


@dataclass
class FakeRotations:
    """Stands in for rotation/service.Rotations: records calls, fails as told."""

    resume_error: Exception | None = None
    rotate_error: Exception | None = None
    resumed: list[str] = field(default_factory=list)
    rotated: list[str] = field(default_factory=list)

    def resume(self, rotation_id: str) -> list[Any]:
        self.resumed.append(rotation_id)
        if self.resume_error:
            raise self.resume_error
        return []

    def rotate(self, options: Any) -> Any:
        self.rotated.append(options.credential)
        if self.rotate_error:
            raise self.rotate_error
        raise AssertionError("not expected to succeed here")


@dataclass
class Channel:
    """An alert channel that is down for its first `down` alerts."""

    down: int = 0
    calls: list[str] = field(default_factory=list)

    def __call__(self, kind: str, event: dict[str, Any]) -> bool:
        self.calls.append(kind)
        return len(self.calls) > self.down


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    opened = open_journal(f"sqlite:///{tmp_path / 'journal.db'}", SecretBox(Fernet.generate_key()))
    yield opened
    opened.close()


def credential(cid: str, name: str) -> Credential:
    return Credential(id=cid, name=name, type="httpHeaderAuth", updatedAt=T0 - timedelta(days=400))


def make(
    journal: Journal,
    credentials: list[Credential],
    rotation: dict[str, Any],
    alert: Channel,
    rotations: FakeRotations,
) -> Scheduler:
    connection = N8nConnection(name="prod", url=URL, api_key=SecretStr("k"), key_source="test")
    settings = Settings(connection, FileConfig.model_validate({"rotation": rotation}))
    scheduler = Scheduler(
        settings,
        serve_settings({"interval": "1m"}),
        FakeN8n(credentials),  # type: ignore[arg-type]
        journal,
        alert,
        clock=lambda: T0,
    )
    scheduler.rotations = rotations  # type: ignore[assignment]
    scheduler.health.check = lambda *args, **kwargs: []  # type: ignore[method-assign]
    return scheduler


def state(journal: Journal, credential_id: str) -> Any:
    return load_states(journal.engine, URL)[credential_id]


def test_a_rotation_that_cannot_be_finished_is_resumed_once_then_left_to_a_person(
    journal: Journal,
) -> None:
    rotations = FakeRotations(resume_error=RotationPaused("n8n is down", "resume later"))
    alerts = Channel()
    scheduler = make(journal, [credential("c1", "Partner")], {}, alerts, rotations)
    flying = journal.start_rotation(
        instance="prod", instance_url=URL, credential_id="c1", credential_name="Partner",
        credential_type="httpHeaderAuth", field="value", strategy="in_place",
    )  # fmt: skip
    for _ in range(5):
        assert scheduler.tick()
    assert rotations.resumed == [flying.id]  # once, not at every evaluation
    assert alerts.calls == ["needs_attention"]
    saved = state(journal, "c1")
    assert saved.needs_attention and saved.failures == 1
    assert scheduler.view.credentials[0].state == v.ROTATING  # still in flight, shown so


def test_an_alert_no_channel_took_is_sent_again_then_given_up(journal: Journal) -> None:
    rotations = FakeRotations(rotate_error=RotationFailed("the provider said no", None))
    alerts = Channel(down=2)
    profile = {"Partner": {"max_age": "1d", "max_attempts": 1, "jitter": "0s"}}
    scheduler = make(journal, [credential("c1", "Partner")], profile, alerts, rotations)
    for _ in range(4):
        scheduler.tick()
    assert rotations.rotated == ["c1"]  # needs_attention after one attempt: never again
    assert alerts.calls == ["needs_attention"] * 3  # down twice, taken the third time
    assert state(journal, "c1").alerts.get("needs_attention") is not None


def test_a_channel_down_for_good_is_given_up_after_a_few_tries(journal: Journal) -> None:
    rotations = FakeRotations(rotate_error=RotationFailed("no", None))
    alerts = Channel(down=1000)
    profile = {"Partner": {"max_age": "1d", "max_attempts": 1, "jitter": "0s"}}
    scheduler = make(journal, [credential("c1", "Partner")], profile, alerts, rotations)
    for _ in range(10):
        scheduler.tick()
    assert alerts.calls == ["needs_attention"] * scheduler_module._MAX_ALERT_TRIES


def test_a_policy_name_two_credentials_share_rotates_neither(journal: Journal) -> None:
    rotations = FakeRotations()
    alerts = Channel()
    twins = [credential("c1", "Partner API"), credential("c2", "Partner API")]
    profile = {"Partner API": {"max_age": "1d", "jitter": "0s"}}
    scheduler = make(journal, twins, profile, alerts, rotations)
    for _ in range(3):
        scheduler.tick()
    assert rotations.rotated == []
    assert alerts.calls == ["due_blocked", "due_blocked"]  # one per credential, once
    assert "names 2 credentials" in state(journal, "c1").blocked
    assert {row.state for row in scheduler.view.credentials} == {v.BLOCKED}


def test_by_id_a_policy_is_unambiguous(journal: Journal) -> None:
    rotations = FakeRotations(rotate_error=RotationFailed("no", None))
    twins = [credential("c1", "Partner API"), credential("c2", "Partner API")]
    scheduler = make(journal, twins, {"c2": {"max_age": "1d", "jitter": "0s"}}, Channel(),
                     rotations)  # fmt: skip
    scheduler.tick()
    assert rotations.rotated == ["c2"]


def test_a_leader_that_lost_its_lease_rotates_nothing_more(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    rotations = FakeRotations(rotate_error=RotationFailed("no", None))
    creds = [credential("c1", "A"), credential("c2", "B")]
    profile = {"A": {"max_age": "1d", "jitter": "0s"}, "B": {"max_age": "1d", "jitter": "0s"}}
    scheduler = make(journal, creds, profile, Channel(), rotations)
    answers = iter([True, True, False, False, False])
    real_lead = scheduler_module.lead

    def lead(*args: Any) -> Any:
        result = real_lead(*args)
        return type(result)(next(answers), result.holder, result.last_evaluation_at)

    monkeypatch.setattr(scheduler_module, "lead", lead)
    scheduler.tick()  # leads at the start and before A, not before B
    assert rotations.rotated == ["c1"]


def test_clearing_a_block_is_saved(journal: Journal) -> None:
    """Once a credential is no longer due (rotated by hand), its block is lifted in the
    journal too, not only in memory."""
    rotations = FakeRotations(rotate_error=RotationFailed("no", None))
    alerts = Channel()
    scheduler = make(journal, [credential("c1", "Partner")], {}, alerts, rotations)
    saved = state_after_block(journal, scheduler)
    assert saved.blocked is None


def state_after_block(journal: Journal, scheduler: Scheduler) -> Any:
    from keyturn.journal.serve_state import new_state, save_state

    blocked = new_state(URL, "c1", "Partner")
    blocked.blocked = "no provider"
    save_state(journal.engine, blocked)
    scheduler.tick()  # no policy: not due, so not blocked
    return state(journal, "c1")


def test_a_credential_rotated_by_hand_is_reminded_once_when_old(journal: Journal) -> None:
    alerts = Channel()
    profile = {"Legacy CRM": {"remind_after": "80d"}}
    scheduler = make(journal, [credential("c1", "Legacy CRM")], profile, alerts, FakeRotations())
    for _ in range(3):
        scheduler.tick()
    assert alerts.calls == ["reminder"]
    assert scheduler.view.credentials[0].state == v.NO_POLICY


def test_dry_run_says_what_would_happen_and_changes_nothing(journal: Journal) -> None:
    class Planning(FakeRotations):
        def plan(self, options: Any) -> Any:
            raise ConfigError("no provider for it", None)

    alerts = Channel()
    creds = [credential("c1", "Due"), credential("c2", "Calm")]
    profile = {"Due": {"max_age": "1d", "jitter": "0s"}}
    scheduler = make(journal, creds, profile, alerts, Planning())
    plans = {plan["credential_name"]: plan for plan in scheduler.preview()}
    assert plans["Due"]["action"] == "blocked" and "no provider" in plans["Due"]["detail"]
    assert plans["Calm"]["action"] == "none"
    assert alerts.calls == [] and load_states(journal.engine, URL) == {}
    assert not scheduler.leader  # no lease taken
