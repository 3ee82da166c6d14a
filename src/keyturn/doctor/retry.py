"""`keyturn doctor --retry`: re-run the failed executions whose cause is now fixed."""

from __future__ import annotations

from keyturn.core.durations import aware
from keyturn.core.errors import N8nError
from keyturn.doctor.model import Cause, Diagnosis, DoctorReport, RetryOutcome
from keyturn.n8n.client import N8nClient
from keyturn.n8n.models import Credential


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
            outcomes.append(_retry(client, run.execution_id))
    report.retried = outcomes
    return outcomes


def _retry(client: N8nClient, execution_id: str) -> RetryOutcome:
    try:
        execution = client.retry_execution(execution_id)
    except N8nError as exc:
        return RetryOutcome(execution_id, None, f"not retried: {exc.message}")
    return RetryOutcome(execution_id, execution.id, execution.status or "?")


def _looks_fixed(diagnosis: Diagnosis, credentials: dict[str, Credential]) -> bool:
    if diagnosis.cause is Cause.RATE_LIMITED:
        return True
    credential = credentials.get(diagnosis.credential_id or "")
    last = diagnosis.last_failure
    if credential is None or credential.updated_at is None or last is None:
        return False
    return aware(credential.updated_at) > last
