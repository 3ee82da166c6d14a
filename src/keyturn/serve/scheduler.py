"""The scheduler of `keyturn serve`: at each interval, rotate what is due, watch health, alert.

One replica (the leader, journal/serve_state.py) acts; every replica builds the dashboard's
view from the journal and n8n. A rotation is the same as `keyturn rotate` (rotation/service.py):
saved before anything changes, proven, rolled back on failure. What serve adds:

- a failed rotation is retried with back-off, `max_attempts` times in all, then the credential
  is marked needs_attention and alerted once; nothing retries it in a loop;
- a credential that is due but cannot be rotated unattended (no provider, no known current
  value, a webhook gap to consent to) is `blocked` and alerted once, with the reason;
- alerts go out on a change of state only (alerts.py), remembered in the journal;
- asked to stop, it stops at a safe point: between credentials, or inside a grace period
  (the rotation stays in flight at its step, and the next start resumes it first).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from keyturn.core.config import RotationProfile, Settings
from keyturn.core.durations import parse_duration
from keyturn.core.errors import (
    KeyturnError,
    RotationBusy,
    RotationFailed,
    RotationPaused,
)
from keyturn.core.redact import redact
from keyturn.journal import Journal, Rotation
from keyturn.journal.leases import PROCESS_OWNER, instance_identity
from keyturn.journal.models import ServeState
from keyturn.journal.serve_state import (
    db_now,
    evaluated,
    lead,
    leadership,
    load_states,
    new_state,
    resign,
    save_state,
)
from keyturn.n8n.client import N8nClient
from keyturn.n8n.models import Credential
from keyturn.notify import Notifier
from keyturn.rotation.planning import RotateOptions
from keyturn.rotation.schedule import secret_changes
from keyturn.rotation.service import Rotations
from keyturn.serve import view as v
from keyturn.serve.health import HealthMonitor
from keyturn.serve.policy import Policy
from keyturn.serve.settings import ServeSettings

log = logging.getLogger("keyturn.serve")

Alert = Callable[[str, dict[str, Any]], None]


class Stopping(BaseException):
    """Raised inside a grace period when serve must stop. Not an Exception: the rotation's
    protocol lets it through untouched, so the rotation stays in flight at its step (nothing is
    rolled back) and the next start resumes it."""


def event(name: str, **fields: Any) -> None:
    """One structured log line (serve/logs.py renders it as text or JSON); values redacted."""
    clean = {key: redact(str(value)) for key, value in fields.items() if value is not None}
    log.info(name, extra={"event": name, "fields": clean})


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Pass:
    """What one evaluation read: n8n's credentials, the journal's rotations and states."""

    credentials: list[Credential]
    rotations: list[Rotation]
    in_flight: list[Rotation]
    states: dict[str, ServeState]
    changes: dict[str, tuple[datetime | None, bool]] = field(default_factory=dict)


class Scheduler:
    def __init__(
        self,
        settings: Settings,
        serve: ServeSettings,
        client: N8nClient,
        journal: Journal,
        alert: Alert,
        *,
        clock: Callable[[], datetime] = _utcnow,
        holder: str = PROCESS_OWNER,
        stop: threading.Event | None = None,
    ) -> None:
        self.settings = settings
        self.client = client
        self.journal = journal
        self.alert = alert
        self.clock = clock
        self.holder = holder
        self.stop = stop or threading.Event()
        self.instance = settings.connection.name
        self.identity = instance_identity(settings.connection.url)
        self.interval = parse_duration(serve.interval, "serve.interval")
        # The lease lives one interval (a follower looks once per interval, so it takes over
        # within two), at least 3 s so that a slow database does not make leaders flap.
        self.lease_seconds = max(self.interval, 3.0)
        self.policies = _policies(settings)  # every [rotation] section checked at start
        self.rotations = Rotations(
            settings,
            client,
            journal,
            stdin=None,
            on_step=lambda step, detail: event("rotation.step", step=step, detail=detail),
            sleep=self._sleep_unless_stopping,
            notifier=_successes_only(settings),
        )
        self.health = HealthMonitor(
            client, parse_duration(serve.health_interval, "serve.health_interval"),
            parse_duration(serve.failures_since, "serve.failures_since"),
            self.rotations.health_probe,
        )  # fmt: skip
        self.requests: queue.SimpleQueue[str] = queue.SimpleQueue()  # "rotate now" ids
        self.leader = False
        self.view = v.DashboardView(self.instance, clock(), False, None, None)
        self.rotation_counts: dict[tuple[str, str], int] = {}  # (credential id, status) -> n
        self.reachable = (False, "not evaluated yet")

    # -- the loop --------------------------------------------------------------------------

    def run(self) -> None:
        """Evaluate at each interval until asked to stop; then give the lease up."""
        try:
            while not self.stop.is_set():
                self.tick()
                self.stop.wait(self.interval)
        finally:
            if self.leader:
                resign(self.journal.engine, self.identity, self.holder)
                event("leader.resigned", holder=self.holder)

    def tick(self) -> None:
        """One evaluation: leadership, interrupted rotations, due ones, health, the view."""
        try:
            self._tick()
        except Stopping:
            event("serve.paused", detail="stopped inside a grace period; resumed at next start")
        except KeyturnError as exc:
            self.reachable = (False, redact(exc.message))
            event("evaluation.failed", error=exc.message)

    def _tick(self) -> None:
        self.journal.refresh()
        self.beat()
        now = self.clock()
        current = self._read()
        self.reachable = (True, "n8n and the journal answer")
        if self.leader:
            self._resume_interrupted(current)
            current = self._read() if self._rotate_due(current, now) else current
            self._check_health(current, now)
            evaluated(self.journal.engine, self.identity, self.holder, now)
        self.view = self._build_view(self._read() if self.leader else current, now)

    def refresh_view(self) -> None:
        """Build the dashboard's view without acting (before the first evaluation, which may
        spend a grace period resuming a rotation)."""
        try:
            self.journal.refresh()
            self.view = self._build_view(self._read(), self.clock())
        except KeyturnError as exc:
            self.reachable = (False, redact(exc.message))

    def beat(self) -> bool:
        """Take or keep the scheduler's lease; True while this replica holds it."""
        was = self.leader
        self.leader = lead(
            self.journal.engine, self.identity, self.holder, self.lease_seconds
        ).leader
        if self.leader != was:
            event("leader.acquired" if self.leader else "leader.lost", holder=self.holder)
            # Shown at once (metrics, dashboard), not only after a long first evaluation.
            self.view = replace(self.view, leader=self.leader,
                                leader_holder=self.holder if self.leader else None)  # fmt: skip
        return self.leader

    def _sleep_unless_stopping(self, seconds: float) -> None:
        if self.stop.wait(seconds):
            raise Stopping

    # -- reading ---------------------------------------------------------------------------

    def _read(self) -> _Pass:
        self.journal.refresh()
        credentials = self.client.list_credentials()
        rotations = self.journal.rotations(self.instance, instance_url=self.identity)
        current = _Pass(
            credentials=credentials,
            rotations=rotations,
            in_flight=[r for r in rotations if r.status == "in_progress"],
            states=load_states(self.journal.engine, self.identity),
        )
        current.changes = secret_changes(credentials, rotations)
        return current

    def _policy_of(self, credential: Credential) -> Policy:
        return self.policies.get(credential.id) or self.policies.get(credential.name) or _NONE

    def _state_of(self, current: _Pass, credential: Credential) -> ServeState:
        state = current.states.get(credential.id)
        if state is None:
            state = new_state(self.identity, credential.id, credential.name)
            current.states[credential.id] = state
        state.credential_name = credential.name
        return state

    def _check_health(self, current: _Pass, now: datetime) -> None:
        for credential in current.credentials:
            self._state_of(current, credential)
        changed_at = {key: change for key, (change, _) in current.changes.items()}
        for checked in self.health.check(
            current.credentials,
            current.states,
            self._policy_of,
            changed_at,
            current.rotations,
            now,
        ):
            state, credential = checked.state, checked.credential
            if state.health != checked.before:
                event("health.changed", credential=credential.name, health=state.health,
                      detail=state.health_detail)  # fmt: skip
            if state.health == v.FAILING:
                self._send("unhealthy", credential, state, key=state.health_detail,
                           detail=state.health_detail)  # fmt: skip
            elif state.health == v.HEALTHY and state.alerts.get("unhealthy"):
                alerts = dict(state.alerts)
                alerts.pop("unhealthy")
                state.alerts = alerts
                self._send("healthy_again", credential, state, key=now.isoformat(),
                           detail=state.health_detail)  # fmt: skip
            save_state(self.journal.engine, state)

    # -- rotating --------------------------------------------------------------------------

    def _resume_interrupted(self, current: _Pass) -> None:
        """Rotations left in flight by a stopped or killed replica: finished or rolled back
        first, before anything new starts. One still alive elsewhere is left alone."""
        for rotation in current.in_flight:
            event("rotation.resume", credential=rotation.credential_name, step=rotation.step)
            credential = next(
                (c for c in current.credentials if c.id == rotation.credential_id), None
            )
            try:
                self.rotations.resume(rotation.id)
            except RotationBusy:
                continue
            except KeyturnError as exc:
                if credential is not None:
                    self._failed(current, credential, exc, self.clock())
                continue
            if credential is not None:
                self._succeeded(current, credential)

    def _rotate_due(self, current: _Pass, now: datetime) -> bool:
        """Rotate every credential that is due and may start now (and those asked for from
        the dashboard). True if anything was tried."""
        asked = self._asked_for()
        busy = {r.credential_id for r in current.in_flight}
        tried = False
        for credential in current.credentials:
            if self.stop.is_set():
                break
            if credential.id in busy:
                continue
            state = self._state_of(current, credential)
            policy = self._policy_of(credential)
            last, by_keyturn = current.changes.get(credential.id, (None, False))
            self._clear_attention_after_manual_rotation(state, last, by_keyturn)
            if credential.id in asked:
                state.needs_attention, state.failures, state.next_attempt_at = False, 0, None
            elif not self._may_start(credential, policy, state, last, now):
                before = (state.blocked, dict(state.alerts), state.needs_attention)
                self._remind(credential, policy, state, last, now)
                if (state.blocked, state.alerts, state.needs_attention) != before:
                    save_state(self.journal.engine, state)
                continue
            tried = True
            self._rotate(current, credential, state, now)
        return tried

    def _may_start(
        self,
        credential: Credential,
        policy: Policy,
        state: ServeState,
        last: datetime | None,
        now: datetime,
    ) -> bool:
        due = policy.due_at(last, now)
        if due is None or due > now:
            state.blocked = None
            return False
        if state.needs_attention:
            return False
        if state.next_attempt_at is not None and now < state.next_attempt_at:
            return False
        start = policy.next_start(credential.id, due, now)
        return start is not None and start <= now

    def _rotate(
        self, current: _Pass, credential: Credential, state: ServeState, now: datetime
    ) -> None:
        event("rotation.start", credential=credential.name, id=credential.id)
        try:
            outcome = self.rotations.rotate(RotateOptions(credential=credential.id))
        except RotationBusy as exc:
            event("rotation.busy", credential=credential.name, detail=exc.message)
            return
        except (RotationFailed, RotationPaused) as exc:
            self._failed(current, credential, exc, now)
            return
        except KeyturnError as exc:  # refused before anything changed: it needs a person
            self._blocked(credential, state, exc)
            return
        event(
            "rotation.completed",
            credential=credential.name,
            rotation=outcome.rotation.short_id,
        )
        self._succeeded(current, credential)

    def _succeeded(self, current: _Pass, credential: Credential) -> None:
        state = self._state_of(current, credential)
        alerted = bool(state.alerts.get("needs_attention") or state.alerts.get("due_blocked"))
        state.failures, state.next_attempt_at, state.needs_attention = 0, None, False
        state.last_error, state.blocked = None, None
        if alerted:
            self._send("recovered", credential, state, detail="rotated and verified")
        state.alerts = {k: val for k, val in state.alerts.items() if k in ("unhealthy",)}
        save_state(self.journal.engine, state)

    def _failed(
        self, current: _Pass, credential: Credential, exc: KeyturnError, now: datetime
    ) -> None:
        state = self._state_of(current, credential)
        policy = self._policy_of(credential)
        state.failures += 1
        state.last_error = redact(exc.message)
        stuck = isinstance(exc, RotationPaused) or state.failures >= policy.max_attempts
        if stuck:
            state.needs_attention, state.next_attempt_at = True, None
            event("rotation.needs_attention", credential=credential.name, error=exc.message,
                  attempts=state.failures)  # fmt: skip
            self._send(
                "needs_attention",
                credential,
                state,
                key=f"{state.failures}:{now.isoformat()}",
                detail=state.last_error,
                attempts=state.failures,
            )
        else:
            state.next_attempt_at = policy.retry_at(state.failures, now)
            retry = state.next_attempt_at.isoformat()
            event("rotation.failed", credential=credential.name, error=exc.message,
                  attempts=state.failures, next_attempt=retry)  # fmt: skip
        save_state(self.journal.engine, state)

    def _blocked(self, credential: Credential, state: ServeState, exc: KeyturnError) -> None:
        reason = redact(exc.message)
        state.blocked = reason
        event("rotation.blocked", credential=credential.name, reason=reason)
        self._send("due_blocked", credential, state, key=reason, reason=reason)
        save_state(self.journal.engine, state)

    @staticmethod
    def _clear_attention_after_manual_rotation(
        state: ServeState, last: datetime | None, by_keyturn: bool
    ) -> None:
        """A person fixed it and rotated by hand (`keyturn rotate`): serve takes over again."""
        marked = state.alerts.get("needs_attention_at")
        fixed = by_keyturn and last is not None and marked and last > datetime.fromisoformat(marked)
        if state.needs_attention and fixed:
            state.needs_attention, state.failures, state.next_attempt_at = False, 0, None

    def _remind(
        self,
        credential: Credential,
        policy: Policy,
        state: ServeState,
        last: datetime | None,
        now: datetime,
    ) -> None:
        if policy.remind_after is None or last is None:
            return
        if now - last >= timedelta(seconds=policy.remind_after):
            age = (now - last).total_seconds()
            self._send("reminder", credential, state, key=last.isoformat(), age_seconds=int(age))

    def _asked_for(self) -> set[str]:
        asked = set()
        while True:
            try:
                asked.add(self.requests.get_nowait())
            except queue.Empty:
                return asked

    def preview(self) -> list[dict[str, Any]]:
        """What one evaluation would do, changing nothing (no lease, no rotation, no state
        written, no alert): `keyturn serve --dry-run`."""
        now = self.clock()
        current = self._read()
        busy = {r.credential_id for r in current.in_flight}
        plans = []
        for credential in current.credentials:
            policy = self._policy_of(credential)
            state = current.states.get(credential.id) or new_state(
                self.identity, credential.id, credential.name
            )
            last, _ = current.changes.get(credential.id, (None, False))
            due = policy.due_at(last, now)
            start = policy.next_start(credential.id, due, now) if due is not None else None
            action, detail = "none", policy.describe()
            if credential.id in busy:
                action, detail = "resume", "a rotation is in flight"
            elif due is not None and state.needs_attention:
                action, detail = "needs_attention", state.last_error or ""
            elif due is not None and start is not None and start <= now:
                action, detail = self._would_rotate(credential)
            elif start is not None:
                action, detail = "wait", f"next start {start:%Y-%m-%dT%H:%M:%SZ}"
            event("preview", credential=credential.name, action=action, detail=detail)
            plans.append({"credential_id": credential.id, "credential_name": credential.name,
                          "action": action, "detail": detail})  # fmt: skip
        return plans

    def _would_rotate(self, credential: Credential) -> tuple[str, str]:
        try:
            plan, _, _ = self.rotations.plan(RotateOptions(credential=credential.id))
        except KeyturnError as exc:
            return "blocked", redact(exc.message)
        return "rotate", f"with {plan.source} ({plan.strategy})"

    def ask_rotation(self, credential_id: str) -> str:
        """The dashboard's "rotate now": queued for the next evaluation, on the leader."""
        if not self.leader:
            return "This replica is not the scheduler: ask the leader's dashboard."
        self.requests.put(credential_id)
        return "Rotation asked for: it starts at the next evaluation."

    # -- alerts ----------------------------------------------------------------------------

    def _send(
        self,
        kind: str,
        credential: Credential,
        state: ServeState,
        *,
        key: str = "1",
        **details: Any,
    ) -> None:
        """Alert once per state: `key` tells one occurrence of `kind` from the next."""
        if state.alerts.get(kind) == key:
            return
        alerts = dict(state.alerts)
        alerts[kind] = key
        if kind == "needs_attention":
            alerts["needs_attention_at"] = self.clock().isoformat()
        state.alerts = alerts
        payload = {
            "instance": self.instance,
            "credential_id": credential.id,
            "credential_name": credential.name,
            **{name: value for name, value in details.items() if value is not None},
        }
        event("alert", kind=kind, credential=credential.name)
        try:
            self.alert(kind, payload)
        except Exception as exc:  # a channel's failure never stops the scheduler
            event("alert.failed", kind=kind, error=type(exc).__name__)

    # -- the view --------------------------------------------------------------------------

    def _build_view(self, current: _Pass, now: datetime) -> v.DashboardView:
        last_status: dict[str, str] = {}
        for rotation in current.rotations:  # oldest first: the last one wins
            last_status[rotation.credential_id] = rotation.status
        busy = {r.credential_id for r in current.in_flight}
        rows = [
            self._row(credential, current, now, busy, last_status.get(credential.id))
            for credential in current.credentials
        ]
        self.rotation_counts = dict(Counter((r.credential_id, r.status) for r in current.rotations))
        lease = leadership(self.journal.engine, self.identity, self.holder)
        audit = self.journal.history(self.instance)[-50:]
        return v.DashboardView(
            instance=self.instance,
            generated_at=now,
            leader=self.leader,
            leader_holder=lease.holder,
            last_evaluation=lease.last_evaluation_at,
            credentials=sorted(rows, key=_row_order),
            in_flight=[_in_flight(r) for r in current.in_flight],
            timeline=[_timeline_event(e) for e in reversed(audit)],
            failures=self.health.failure_groups(),
        )

    def _row(
        self,
        credential: Credential,
        current: _Pass,
        now: datetime,
        busy: set[str],
        last_status: str | None,
    ) -> v.CredentialRow:
        policy = self._policy_of(credential)
        state = current.states.get(credential.id) or new_state(
            self.identity, credential.id, credential.name
        )
        last, _ = current.changes.get(credential.id, (None, False))
        due = policy.due_at(last, now)
        start = policy.next_start(credential.id, due, now) if due is not None else None
        status, detail = _status(policy, state, credential.id in busy, due, now)
        return v.CredentialRow(
            credential_id=credential.id,
            name=credential.name,
            type=credential.type,
            age_seconds=(now - last).total_seconds() if last else None,
            last_rotated=last,
            policy=policy.describe(),
            next_rotation=None if state.needs_attention else start,
            health=state.health,
            health_detail=state.health_detail,
            health_checked_at=state.health_checked_at,
            state=status,
            detail=detail,
            next_attempt=state.next_attempt_at,
            last_rotation_status=last_status,
        )

    def db_time(self) -> datetime:
        return db_now(self.journal.engine)


