"""The doctor report: one block per credential (conclusion, evidence, command), or JSON.

Names, error messages and evidence quote n8n's data: printed as plain text (safe_text.py).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from keyturn.doctor import Diagnosis, DoctorReport, FailedRun
from keyturn.formats.safe_text import plain

_CAUSE_TEXT = {
    "auth_refused": "authentication refused",
    "rate_limited": "rate limited",
    "oauth_expired": "OAuth token expired or revoked",
    "credential_missing": "credential missing or deleted",
    "credential_not_set": "credential not set on the node",
    "network": "network or TLS",
    "not_credential": "not a credential problem",
    "unclassified": "unclassified",
}


def render_report(report: DoctorReport, console: Console) -> None:
    if report.healthy:
        console.print(
            Text(
                f"Healthy: no failed execution since {report.since:%Y-%m-%d %H:%M} UTC.",
                style="bold green",
            )
        )
        return
    counts = ", ".join(f"{n} {_CAUSE_TEXT.get(c, c)}" for c, n in sorted(report.by_cause.items()))
    console.print(
        plain(
            f"{report.failed} failed executions since {report.since:%Y-%m-%d %H:%M} UTC: {counts}",
            "bold",
        )
    )
    for diagnosis in report.diagnoses:
        _render_diagnosis(diagnosis, console)
    if report.other_failures:
        console.print(Text("\nNot a credential problem", style="bold"))
        for run in report.other_failures[:20]:
            console.print(plain(f"  execution {run.execution_id} ({_cause(run)}): {run.message}"))
    for outcome in report.retried:
        console.print(
            plain(
                f"retried execution {outcome.execution_id} -> {outcome.new_execution_id or '-'}: "
                f"{outcome.status}",
                "green" if outcome.status == "success" else "red",
            )
        )


def _render_diagnosis(diagnosis: Diagnosis, console: Console) -> None:
    name = diagnosis.credential_name or diagnosis.key
    ident = (
        f" ({diagnosis.credential_id}, {diagnosis.credential_type})"
        if diagnosis.credential_id
        else ""
    )
    console.print()
    console.print(
        Text.assemble(
            ("credential ", "dim"),
            plain(name, "bold cyan"),
            plain(ident),
            "  ",
            (_CAUSE_TEXT[diagnosis.cause.value], "bold red"),
        )
    )
    console.print(plain(f"  {diagnosis.conclusion}"))
    for line in diagnosis.evidence:
        console.print(plain(f"  - {line}", "dim"))
    if diagnosis.command:
        console.print(Text.assemble("  run: ", plain(diagnosis.command, "bold")))


def _cause(run: FailedRun) -> str:
    return _CAUSE_TEXT.get(run.cause.value, run.cause.value)


def _run_document(run: FailedRun) -> dict[str, Any]:
    return {
        "execution_id": run.execution_id,
        "workflow_id": run.workflow_id,
        "started_at": run.started_at,
        "node": run.node_name,
        "node_type": run.node_type,
        "credential_id": run.credential_id,
        "credential_name": run.credential_name,
        "cause": run.cause.value,
        "http_code": run.http_code,
        "message": run.message,
        "env_variables": run.env_variables,
    }


def report_document(report: DoctorReport) -> dict[str, Any]:
    return {
        "schema": "keyturn.doctor/v1",
        "generated_at": report.generated_at,
        "since": report.since,
        "healthy": report.healthy,
        "failed_executions": report.failed,
        "by_cause": report.by_cause,
        "diagnoses": [
            {
                "credential_id": d.credential_id,
                "credential_name": d.credential_name,
                "credential_type": d.credential_type,
                "cause": d.cause.value,
                "count": len(d.failures),
                "first_failure": d.first_failure,
                "last_failure": d.last_failure,
                "workflows": sorted({r.workflow_id for r in d.failures if r.workflow_id}),
                "nodes": sorted({r.node_name for r in d.failures if r.node_name}),
                "conclusion": d.conclusion,
                "evidence": d.evidence,
                "command": d.command,
                "failures": [_run_document(r) for r in d.failures],
            }
            for d in report.diagnoses
        ],
        "other_failures": [_run_document(r) for r in report.other_failures],
        "retried": [vars(outcome) for outcome in report.retried],
    }
