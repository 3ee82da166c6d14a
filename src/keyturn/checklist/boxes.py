"""The seven boxes, each a function of the evidence (evidence.py), and the checklist."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from keyturn.checklist.evidence import Evidence, gather, last_completed, workflow_names
from keyturn.checklist.model import Box, Checklist
from keyturn.doctor.model import CREDENTIAL_CAUSES
from keyturn.inventory.usage import FlagCode
from keyturn.journal.journal import Journal
from keyturn.n8n.client import N8nClient

EXTERNAL_SECRETS_NOTE = "external secrets ($secrets) are re-read every 5 minutes by default"


def build_checklist(
    client: N8nClient,
    journal: Journal,
    instance: str,
    instance_url: str,
    credential: str,
    *,
    quiet_since: datetime,
    paths: list[Path],
    vault: dict[str, Any] | None = None,
) -> Checklist:
    rotation, later = last_completed(journal, instance, instance_url, credential)
    evidence = gather(client, journal, instance_url, rotation, quiet_since, paths, vault)
    evidence.later = later
    checklist = Checklist(
        credential={
            "id": evidence.credential_id,
            "name": rotation.credential_name,
            "type": rotation.credential_type,
        },
        rotation={
            "id": rotation.id,
            "completed_at": _time(evidence.completed_at),
            "strategy": rotation.strategy,
            "previous": rotation.previous_fingerprint,
            "current": rotation.pending_fingerprint,
        },
        since=_time(quiet_since),
    )
    checklist.checks = [
        proven(evidence),
        no_cache(evidence),
        reexecuted(evidence),
        no_hardcoded(evidence),
        old_secret_gone(evidence),
        stores_updated(evidence),
        quiet(evidence),
    ]
    return checklist


def proven(evidence: Evidence) -> Box:
    checks = evidence.rotation.plan.get("checks", [])
    tests = [e for e in evidence.events if e.step == "test"]
    revoked = [e for e in evidence.events if e.step == "finish" and e.outcome == "revoked"]
    passed = [c for c in checks if c.get("ok")]
    items = tuple(f"{c.get('means')}: {c.get('detail')}" for c in checks)
    if evidence.later is not None:
        later = evidence.later
        return Box(
            "proven",
            False,
            f"a later rotation of the credential ({later.id[:8]}) is "
            f"{later.status}: this one is no longer what n8n holds",
            items,
        )
    if not checks or len(passed) != len(checks):
        failed = len(checks) - len(passed)
        why = "no proof ran" if not checks else f"{failed} of {len(checks)} proofs failed"
        return Box("proven", False, f"{why} before the old value was revoked", items)
    tested_at = max(e.at for e in tests) if tests else None
    revoked_at = min(e.at for e in revoked) if revoked else None
    if tested_at and revoked_at and revoked_at < tested_at:
        return Box("proven", False, "the old value was revoked before the proofs ran", items)
    when = f" at {_time(tested_at)}" if tested_at else ""
    after = (
        f"; the old value was revoked after, at {_time(revoked_at)}"
        if revoked_at
        else "; keyturn did not revoke the old value (no provider revoked it): revoke it where "
        "it was issued"
    )
    return Box("proven", True, f"{len(checks)} proof(s) passed{when}{after}", items)


def no_cache(evidence: Evidence) -> Box:
    readers = [f for f in evidence.index.flags if f.code is FlagCode.ENV_SECRET]
    items = tuple(f"workflow {f.workflow_name!r}, node {f.node_name!r}" for f in readers)
    if readers and not evidence.restarted:
        return Box(
            "no_cache",
            False,
            f"{len(readers)} node(s) read a secret through $env: "
            "n8n reads its environment at start, so they need n8n restarted",
            items,
        )
    restarted = "; n8n was restarted by the rotation" if evidence.restarted else ""
    return Box(
        "no_cache",
        True,
        "nothing to refresh: n8n reads the credential from its "
        f"database at each execution{restarted} ({EXTERNAL_SECRETS_NOTE})",
        items,
    )


def reexecuted(evidence: Evidence) -> Box:
    names = workflow_names(evidence)
    if not names:
        return Box("reexecuted", True, "no workflow uses the credential")
    failed = [
        f"execution {run.execution_id} ({names.get(run.workflow_id or '', ('?',))[0]!r}): "
        f"{run.cause.value}, {run.message[:120]}"
        for run in evidence.failed_since
    ]
    waiting = [
        f"workflow {name!r} has not run since (trigger: {trigger})"
        for wid, (name, trigger) in sorted(names.items())
        if not any(r.status == "success" for r in evidence.executions.get(wid, []))
    ]
    ran = len(names) - len(waiting)
    evidence_line = f"{ran} of {len(names)} workflow(s) ran successfully since the rotation"
    if failed:
        evidence_line += f"; {len(failed)} failed execution(s) since"
    return Box("reexecuted", not failed and not waiting, evidence_line, tuple(failed + waiting))


def no_hardcoded(evidence: Evidence) -> Box:
    flags = [f for f in evidence.index.flags if f.code is FlagCode.HARDCODED_SECRET]
    # The place only: the inventory's message shows a few characters of the value.
    items = tuple(f"workflow {f.workflow_name!r}, node {f.node_name!r}" for f in flags)
    if flags:
        return Box(
            "no_hardcoded",
            False,
            f"{len(flags)} node(s) hold a secret literal instead of a credential",
            items,
        )
    return Box(
        "no_hardcoded",
        True,
        f"no node of the {len(evidence.index.workflows)} workflow(s) holds a secret literal",
    )


def old_secret_gone(evidence: Evidence) -> Box:
    if not evidence.old_values:
        return Box("old_secret_gone", False, "the journal keeps no previous value to look for")
    fingerprint = evidence.rotation.previous_fingerprint
    items = tuple(evidence.old_in_instance + evidence.old_in_files)
    if items:
        return Box(
            "old_secret_gone",
            False,
            f"the previous value ({fingerprint}) is still in {len(items)} place(s)",
            items,
        )
    unread = tuple(f"not searched: {place}" for place in evidence.not_searched)
    if unread:
        return Box(
            "old_secret_gone",
            False,
            f"{len(unread)} file(s) under --path could not be searched",
            unread,
        )
    where = "the nodes and pinned data of every workflow on the instance" + (
        f" and every file under {', '.join(str(p) for p in evidence.paths)} (git history not "
        "included)"
        if evidence.paths
        else ""
    )
    return Box(
        "old_secret_gone",
        True,
        f"the previous value ({fingerprint}) is not in {where}, in any encoding the scanner knows",
    )


def stores_updated(evidence: Evidence) -> Box:
    stale = [s for s in evidence.stores if not s.holds_new]
    items = tuple(f"{s.target}: {s.detail}" for s in evidence.stores)
    files = tuple(f"{place}: holds the old value" for place in evidence.old_in_files)
    if stale or files:
        return Box(
            "stores_updated",
            False,
            f"{len(stale) + len(files)} place(s) do not hold the new value",
            items + files,
        )
    held = len(evidence.stores) + len(evidence.new_in_files)
    if not held:
        searched = (
            "no file under --path holds the old value"
            if evidence.paths
            else ("no --path was given to search for files")
        )
        return Box("stores_updated", True, f"the rotation wrote to no store; {searched}")
    news = tuple(f"{place}: holds the new value" for place in evidence.new_in_files)
    return Box(
        "stores_updated",
        True,
        f"{held} place(s) hold the new value ({evidence.rotation.pending_fingerprint})",
        items + news,
    )


def quiet(evidence: Evidence) -> Box:
    report = evidence.report
    assert report is not None
    credential_runs = [
        run for d in report.diagnoses for run in d.failures if run.cause in CREDENTIAL_CAUSES
    ]
    items = tuple(
        f"execution {run.execution_id}: {run.cause.value} "
        f"({run.credential_name or run.credential_id or '?'}, node {run.node_name!r})"
        for run in credential_runs
    )
    since = _time(report.since)
    if credential_runs:
        return Box(
            "quiet",
            False,
            f"{len(credential_runs)} failed execution(s) since {since} "
            "that doctor ties to a credential",
            items,
        )
    return Box(
        "quiet",
        True,
        f"{report.failed} failed execution(s) since {since}, none that "
        "doctor ties to a credential (n8n must save failed executions)",
    )


def _time(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else "?"
