"""`keyturn doctor`: failed executions -> cause -> credential -> conclusion -> command.

Reads the failed executions of a time window (with their data), classifies each failure,
groups them by credential, and explains them from evidence: when the credential changed (in
n8n, or by a keyturn rotation in the journal), when the workflow last succeeded, whether
another credential has the same name, whether the node reads its key from `$env`.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from keyturn.core.errors import N8nError
from keyturn.core.redact import redact
from keyturn.detect.values import env_reads_in
from keyturn.n8n.client import N8nClient
from keyturn.n8n.models import Credential, Execution, Workflow

RECENT_CHANGE = timedelta(hours=1)  # a change this close before the failures explains them
MAX_MESSAGE = 240


class Cause(StrEnum):
    AUTH_REFUSED = "auth_refused"
    RATE_LIMITED = "rate_limited"
    OAUTH_EXPIRED = "oauth_expired"
    CREDENTIAL_MISSING = "credential_missing"
    CREDENTIAL_NOT_SET = "credential_not_set"
    NETWORK = "network"
    NOT_CREDENTIAL = "not_credential"
    UNCLASSIFIED = "unclassified"


CREDENTIAL_CAUSES = frozenset(
    {Cause.AUTH_REFUSED, Cause.RATE_LIMITED, Cause.OAUTH_EXPIRED, Cause.CREDENTIAL_MISSING,
     Cause.CREDENTIAL_NOT_SET}
)  # fmt: skip

_PATTERNS: list[tuple[Cause, re.Pattern[str]]] = [
    (Cause.CREDENTIAL_MISSING, re.compile(
        r"credential with id .* (?:does not exist|could not be found|not found)|"
        r"credentials? (?:could not be|not) found|credential .* was deleted", re.I)),
    (Cause.CREDENTIAL_NOT_SET, re.compile(
        r"does not have any credentials set|no credentials? (?:set|selected)", re.I)),
    (Cause.OAUTH_EXPIRED, re.compile(
        r"invalid_grant|token (?:has been )?(?:expired|revoked)|expired or revoked|"
        r"refresh[_ ]token|access token (?:is )?expired|reconnect", re.I)),
    (Cause.RATE_LIMITED, re.compile(r"too many requests|rate.?limit|\b429\b|quota exceeded", re.I)),
    (Cause.AUTH_REFUSED, re.compile(
        r"authorization failed|forbidden|unauthori[sz]ed|invalid (?:api[ _-]?)?key|"
        r"authentication (?:failed|required)|missing (?:required )?authentication|"
        r"invalid (?:access )?token|bad credentials|invalid credentials|"
        r"api key (?:is )?(?:invalid|revoked)|"
        r"\b40[13]\b", re.I)),
    (Cause.NETWORK, re.compile(
        r"econnrefused|econnreset|enotfound|etimedout|eai_again|socket hang up|timed out|"
        r"refused the connection|dns|certificate|self[- ]signed|tls|ssl", re.I)),
]  # fmt: skip


_MISSING_ID = re.compile(r'Credential with ID "([^"]+)"(?: does not exist for type "([^"]+)")?')


@dataclass
class FailedRun:
    """One failed execution, classified."""

    execution_id: str
    workflow_id: str | None
    started_at: datetime | None
    node_name: str | None
    node_type: str | None
    credential_id: str | None
    credential_name: str | None
    credential_type: str | None
    cause: Cause
    message: str
    http_code: str | None
    env_variables: list[str] = field(default_factory=list)


def classify(execution: Execution) -> FailedRun:
    """Classify one failed execution from its data. Never raises: unknown shapes are
    `unclassified` with the raw message."""
    error = _error_of(execution.data)
    node: dict[str, Any] = error["node"] if isinstance(error.get("node"), dict) else {}
    credentials = node["credentials"] if isinstance(node.get("credentials"), dict) else {}
    cred_type, ref = next(iter(credentials.items()), (None, None))
    ref = ref if isinstance(ref, dict) else {}
    http_code = str(error["httpCode"]) if error.get("httpCode") is not None else None
    text = _error_text(error, http_code)
    cause = _cause(text, http_code, error)
    named = _MISSING_ID.search(text)
    if named and not ref.get("id"):  # a deleted credential: the error names it, not the node
        ref = {"id": named.group(1)}
        cred_type = named.group(2) or cred_type
    env_variables = [
        variable
        for variable, secret_like in env_reads_in(str(node.get("parameters", "")), "")
        if secret_like
    ]
    return FailedRun(
        execution_id=execution.id,
        workflow_id=execution.workflow_id,
        started_at=execution.started_at,
        node_name=node.get("name") if isinstance(node.get("name"), str) else _last_node(execution),
        node_type=node.get("type") if isinstance(node.get("type"), str) else None,
        credential_id=str(ref["id"]) if ref.get("id") is not None else None,
        credential_name=ref.get("name") if isinstance(ref.get("name"), str) else None,
        credential_type=cred_type,
        cause=cause,
        message=redact(text)[:MAX_MESSAGE] or "(no error message in the execution data)",
        http_code=http_code,
        env_variables=env_variables,
    )


def _error_text(error: dict[str, Any], http_code: str | None) -> str:
    """'message (description; HTTP 401)', from what the error has."""
    message = str(error.get("message") or "").strip()
    details = [str(error["description"]).strip()] if error.get("description") else []
    if http_code:
        details.append(f"HTTP {http_code}" if http_code.isdigit() else http_code)
    return f"{message} ({'; '.join(details)})" if details else message


def _last_node(execution: Execution) -> str | None:
    result = (execution.data or {}).get("resultData")
    node = result.get("lastNodeExecuted") if isinstance(result, dict) else None
    return node if isinstance(node, str) else None


def _error_of(data: dict[str, Any] | None) -> dict[str, Any]:
    result = (data or {}).get("resultData")
    if not isinstance(result, dict):
        return {}
    error = result.get("error")
    if isinstance(error, dict):
        return error
    for runs in (result.get("runData") or {}).values():  # the node-level error, if any
        for run in runs if isinstance(runs, list) else []:
            if isinstance(run, dict) and isinstance(run.get("error"), dict):
                return dict(run["error"])
    return {}


def _cause(text: str, http_code: str | None, error: dict[str, Any]) -> Cause:
    if http_code in ("401", "403"):
        return Cause.AUTH_REFUSED
    if http_code == "429":
        return Cause.RATE_LIMITED
    for cause, pattern in _PATTERNS:
        if pattern.search(text):
            return cause
    if not error:
        return Cause.UNCLASSIFIED
    if http_code and http_code.isdigit():
        return Cause.NOT_CREDENTIAL
    return Cause.UNCLASSIFIED if not text else Cause.NOT_CREDENTIAL


@dataclass
class Diagnosis:
    """What went wrong with one credential (or one $env variable), and what to run."""

    key: str
    credential_id: str | None
    credential_name: str | None
    credential_type: str | None
    cause: Cause
    failures: list[FailedRun]
    conclusion: str
    evidence: list[str]
    command: str | None

    @property
    def first_failure(self) -> datetime | None:
        times = [f.started_at for f in self.failures if f.started_at]
        return min(times) if times else None

    @property
    def last_failure(self) -> datetime | None:
        times = [f.started_at for f in self.failures if f.started_at]
        return max(times) if times else None


@dataclass
class RetryOutcome:
    execution_id: str
    new_execution_id: str | None
    status: str


@dataclass
class DoctorReport:
    since: datetime
    generated_at: datetime
    failed: int
    by_cause: dict[str, int]
    diagnoses: list[Diagnosis]
    other_failures: list[FailedRun]
    retried: list[RetryOutcome] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.failed == 0


@dataclass
class Evidence:
    """What doctor knows beyond the executions themselves."""

    credentials: dict[str, Credential]
    rotations: dict[str, list[Any]]  # credential id -> rotations in the journal
    workflows: dict[str, Workflow]
    last_success: dict[str, datetime]  # workflow id -> last successful run before failures


def collect_failures(
    client: N8nClient, since: datetime, workflow_id: str | None
) -> list[FailedRun]:
    runs = []
    for execution in client.iter_executions(
        status="error", workflow_id=workflow_id, include_data=True, page_size=50
    ):
        if execution.started_at is not None and execution.started_at < since:
            break  # newest first: the rest is older than the window
        runs.append(classify(execution))
    return runs


def diagnose(
    client: N8nClient,
    *,
    since: datetime,
    workflow_id: str | None = None,
    rotations: Iterable[Any] = (),
    now: datetime | None = None,
) -> DoctorReport:
    failures = collect_failures(client, since, workflow_id)
    evidence = _evidence(client, failures, rotations)
    groups: dict[str, list[FailedRun]] = defaultdict(list)
    others = []
    for run in failures:
        if run.cause in CREDENTIAL_CAUSES or run.env_variables:
            groups[_group_key(run)].append(run)
        else:
            others.append(run)
    diagnoses = [_explain(key, runs, evidence) for key, runs in groups.items()]
    diagnoses.sort(key=lambda d: d.last_failure or since, reverse=True)
    return DoctorReport(
        since=since,
        generated_at=now or datetime.now(UTC),
        failed=len(failures),
        by_cause=dict(Counter(run.cause.value for run in failures)),
        diagnoses=diagnoses,
        other_failures=others,
    )


def _group_key(run: FailedRun) -> str:
    if run.env_variables and not run.credential_id:
        return "env:" + ",".join(sorted(run.env_variables))
    return f"{run.credential_id or run.credential_name or '?'}:{run.cause.value}"


def _evidence(client: N8nClient, failures: list[FailedRun], rotations: Iterable[Any]) -> Evidence:
    credentials = {c.id: c for c in client.list_credentials()} if failures else {}
    by_credential: dict[str, list[Any]] = defaultdict(list)
    for rotation in rotations:
        by_credential[rotation.credential_id].append(rotation)
        if rotation.new_credential_id:
            by_credential[rotation.new_credential_id].append(rotation)
    workflows: dict[str, Workflow] = {}
    last_success: dict[str, datetime] = {}
    for workflow_id in {f.workflow_id for f in failures if f.workflow_id}:
        first = min(
            (f.started_at for f in failures if f.workflow_id == workflow_id and f.started_at),
            default=None,
        )
        try:
            workflows[workflow_id] = client.get_workflow(workflow_id)
        except N8nError:
            continue
        for execution in client.iter_executions(
            status="success", workflow_id=workflow_id, page_size=50
        ):
            if execution.started_at and (first is None or execution.started_at < first):
                last_success[workflow_id] = execution.started_at
                break
    return Evidence(credentials, by_credential, workflows, last_success)


def _explain(key: str, runs: list[FailedRun], evidence: Evidence) -> Diagnosis:
    sample = runs[0]
    first = min((r.started_at for r in runs if r.started_at), default=None)
    credential = evidence.credentials.get(sample.credential_id or "")
    where = sorted({f"{_workflow_name(r, evidence)} > {r.node_name}" for r in runs})
    evidence_lines = [
        f"{len(runs)} failed execution(s) in {', '.join(where)}"
        + (f", first at {_fmt(first)}" if first else ""),
        f"error: {sample.message}",
    ]
    for run in runs:
        success = evidence.last_success.get(run.workflow_id or "")
        if success:
            evidence_lines.append(f"last successful run of the workflow: {_fmt(success)}")
            break
    diagnosis = Diagnosis(
        key=key,
        credential_id=sample.credential_id,
        credential_name=credential.name if credential else sample.credential_name,
        credential_type=sample.credential_type,
        cause=sample.cause,
        failures=runs,
        conclusion="",
        evidence=evidence_lines,
        command=None,
    )
    if key.startswith("env:"):
        return _env_conclusion(diagnosis, sample)
    if sample.cause in (Cause.CREDENTIAL_MISSING, Cause.CREDENTIAL_NOT_SET):
        return _missing_conclusion(diagnosis, evidence)
    if sample.cause is Cause.OAUTH_EXPIRED:
        diagnosis.conclusion = (
            "The OAuth token expired or was revoked: the credential must be reconnected "
            "(a consent flow keyturn cannot run)."
        )
        diagnosis.command = "Reconnect the credential in n8n's editor, then: keyturn doctor --retry"
        return diagnosis
    change = _recent_change(diagnosis, credential, evidence, first)
    if sample.cause is Cause.RATE_LIMITED:
        diagnosis.conclusion = (
            f"The provider rate limits this credential{' right after ' + change if change else ''}"
            ": back off, then re-run the failed executions."
        )
        diagnosis.command = f"keyturn doctor --retry --since {_since_hint(first)}"
        return diagnosis
    return _auth_conclusion(diagnosis, credential, evidence, change, first)


def _env_conclusion(diagnosis: Diagnosis, sample: FailedRun) -> Diagnosis:
    variables = ", ".join(f"$env.{v}" for v in sample.env_variables)
    diagnosis.conclusion = (
        f"The node reads its key from {variables}: n8n reads its environment only at start, so a "
        "new value there is not used until n8n restarts (and an old one keeps failing)."
    )
    diagnosis.command = "Restart n8n (or `keyturn rotate ... --restart` with restart_command set)"
    return diagnosis


def _missing_conclusion(diagnosis: Diagnosis, evidence: Evidence) -> Diagnosis:
    rotations = evidence.rotations.get(diagnosis.credential_id or "", [])
    replaced = [r for r in rotations if r.strategy == "replace" and r.new_credential_id]
    if replaced:
        diagnosis.conclusion = (
            f"The node points at credential {diagnosis.credential_id}, which a keyturn rotation "
            f"replaced by {replaced[-1].new_credential_id}; this node was not repointed."
        )
        diagnosis.command = f"keyturn rollback {replaced[-1].id[:8]}"
        return diagnosis
    diagnosis.conclusion = (
        f"The node points at credential {diagnosis.credential_id or diagnosis.credential_name!r}, "
        "which does not exist (deleted) or is not set: every run of it fails."
    )
    diagnosis.command = "Select an existing credential in the node; `keyturn inventory` lists them"
    return diagnosis


def _recent_change(
    diagnosis: Diagnosis, credential: Credential | None, evidence: Evidence, first: datetime | None
) -> str | None:
    """A change of the credential shortly before the failures, as text (and as evidence).

    A change explains the failures only if no run of the workflows succeeded after it.
    """
    if first is None:
        return None
    succeeded = [evidence.last_success.get(r.workflow_id or "") for r in diagnosis.failures]
    last_success = max((_aware(s) for s in succeeded if s), default=None)
    for rotation in reversed(evidence.rotations.get(diagnosis.credential_id or "", [])):
        set_at = _maybe_aware(rotation.set_at)
        if set_at and first - RECENT_CHANGE <= set_at <= first and not _after(last_success, set_at):
            diagnosis.evidence.append(
                f"keyturn rotation {rotation.id[:8]} set a new value at {_fmt(set_at)} "
                f"({_ago(first - set_at)} before the first failure; status {rotation.status})"
            )
            return f"the keyturn rotation at {_fmt(set_at)}"
    updated = _maybe_aware(credential.updated_at) if credential else None
    if updated and first - RECENT_CHANGE <= updated <= first and not _after(last_success, updated):
        diagnosis.evidence.append(
            f"the credential was updated in n8n at {_fmt(updated)}, "
            f"{_ago(first - updated)} before the first failure"
        )
        return f"the change at {_fmt(updated)}"
    if updated and _after(last_success, updated):
        diagnosis.evidence.append(
            f"the credential last changed at {_fmt(updated)}, and runs succeeded after that "
            "change: it is not the cause"
        )
    elif updated:
        diagnosis.evidence.append(f"the credential last changed at {_fmt(updated)}")
    return None


def _auth_conclusion(
    diagnosis: Diagnosis,
    credential: Credential | None,
    evidence: Evidence,
    change: str | None,
    first: datetime | None,
) -> Diagnosis:
    cred = diagnosis.credential_id or "?"
    twins = [
        other
        for other in evidence.credentials.values()
        if credential is not None
        and other.id != credential.id
        and other.name.strip().casefold() == credential.name.strip().casefold()
    ]
    mine = _maybe_aware(credential.updated_at) if credential else None
    edited_twin = next(
        (t for t in twins if t.updated_at and mine and _aware(t.updated_at) > mine), None
    )
    if edited_twin is not None and credential is not None:
        diagnosis.evidence.append(
            f"another credential is also named {credential.name!r} (id {edited_twin.id}) and was "
            f"updated at {_fmt(_maybe_aware(edited_twin.updated_at))}, after the one the node uses"
        )
        diagnosis.conclusion = (
            f"Two credentials are named {credential.name!r}: the node uses {credential.id}, but "
            f"the new key went into {edited_twin.id}."
        )
        diagnosis.command = f"keyturn rotate {credential.id} --new-secret SOURCE"
        return diagnosis
    if change:
        diagnosis.conclusion = (
            f"The provider refuses the key since {change}: the new value is wrong (or the old "
            "key was revoked before n8n had the new one)."
        )
        if evidence.rotations.get(cred):  # keyturn knows the previous value
            diagnosis.command = f"keyturn rollback {cred}"
        else:
            diagnosis.command = (
                f"keyturn rotate {cred} --new-secret SOURCE   "
                "# the previous value was never known to keyturn: give the right key"
            )
        return diagnosis
    diagnosis.conclusion = (
        "The credential did not change, but the provider started refusing it: the key was "
        "revoked or rotated at the provider."
    )
    diagnosis.command = f"keyturn rotate {cred} --new-secret SOURCE"
    if first:
        diagnosis.command += f"   # then: keyturn doctor --retry --since {_since_hint(first)}"
    return diagnosis


def retry_fixed(client: N8nClient, report: DoctorReport) -> list[RetryOutcome]:
    """Re-run failed executions whose cause is now fixed, and report how each went.

    Fixed means: the credential changed after the last failure (a rotation, a rollback, an
    edit), or the failure was rate limiting (time has passed).
    """
    outcomes = []
    credentials = {c.id: c for c in client.list_credentials()} if report.diagnoses else {}
    for diagnosis in report.diagnoses:
        if not _looks_fixed(diagnosis, credentials):
            continue
        for run in sorted(diagnosis.failures, key=lambda r: r.started_at or report.since):
            try:
                execution = client.retry_execution(run.execution_id)
            except N8nError as exc:
                outcomes.append(RetryOutcome(run.execution_id, None, f"not retried: {exc.message}"))
                continue
            outcomes.append(RetryOutcome(run.execution_id, execution.id, execution.status or "?"))
    report.retried = outcomes
    return outcomes


def _looks_fixed(diagnosis: Diagnosis, credentials: dict[str, Credential]) -> bool:
    if diagnosis.cause is Cause.RATE_LIMITED:
        return True
    credential = credentials.get(diagnosis.credential_id or "")
    last = diagnosis.last_failure
    if credential is None or credential.updated_at is None or last is None:
        return False
    return _aware(credential.updated_at) > last


def _after(moment: datetime | None, reference: datetime) -> bool:
    return moment is not None and moment > reference


def _workflow_name(run: FailedRun, evidence: Evidence) -> str:
    workflow = evidence.workflows.get(run.workflow_id or "")
    return workflow.name if workflow else f"workflow {run.workflow_id}"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _maybe_aware(moment: datetime | None) -> datetime | None:
    return _aware(moment) if moment is not None else None


def _fmt(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "?"


def _ago(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds}s"
    return f"{seconds // 60}m" if seconds < 7200 else f"{seconds // 3600}h"


def _since_hint(first: datetime | None) -> str:
    if first is None:
        return "1h"
    minutes = int((datetime.now(UTC) - first).total_seconds() // 60) + 5
    return f"{minutes}m" if minutes < 120 else f"{minutes // 60 + 1}h"
