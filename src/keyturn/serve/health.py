"""Credential health for `keyturn serve`: is each credential working, seen before a workflow
fails for it?

At each credential's health interval, from what n8n itself shows:
- n8n's own credential test, where its type has one and this n8n offers it;
- the failed executions since the last look, classified by doctor (a refused key, a rate limit,
  an OAuth app to reconnect, a deleted credential), counted against the credential they name
  when they came after its secret last changed;
- the successful executions of the workflows that use it (a run after the last failure means
  it works again).
Nothing here sends a request with a secret: the test runs inside n8n, the rest is reading.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from keyturn.core.errors import KeyturnError
from keyturn.core.probe import ProbeResult
from keyturn.core.redact import redact
from keyturn.doctor import diagnose
from keyturn.doctor.model import CREDENTIAL_CAUSES, Diagnosis, FailedRun
from keyturn.inventory.usage import build_usage_index
from keyturn.journal.models import ServeState
from keyturn.n8n.client import N8nClient
from keyturn.n8n.credential_types import credential_type
from keyturn.n8n.models import Credential
from keyturn.serve import view as v
from keyturn.serve.policy import Policy

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # for a run without a start time


@dataclass(frozen=True)
class Change:
    credential: Credential
    state: ServeState
    before: str  # the health it had
    reason: str | None  # why it fails, as a stable key (one alert per reason)


Probe = Callable[[], ProbeResult]


class HealthMonitor:
    def __init__(
        self,
        client: N8nClient,
        interval: float,
        failures_since: float,
        probe_of: Callable[[Credential], Probe | None] = lambda credential: None,
    ) -> None:
        """`probe_of(credential)`: keyturn's own probe of its current secret, if any."""
        self.client = client
        self.interval = interval
        self.failures_since = failures_since
        self.probe_of = probe_of
        self._groups: list[v.FailureGroup] = []

    def check(
        self,
        credentials: list[Credential],
        states: dict[str, ServeState],
        policy_of: Callable[[Credential], Policy],
        last_change: dict[str, datetime | None],
        rotations: Sequence[Any],
        now: datetime,
    ) -> list[Change]:
        """Check every credential whose interval has passed: their states are updated in place
        and returned, each with the health it had before."""
        due = [c for c in credentials if self._due(states.get(c.id), policy_of(c), now)]
        if not due:
            return []
        checked = [t for c in due if (t := states[c.id].health_checked_at) is not None]
        since = min(checked, default=now - timedelta(seconds=self.failures_since))
        report = diagnose(self.client, since=since, rotations=rotations, now=now)
        failures = [run for d in report.diagnoses for run in d.failures] + report.other_failures
        self._groups = _groups(report.diagnoses, report.other_failures)
        ran_ok = self._last_success_by_credential(credentials, since)
        changes = []
        for credential in due:
            state = states[credential.id]
            before = state.health
            last_run, changed_at = ran_ok.get(credential.id), last_change.get(credential.id)
            health, detail, reason = self._judge(credential, state, failures, last_run, changed_at)
            state.health, state.health_detail, state.health_checked_at = health, detail, now
            changes.append(Change(credential, state, before, reason))
        return changes

    def failure_groups(self) -> list[v.FailureGroup]:
        return list(self._groups)

    def _due(self, state: ServeState | None, policy: Policy, now: datetime) -> bool:
        if state is None or state.health_checked_at is None:
            return True
        interval = policy.health_interval or self.interval
        return now - state.health_checked_at >= timedelta(seconds=interval)

    def _judge(
        self,
        credential: Credential,
        state: ServeState,
        failures: list[FailedRun],
        last_success: datetime | None,
        changed_at: datetime | None,
    ) -> tuple[str, str, str | None]:
        """(health, why, a stable key of the reason when failing)."""
        tested = self._n8n_test(credential)
        source = "n8n-test"
        if tested is None:
            tested, source = self._probe(credential), "probe"
        if tested is not None and not tested[0]:
            return v.FAILING, tested[1], source
        mine = [
            run
            for run in failures
            if run.cause in CREDENTIAL_CAUSES
            and _names(run, credential)
            and not _before(run.started_at, changed_at)
        ]
        last_failure = max((run.started_at for run in mine if run.started_at), default=None)
        if mine and (last_success is None or (last_failure and last_failure > last_success)):
            newest = max(mine, key=lambda run: run.started_at or changed_at or _EPOCH)
            where = f" in node {newest.node_name!r}" if newest.node_name else ""
            detail = redact(
                f"{len(mine)} failed run(s): {newest.cause.value}{where} "
                f"(execution {newest.execution_id})"
            )
            return v.FAILING, detail, f"runs:{newest.cause.value}"
        if tested is not None:
            return v.HEALTHY, tested[1], None
        if last_success is not None:
            ran = f"its workflows ran fine (last at {last_success:%Y-%m-%d %H:%M}Z)"
            return v.HEALTHY, ran, None
        if state.health != v.UNKNOWN:  # nothing new either way
            reason = str(state.alerts.get("unhealthy")) if state.health == v.FAILING else None
            return state.health, state.health_detail, reason
        return v.UNKNOWN, "no test for its type and no runs seen yet", None

    def _n8n_test(self, credential: Credential) -> tuple[bool, str] | None:
        known = credential_type(credential.type)
        if known is None or not known.has_test or not self.client.supports_credential_test():
            return None
        try:
            result = self.client.test_credential(credential.id)
        except KeyturnError:  # n8n away or slow, or no test here: no verdict on the key
            return None
        text = f"n8n credential test: {result.status} {result.message}".strip()
        return result.ok, redact(text)

    def _probe(self, credential: Credential) -> tuple[bool, str] | None:
        """keyturn's probe with the value it holds: a refusal fails the credential; an answer
        that is neither (the service unreachable) says nothing about it."""
        try:
            probe = self.probe_of(credential)
            result = probe() if probe is not None else None
        except (KeyturnError, httpx.HTTPError):
            return None
        if result is None or not (result.ok or result.refused):
            return None
        return result.ok, redact(f"keyturn's probe: {result.detail}")

    def _last_success_by_credential(
        self, credentials: list[Credential], since: datetime
    ) -> dict[str, datetime]:
        """Credential id -> the last successful run of a workflow using it, since `since`."""
        last_run: dict[str, datetime] = {}
        for execution in self.client.iter_executions(status="success", page_size=100):
            if execution.started_at is None or execution.started_at < since:
                break  # newest first
            if execution.workflow_id and execution.workflow_id not in last_run:
                last_run[execution.workflow_id] = execution.started_at
        if not last_run:
            return {}
        index = build_usage_index(credentials, self.client.iter_workflows())
        found: dict[str, datetime] = {}
        for credential in credentials:
            runs = [
                last_run[usage.workflow_id]
                for usage in index.usages_of(credential.id)
                if usage.workflow_id in last_run
            ]
            if runs:
                found[credential.id] = max(runs)
        return found


def _names(run: FailedRun, credential: Credential) -> bool:
    if run.credential_id:
        return run.credential_id == credential.id
    return run.credential_name == credential.name


def _before(moment: datetime | None, changed_at: datetime | None) -> bool:
    return moment is not None and changed_at is not None and moment < changed_at


def _groups(diagnoses: list[Diagnosis], others: list[FailedRun]) -> list[v.FailureGroup]:
    """Failed runs by credential and cause, with doctor's command for each credential's; the
    runs that are not a credential's, by cause."""
    groups = [
        v.FailureGroup(
            d.cause.value,
            d.credential_id,
            d.credential_name,
            len(d.failures),
            d.last_failure,
            d.command,
        )
        for d in diagnoses
    ]
    by_cause: dict[str, list[FailedRun]] = defaultdict(list)
    for run in others:
        by_cause[run.cause.value].append(run)
    for cause, runs in by_cause.items():
        last = max((run.started_at for run in runs if run.started_at), default=None)
        groups.append(v.FailureGroup(cause, None, None, len(runs), last, None))
    return sorted(groups, key=lambda g: -g.count)