def _status(
    policy: Policy, state: ServeState, rotating: bool, due: datetime | None, now: datetime
) -> tuple[str, str]:
    if rotating:
        return v.ROTATING, ""
    if state.needs_attention:
        return v.NEEDS_ATTENTION, state.last_error or ""
    if state.blocked:
        return v.BLOCKED, state.blocked
    if state.failures:
        return v.RETRYING, state.last_error or ""
    if not policy.rotates:
        return v.NO_POLICY, ""
    return (v.DUE, "") if due is not None and due <= now else (v.OK, "")


_ORDER = [v.NEEDS_ATTENTION, v.BLOCKED, v.RETRYING, v.ROTATING, v.DUE, v.OK, v.NO_POLICY]


def _row_order(row: v.CredentialRow) -> tuple[int, int, str]:
    return (_ORDER.index(row.state), row.health != v.FAILING, row.name.casefold())


def _timeline_event(audit: Any) -> v.TimelineEvent:
    return v.TimelineEvent(
        audit.at,
        audit.credential_id,
        audit.credential_name,
        audit.step,
        audit.outcome,
        redact(audit.detail),
    )


def _in_flight(rotation: Rotation) -> v.InFlight:
    return v.InFlight(
        rotation.id,
        rotation.credential_id,
        rotation.credential_name,
        rotation.step,
        rotation.created_at,
        None,
    )


_NONE = Policy.of(RotationProfile(), "rotation")


def _policies(settings: Settings) -> dict[str, Policy]:
    return {
        name: Policy.of(profile, f'rotation."{name}"')
        for name, profile in settings.file.rotation.items()
    }


def _successes_only(settings: Settings) -> Notifier:
    """Rotation outcomes for serve: a success is news for the team; a failure is retried, and
    alerted once when retries are exhausted (alerts.py), not at every attempt."""
    notifier = Notifier.from_config(settings.file.notifications)
    if notifier.settings is not None:
        on = [outcome for outcome in notifier.settings.on if outcome == "success"]
        notifier = Notifier(replace_settings(notifier.settings, on))
    return notifier


def replace_settings(settings: Any, on: Sequence[str]) -> Any:
    return settings.model_copy(update={"on": on})
