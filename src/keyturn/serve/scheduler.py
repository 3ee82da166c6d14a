"""The scheduler of `keyturn serve`: at each interval, rotate what is due, watch health, alert.

One replica (the leader, journal/serve_state.py) acts; every replica builds the dashboard's
view from the journal and n8n. A rotation is the same as `keyturn rotate` (rotation/service.py):
saved before anything changes, proven, rolled back on failure. What serve adds:

- a failed rotation is retried with back-off, `max_attempts` times in all, then the credential
  is marked needs_attention and alerted once; nothing retries it in a loop (not even a rotation
  left in flight that cannot be finished or rolled back: a person takes it from there);
- a credential that is due but cannot be rotated unattended (no provider, no known current
  value, a webhook gap to consent to, a policy name shared by several credentials) is
  `blocked` and alerted once per reason;
- alerts go out on a change of state only, remembered in the journal; one a channel could not
  take is sent again at the next evaluation;
- before each rotation the leader renews its lease and re-reads the credential's last change,
  so a replica that lost the lease, or a rotation done by hand meanwhile, stops it;
- asked to stop, it stops at a safe point: between credentials, or inside a grace period
  (the rotation stays in flight at its step, and the next start resumes it first).
"""

from __future__ import annotations

import logging
import queue
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from keyturn.core.config import RotationProfile, Settings
from keyturn.core.durations import parse_duration
from keyturn.core.errors import (
    ConfigError,
    KeyturnError,
    RotationBusy,
    RotationFailed,
    RotationPaused,
)
from keyturn.core.redact import mask_secret_fields, redact
from keyturn.journal import Journal, Rotation
from keyturn.journal.leases import PROCESS_OWNER, instance_identity
from keyturn.journal.models import NAME_COLUMN, ServeState
from keyturn.journal.serve_state import (
    evaluated,
    lead,
    leadership,
    load_states,
    new_state,
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

Alert = Callable[[str, dict[str, Any]], "bool | None"]  # False: a channel did not take it
_MAX_ALERT_TRIES = 5  # evaluations an undeliverable alert is tried at, before it is given up


class Stopping(BaseException):
    """Raised inside a grace period when serve must stop. Not an Exception: the rotation's
    protocol lets it through untouched, so the rotation stays in flight at its step (nothing is
    rolled back) and the next start resumes it."""


def event(name: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """One structured log line (serve/logs.py renders it as text or JSON); values redacted:
    registered secrets in every encoding, and the values of secret-bearing fields."""
    clean = {
        key: mask_secret_fields(redact(str(value)))
        for key, value in fields.items()
        if value is not None
    }
    log.log(level, name, extra={"event": name, "fields": clean})


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Resolved:
    """A credential's policy, as its `[rotation."..."]` section names it."""

    policy: Policy
    problem: str | None = None  # why it cannot be rotated unattended by that policy


@dataclass
class _Pass:
    """What one evaluation read: n8n's credentials, the journal's rotations and states."""

    credentials: list[Credential]
    rotations: list[Rotation]
    in_flight: list[Rotation]
    states: dict[str, ServeState]
    changes: dict[str, tuple[datetime | None, bool]] = field(default_factory=dict)
    policies: dict[str, Resolved] = field(default_factory=dict)


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
        self.policies = _policies(settings, clock())  # every [rotation] section checked now
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
            lambda c: self.rotations.health_probe(c.id, c.updated_at),
        )  # fmt: skip
        self.requests: queue.SimpleQueue[str] = queue.SimpleQueue()  # "rotate now" ids
        self.leader = False
        self.view = v.DashboardView(self.instance, clock(), False, None, None)
        self.rotation_counts: dict[tuple[str, str], int] = {}  # (credential id, status) -> n
        self.reachable = (False, "not evaluated yet")
        self._unmatched_warned: set[str] = set()

    # -- the loop --------------------------------------------------------------------------

    def run(self) -> None:
        """Evaluate at each interval until asked to stop."""
        while not self.stop.is_set():
            self.tick()
            self.stop.wait(self.interval)

    def tick(self) -> bool:
        """One evaluation: leadership, interrupted rotations, due ones, health, the view.
        Never raises: a failure is logged (its kind only) and shown by /readyz. True if the
        evaluation went through."""
        try:
            self._tick()
        except Stopping:
            event("serve.paused", detail="stopped inside a grace period; resumed at next start")
        except KeyturnError as exc:
            return self._failed_evaluation(exc.message)
        except Exception as exc:  # the database away, a bug: the next interval tries again
            return self._failed_evaluation(f"{type(exc).__name__} (details at -vv)")
        return True

    def _failed_evaluation(self, why: str) -> bool:
        self.reachable = (False, "the last evaluation failed: n8n or the journal did not answer")
        event("evaluation.failed", level=logging.WARNING, error=why)
        log.debug("evaluation failed", exc_info=True)
        return False

    def _tick(self) -> None:
        self.beat()
        now = self.clock()
        current = self._read()
        self.reachable = (True, "n8n and the journal answer")
        if self.leader:
            self._resume_interrupted(current, now)
            self._rotate_due(current, now)
            current = self._read()
            self._check_health(current, now)
            evaluated(self.journal.engine, self.identity, self.holder, now)
        self.view = self._build_view(current, now)

    def refresh_view(self) -> None:
        """Build the dashboard's view without acting (before the first evaluation, which may
        spend a grace period resuming a rotation)."""
        try:
            self.view = self._build_view(self._read(), self.clock())
        except Exception as exc:
            self._failed_evaluation(type(exc).__name__)

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

    def step_down(self) -> None:
        """The lease could not be renewed for its whole life: another replica may hold it."""
        if self.leader:
            self.leader = False
            event("leader.lost", level=logging.WARNING, holder=self.holder,
                  detail="the lease could not be renewed")  # fmt: skip
            self.view = replace(self.view, leader=False, leader_holder=None)

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
        current.policies = self._resolve(credentials)
        return current

    def _resolve(self, credentials: list[Credential]) -> dict[str, Resolved]:
        """Each credential's policy: its section by id, else by name, where the name is one
        credential's only (as `keyturn rotate NAME` asks)."""
        by_name = Counter(credential.name for credential in credentials)
        ids = {credential.id for credential in credentials}
        for name in self.policies:
            if name not in ids and name not in by_name and name not in self._unmatched_warned:
                self._unmatched_warned.add(name)
                event("policy.unmatched", level=logging.WARNING, section=name,
                      detail="no credential has this id or name")  # fmt: skip
        resolved = {}
        for credential in credentials:
            if credential.id in self.policies:
                resolved[credential.id] = Resolved(self.policies[credential.id])
            elif credential.name in self.policies:
                policy = self.policies[credential.name]
                count = by_name[credential.name]
                problem = (
                    f'[rotation."{credential.name}"] names {count} credentials: give the one '
                    f"to rotate by its id ({credential.id} is one of them)"
                    if count > 1
                    else None
                )
                resolved[credential.id] = Resolved(policy, problem)
            else:
                resolved[credential.id] = Resolved(_NONE)
        return resolved

    def _state_of(self, current: _Pass, credential_id: str, name: str) -> ServeState:
        state = current.states.get(credential_id)
        if state is None:
            state = new_state(self.identity, credential_id, name[:NAME_COLUMN])
            current.states[credential_id] = state
        state.credential_name = name[:NAME_COLUMN]
        return state

    def _save_if_changed(self, state: ServeState, before: tuple[Any, ...]) -> None:
        if _snapshot(state) != before:
            save_state(self.journal.engine, state)

    # -- health ----------------------------------------------------------------------------

    def _check_health(self, current: _Pass, now: datetime) -> None:
        for credential in current.credentials:
            self._state_of(current, credential.id, credential.name)
        before = {key: _snapshot(state) for key, state in current.states.items()}
        changed_at = {key: change for key, (change, _) in current.changes.items()}
        checked = self.health.check(
            current.credentials,
            current.states,
            lambda c: current.policies[c.id].policy,
            changed_at,
            current.rotations,
            now,
        )
        for item in checked:
            state, credential = item.state, item.credential
            if state.health != item.before:
                level = logging.WARNING if state.health == v.FAILING else logging.INFO
                event("health.changed", level=level, credential=credential.name,
                      health=state.health, detail=state.health_detail)  # fmt: skip
            if state.health == v.FAILING:
                self._send("unhealthy", credential.id, credential.name, state,
                           key=item.reason or "failing", detail=state.health_detail)  # fmt: skip
            elif state.health == v.HEALTHY and state.alerts.get("unhealthy"):
                self._healthy_again(credential, state, now)
        for key, state in current.states.items():
            self._save_if_changed(state, before.get(key, ()))

    def _healthy_again(self, credential: Credential, state: ServeState, now: datetime) -> None:
        sent = self._send("healthy_again", credential.id, credential.name, state,
                          key=now.isoformat(), detail=state.health_detail)  # fmt: skip
        if sent:
            state.alerts = _without(state.alerts, "unhealthy", "healthy_again")

    # -- rotating --------------------------------------------------------------------------

    def _resume_interrupted(self, current: _Pass, now: datetime) -> None:
        """Rotations left in flight by a stopped or killed replica: finished or rolled back
        first, before anything new starts. One alive elsewhere is left alone, and so is one
        that already needs a person (no loop of resumes)."""
        names = {c.id: c.name for c in current.credentials}
        for rotation in current.in_flight:
            name = names.get(rotation.credential_id, rotation.credential_name)
            state = self._state_of(current, rotation.credential_id, name)
            before = _snapshot(state)
            if state.needs_attention:
                self._keep_attention_alerted(state)
            elif self.beat():
                event("rotation.resume", credential=state.credential_name, step=rotation.step)
                try:
                    self.rotations.resume(rotation.id)
                except RotationBusy:
                    pass
                except KeyturnError as exc:
                    self._failed(state, exc, now, stuck=True)
                else:
                    self._succeeded(state, rotation.id)
            self._save_if_changed(state, before)

    def _rotate_due(self, current: _Pass, now: datetime) -> None:
        """Rotate every credential that is due and may start now (and those asked for from
        the dashboard)."""
        asked = self._asked_for()
        busy = {r.credential_id for r in current.in_flight}
        for credential in current.credentials:
            if self.stop.is_set():
                break
            if credential.id in busy:
                continue
            state = self._state_of(current, credential.id, credential.name)
            before = _snapshot(state)
            self._evaluate(current, credential, state, now, credential.id in asked)
            self._save_if_changed(state, before)

    def _evaluate(
        self,
        current: _Pass,
        credential: Credential,
        state: ServeState,
        now: datetime,
        asked: bool,
    ) -> None:
        resolved = current.policies[credential.id]
        policy = resolved.policy
        last, by_keyturn = current.changes.get(credential.id, (None, False))
        self._clear_attention_after_manual_rotation(state, last, by_keyturn)
        due = policy.due_at(last, now)
        if not asked and (due is None or due > now):
            if state.blocked:
                state.blocked = None
            self._remind(credential, policy, state, last, now)
            return
        if state.needs_attention and not asked:
            self._keep_attention_alerted(state)
            return
        if resolved.problem is not None:
            self._blocked(credential, state, resolved.problem, "ambiguous")
            return
        if not asked:
            if state.next_attempt_at is not None and now < state.next_attempt_at:
                return
            assert due is not None
            start = policy.next_start(credential.id, due, now)
            if start is None:
                self._blocked(credential, state, "no window of its schedule falls outside "
                              "its blackouts within years", "no-window")  # fmt: skip
                return
            if start > now:
                return
        if not self.beat():  # the lease was lost meanwhile: the new leader decides
            return
        if not asked and self._rotated_meanwhile(credential.id, last):
            return
        if asked:  # a person asks again: a fresh set of attempts (the alerts stay, for
            # `recovered`, until it succeeds)
            state.needs_attention, state.failures, state.next_attempt_at = False, 0, None
        self._rotate(credential, state, policy, now)

    def _rotated_meanwhile(self, credential_id: str, last: datetime | None) -> bool:
        """Whether a rotation completed since this evaluation read the journal (by hand, or
        by a replica that led a moment ago)."""
        self.journal.refresh()
        rotations = self.journal.rotations(self.instance, credential_id, self.identity)
        done = [r.updated_at for r in rotations if r.status == "completed"]
        return bool(done) and (last is None or max(done) > last)

    def _rotate(
        self, credential: Credential, state: ServeState, policy: Policy, now: datetime
    ) -> None:
        event("rotation.start", credential=credential.name, id=credential.id)
        try:
            outcome = self.rotations.rotate(RotateOptions(credential=credential.id))
        except RotationBusy as exc:
            event("rotation.busy", credential=credential.name, detail=exc.message)
            return
        except RotationPaused as exc:
            self._failed(state, exc, now, stuck=True)
            return
        except RotationFailed as exc:
            stuck = state.failures + 1 >= policy.max_attempts
            self._failed(state, exc, now, stuck=stuck, retry=policy.retry_at)
            return
        except KeyturnError as exc:  # refused before anything changed: it needs a person
            self._blocked(credential, state, exc.message, type(exc).__name__)
            return
        except Exception as exc:  # before the protocol ran (it rolls back what it began)
            log.debug("rotation could not start", exc_info=True)
            reason = f"the rotation could not start ({type(exc).__name__}; details at -vv)"
            self._blocked(credential, state, reason, type(exc).__name__)
            return
        event("rotation.completed", credential=credential.name,
              rotation=outcome.rotation.short_id)  # fmt: skip
        self._succeeded(state, outcome.rotation.id)

    def _succeeded(self, state: ServeState, rotation_id: str) -> None:
        alerted = bool(state.alerts.get("needs_attention") or state.alerts.get("due_blocked"))
        state.failures, state.next_attempt_at, state.needs_attention = 0, None, False
        state.last_error, state.blocked = None, None
        if alerted:
            self._send("recovered", state.credential_id, state.credential_name, state,
                       key=rotation_id, detail="rotated and verified")  # fmt: skip
        state.alerts = _without(
            state.alerts, "needs_attention", "needs_attention_at", "due_blocked"
        )

    def _failed(
        self,
        state: ServeState,
        exc: KeyturnError,
        now: datetime,
        *,
        stuck: bool,
        retry: Callable[[int, datetime], datetime] | None = None,
    ) -> None:
        state.failures += 1
        state.last_error = redact(exc.message)
        if stuck or retry is None:
            state.needs_attention, state.next_attempt_at = True, None
            state.alerts = {**state.alerts, "needs_attention_at": now.isoformat()}
            event("rotation.needs_attention", level=logging.WARNING,
                  credential=state.credential_name, error=exc.message,
                  attempts=state.failures)  # fmt: skip
            self._keep_attention_alerted(state)
        else:
            state.next_attempt_at = retry(state.failures, now)
            event("rotation.failed", level=logging.WARNING, credential=state.credential_name,
                  error=exc.message, attempts=state.failures,
                  next_attempt=state.next_attempt_at.isoformat())  # fmt: skip

    def _keep_attention_alerted(self, state: ServeState) -> None:
        """The one needs_attention alert of this incident (sent again only if no channel took
        it); the mark's time tells one incident from the next."""
        self._send("needs_attention", state.credential_id, state.credential_name, state,
                   key=str(state.alerts.get("needs_attention_at", "1")),
                   detail=state.last_error, attempts=state.failures)  # fmt: skip

    def _blocked(self, credential: Credential, state: ServeState, reason: str, kind: str) -> None:
        reason = redact(reason)
        if state.blocked != reason:
            event("rotation.blocked", level=logging.WARNING, credential=credential.name,
                  reason=reason)  # fmt: skip
        state.blocked = reason
        # One alert per reason: its kind and its words, without numbers (ids, counts, times).
        key = f"{kind}:{_DIGITS.sub('#', reason)[:200]}"
        self._send("due_blocked", credential.id, credential.name, state, key=key, reason=reason)

    def _clear_attention_after_manual_rotation(
        self, state: ServeState, last: datetime | None, by_keyturn: bool
    ) -> None:
        """A person fixed it and rotated by hand (`keyturn rotate`): serve takes over again."""
        marked = state.alerts.get("needs_attention_at")
        fixed = by_keyturn and last is not None and marked and last > datetime.fromisoformat(marked)
        if state.needs_attention and fixed:
            event("rotation.attention_cleared", credential=state.credential_name)
            self._succeeded(state, f"by hand {last}")

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
            self._send("reminder", credential.id, credential.name, state, key=last.isoformat(),
                       age_seconds=int(age))  # fmt: skip

    def _asked_for(self) -> set[str]:
        asked = set()
        while True:
            try:
                asked.add(self.requests.get_nowait())
            except queue.Empty:
                return asked

    def ask_rotation(self, credential_id: str) -> str:
        """The dashboard's "rotate now": queued for the next evaluation, on the leader."""
        if not self.leader:
            return "This replica is not the scheduler: ask the leader's dashboard."
        self.requests.put(credential_id)
        return "Rotation asked for: it starts at the next evaluation."

    def preview(self) -> list[dict[str, Any]]:
        """What one evaluation would do, changing nothing (no lease, no rotation, no state
        written, no alert): `keyturn serve --dry-run`."""
        now = self.clock()
        current = self._read()
        busy = {r.credential_id for r in current.in_flight}
        plans = []
        for credential in current.credentials:
            resolved = current.policies[credential.id]
            state, _, due, start = self._timing(current, credential, now)
            action, detail = "none", resolved.policy.describe()
            if credential.id in busy:
                action, detail = "resume", "a rotation is in flight"
            elif due is not None and state.needs_attention:
                action, detail = "needs_attention", state.last_error or ""
            elif due is not None and due <= now and resolved.problem is not None:
                action, detail = "blocked", resolved.problem
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

    # -- alerts ----------------------------------------------------------------------------

    def _send(
        self,
        kind: str,
        credential_id: str,
        credential_name: str,
        state: ServeState,
        *,
        key: str,
        **details: Any,
    ) -> bool:
        """Alert once per state: `key` tells one occurrence of `kind` from the next. An alert
        no channel took is tried again at the next evaluations (a few times), then given up.
        True when it is (or was already) sent."""
        if state.alerts.get(kind) == key:
            return True
        payload = {
            "instance": self.instance,
            "credential_id": credential_id,
            "credential_name": credential_name,
            **{name: value for name, value in details.items() if value is not None},
        }
        try:
            delivered = self.alert(kind, payload) is not False
        except Exception as exc:  # a channel's failure never stops the scheduler
            event("alert.failed", level=logging.WARNING, kind=kind, error=type(exc).__name__)
            delivered = False
        tries_key = f"{kind}.tries"
        tries = int(state.alerts.get(tries_key, 0)) + 1
        if not delivered and tries < _MAX_ALERT_TRIES:
            state.alerts = {**state.alerts, tries_key: tries}
            event("alert.undelivered", level=logging.WARNING, kind=kind,
                  credential=credential_name, tries=tries)  # fmt: skip
            return False
        if not delivered:
            event("alert.given_up", level=logging.WARNING, kind=kind, credential=credential_name)
        event("alert", kind=kind, credential=credential_name)
        state.alerts = {**_without(state.alerts, tries_key), kind: key}
        return True

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
        audit = self.journal.recent_history(self.instance, limit=50)
        return v.DashboardView(
            instance=self.instance,
            generated_at=now,
            leader=self.leader,
            leader_holder=lease.holder,
            last_evaluation=lease.last_evaluation_at,
            credentials=sorted(rows, key=_row_order),
            in_flight=[self._in_flight(r) for r in current.in_flight],
            timeline=[_timeline_event(e) for e in audit],
            failures=self.health.failure_groups(),
        )

    def _in_flight(self, rotation: Rotation) -> v.InFlight:
        lease = self.journal.lease(rotation)
        owner = lease.owner if lease is not None and lease.alive() else None
        return v.InFlight(
            rotation.id,
            rotation.credential_id,
            rotation.credential_name,
            rotation.step,
            rotation.created_at,
            owner,
        )

    def _timing(
        self, current: _Pass, credential: Credential, now: datetime
    ) -> tuple[ServeState, datetime | None, datetime | None, datetime | None]:
        """(its state, when its secret last changed, when it is due, when it may start), read
        only: the dashboard's and --dry-run's view of a credential."""
        policy = current.policies[credential.id].policy
        state = current.states.get(credential.id) or new_state(
            self.identity, credential.id, credential.name
        )
        last, _ = current.changes.get(credential.id, (None, False))
        due = policy.due_at(last, now)
        start = policy.next_start(credential.id, due, now) if due is not None else None
        return state, last, due, start

    def _row(
        self,
        credential: Credential,
        current: _Pass,
        now: datetime,
        busy: set[str],
        last_status: str | None,
    ) -> v.CredentialRow:
        policy = current.policies[credential.id].policy
        state, last, due, start = self._timing(current, credential, now)
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


_DIGITS = re.compile(r"\d+")


def _snapshot(state: ServeState) -> tuple[Any, ...]:
    return (
        state.credential_name,
        state.failures,
        state.next_attempt_at,
        state.needs_attention,
        state.last_error,
        state.blocked,
        state.health,
        state.health_detail,
        state.health_checked_at,
        tuple(sorted((str(k), str(val)) for k, val in (state.alerts or {}).items())),
    )


def _without(alerts: dict[str, Any], *kinds: str) -> dict[str, Any]:
    return {key: value for key, value in alerts.items() if key not in kinds}


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


_NONE = Policy.of(RotationProfile(), "rotation")


def _policies(settings: Settings, now: datetime) -> dict[str, Policy]:
    """Every `[rotation."..."]` section's policy; a ConfigError for one that can never start."""
    policies = {}
    for name, profile in settings.file.rotation.items():
        where = f'rotation."{name}"'
        policy = Policy.of(profile, where)
        if policy.rotates and policy.next_start(name, now, now) is None:
            raise ConfigError(
                f"{where}: no window of its schedule falls outside its blackouts within years, "
                "so it would never be rotated.",
                "Move the schedule or shorten the blackouts (docs/serve.md).",
            )
        policies[name] = policy
    return policies


def _successes_only(settings: Settings) -> Notifier:
    """Rotation outcomes for serve: a success is news for the team; a failure is retried, and
    alerted once when retries are exhausted, not at every attempt."""
    notifier = Notifier.from_config(settings.file.notifications)
    if notifier.settings is not None:
        on = [outcome for outcome in notifier.settings.on if outcome == "success"]
        notifier = Notifier(notifier.settings.model_copy(update={"on": on}))
    return notifier
