"""`diagnose`: the failed executions of a window, grouped by credential and explained."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from keyturn.doctor.classify import collect_failures
from keyturn.doctor.evidence import gather_evidence
from keyturn.doctor.explain import explain
from keyturn.doctor.model import CREDENTIAL_CAUSES, DoctorReport, FailedRun
from keyturn.n8n.client import N8nClient


def diagnose(
    client: N8nClient,
    *,
    since: datetime,
    workflow_id: str | None = None,
    rotations: Iterable[Any] = (),
    now: datetime | None = None,
) -> DoctorReport:
    """Classify the failed executions since `since`, and explain each credential's failures."""
    failures = collect_failures(client, since, workflow_id)
    evidence = gather_evidence(client, failures, rotations)
    groups, others = _group(failures)
    diagnoses = [explain(key, runs, evidence) for key, runs in groups.items()]
    diagnoses.sort(key=lambda d: d.last_failure or since, reverse=True)
    return DoctorReport(
        since=since,
        generated_at=now or datetime.now(UTC),
        failed=len(failures),
        by_cause=dict(Counter(run.cause.value for run in failures)),
        diagnoses=diagnoses,
        other_failures=others,
    )


def _group(failures: list[FailedRun]) -> tuple[dict[str, list[FailedRun]], list[FailedRun]]:
    """Credential failures (and $env reads) by group key; the rest, which doctor only lists."""
    groups: dict[str, list[FailedRun]] = defaultdict(list)
    others = []
    for run in failures:
        if run.cause in CREDENTIAL_CAUSES or run.env_variables:
            groups[_group_key(run)].append(run)
        else:
            others.append(run)
    return groups, others


def _group_key(run: FailedRun) -> str:
    if run.env_variables and not run.credential_id:
        return "env:" + ",".join(sorted(run.env_variables))
    return f"{run.credential_id or run.credential_name or '?'}:{run.cause.value}"
