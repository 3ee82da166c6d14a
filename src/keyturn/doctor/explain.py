"""The failures of one credential -> evidence, a conclusion and the command to run."""

from __future__ import annotations

from datetime import datetime

from keyturn.doctor.changes import edited_twin, recent_change
from keyturn.doctor.model import Cause, Diagnosis, Evidence, FailedRun, first_failure
from keyturn.doctor.times import fmt, maybe_aware, since_hint
from keyturn.n8n.models import Credential


def explain(key: str, runs: list[FailedRun], evidence: Evidence) -> Diagnosis:
    """The diagnosis of one group of failures (one credential and cause, or one $env read)."""
    sample = runs[0]
    first = first_failure(runs)
    credential = evidence.credentials.get(sample.credential_id or "")
    diagnosis = Diagnosis(
        key=key,
        credential_id=sample.credential_id,
        credential_name=credential.name if credential else sample.credential_name,
        credential_type=sample.credential_type,
        cause=sample.cause,
        failures=runs,
        conclusion="",
        evidence=_failure_evidence(runs, evidence, first),
        command=None,
    )
    if key.startswith("env:"):
        return _env_conclusion(diagnosis, sample)
    if sample.cause in (Cause.CREDENTIAL_MISSING, Cause.CREDENTIAL_NOT_SET):
        return _missing_conclusion(diagnosis, evidence)
    if sample.cause is Cause.OAUTH_EXPIRED:
        return _oauth_conclusion(diagnosis)
    change = recent_change(diagnosis, credential, evidence, first)
    if sample.cause is Cause.RATE_LIMITED:
        return _rate_limit_conclusion(diagnosis, change, first)
    return _auth_conclusion(diagnosis, credential, evidence, change, first)


def _failure_evidence(
    runs: list[FailedRun], evidence: Evidence, first: datetime | None
) -> list[str]:
    """Where and since when the runs fail, the error, and the last run that succeeded."""
    where = sorted({f"{_workflow_name(r, evidence)} > {r.node_name}" for r in runs})
    lines = [
        f"{len(runs)} failed execution(s) in {', '.join(where)}"
        + (f", first at {fmt(first)}" if first else ""),
        f"error: {runs[0].message}",
    ]
    success = next((s for r in runs if (s := evidence.last_success.get(r.workflow_id or ""))), None)
    if success:
        lines.append(f"last successful run of the workflow: {fmt(success)}")
    return lines


def _workflow_name(run: FailedRun, evidence: Evidence) -> str:
    workflow = evidence.workflows.get(run.workflow_id or "")
    return workflow.name if workflow else f"workflow {run.workflow_id}"


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


def _oauth_conclusion(diagnosis: Diagnosis) -> Diagnosis:
    diagnosis.conclusion = (
        "The OAuth token expired or was revoked: the credential must be reconnected "
        "(a consent flow keyturn cannot run)."
    )
    diagnosis.command = "Reconnect the credential in n8n's editor, then: keyturn doctor --retry"
    return diagnosis


def _rate_limit_conclusion(
    diagnosis: Diagnosis, change: str | None, first: datetime | None
) -> Diagnosis:
    diagnosis.conclusion = (
        f"The provider rate limits this credential{' right after ' + change if change else ''}"
        ": back off, then re-run the failed executions."
    )
    diagnosis.command = f"keyturn doctor --retry --since {since_hint(first)}"
    return diagnosis


def _auth_conclusion(
    diagnosis: Diagnosis,
    credential: Credential | None,
    evidence: Evidence,
    change: str | None,
    first: datetime | None,
) -> Diagnosis:
    """The provider refuses the key: a twin got the new key, the change broke it, or the key
    was revoked at the provider."""
    twin = edited_twin(credential, evidence)
    if twin is not None and credential is not None:
        return _twin_conclusion(diagnosis, credential, twin)
    if change:
        return _changed_conclusion(diagnosis, evidence, change)
    diagnosis.conclusion = (
        "The credential did not change, but the provider started refusing it: the key was "
        "revoked or rotated at the provider."
    )
    diagnosis.command = f"keyturn rotate {diagnosis.credential_id or '?'} --new-secret SOURCE"
    if first:
        diagnosis.command += f"   # then: keyturn doctor --retry --since {since_hint(first)}"
    return diagnosis


def _twin_conclusion(diagnosis: Diagnosis, credential: Credential, twin: Credential) -> Diagnosis:
    diagnosis.evidence.append(
        f"another credential is also named {credential.name!r} (id {twin.id}) and was "
        f"updated at {fmt(maybe_aware(twin.updated_at))}, after the one the node uses"
    )
    diagnosis.conclusion = (
        f"Two credentials are named {credential.name!r}: the node uses {credential.id}, but "
        f"the new key went into {twin.id}."
    )
    diagnosis.command = f"keyturn rotate {credential.id} --new-secret SOURCE"
    return diagnosis


def _changed_conclusion(diagnosis: Diagnosis, evidence: Evidence, change: str) -> Diagnosis:
    cred = diagnosis.credential_id or "?"
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
