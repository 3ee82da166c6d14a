"""Proofs that a secret works, by every means available.

- probe: keyturn calls the provider (or `--probe-url`) with the secret, as the credential would;
- n8n-test: n8n's own credential test (`POST /credentials/{id}/test`), for types that have one;
- webhook: call opted-in webhook-triggered workflows that use the credential (real runs);
- retry-failed: retry executions that failed on this credential before the change;
- watch: watch the next executions of workflows that use the credential for a while.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from keyturn.core.errors import ConfigError, N8nError
from keyturn.core.http import new_client
from keyturn.core.probe import ProbeResult
from keyturn.n8n.client import N8nClient
from keyturn.n8n.credential_types import credential_type

log = logging.getLogger(__name__)

PROBE = "probe"
N8N_TEST = "n8n-test"
WEBHOOK = "webhook"
RETRY_FAILED = "retry-failed"
WATCH = "watch"
ALL_MODES = (PROBE, N8N_TEST, WEBHOOK, RETRY_FAILED, WATCH)
WEBHOOK_REGISTRATION_WAIT = 15.0  # n8n registers a webhook shortly after activation


@dataclass(frozen=True)
class CheckResult:
    means: str
    ok: bool
    detail: str


@dataclass
class VerificationPlan:
    """What the test step will run, decided before anything changes."""

    modes: list[str] = field(default_factory=list)
    webhooks: list[str] = field(default_factory=list)
    watch_seconds: float = 0.0
    failed_execution_ids: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.modes


def parse_modes(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    modes = [part.strip() for value in values for part in value.split(",") if part.strip()]
    unknown = sorted(set(modes) - set(ALL_MODES))
    if unknown:
        raise ConfigError(
            f"Unknown --verify mode {', '.join(unknown)}.", f"Use {', '.join(ALL_MODES)}."
        )
    return modes


def plan_verification(
    client: N8nClient,
    *,
    credential_id: str,
    cred_type: str,
    workflow_ids: list[str],
    can_probe: bool,
    webhooks: list[str],
    watch_seconds: float,
    requested: list[str] | None,
) -> VerificationPlan:
    """Every means available for this credential, or those requested (each must be available).

    `retry-failed` re-runs real executions (they may send e-mails, charge cards): it is used
    only when asked for by name, like a webhook, never chosen by default.
    """
    opted_in = requested is not None and RETRY_FAILED in requested
    failed = (
        failed_executions(client, workflow_ids, credential_id) if workflow_ids and opted_in else []
    )
    known = credential_type(cred_type)
    available = {
        PROBE: can_probe,
        N8N_TEST: bool(known and known.has_test) and client.supports_credential_test(),
        WEBHOOK: bool(webhooks),
        RETRY_FAILED: bool(failed),
        WATCH: watch_seconds > 0 and bool(workflow_ids),
    }
    if requested is not None:
        missing = [mode for mode in requested if not available[mode]]
        if missing:
            raise ConfigError(
                f"Verification {', '.join(missing)} is not available for this credential.",
                _how_to_enable(missing[0]),
            )
        modes = requested
    else:
        modes = [mode for mode in ALL_MODES if available[mode] and mode != RETRY_FAILED]
    return VerificationPlan(modes, webhooks, watch_seconds, failed if RETRY_FAILED in modes else [])


def _how_to_enable(mode: str) -> str:
    return {
        PROBE: "Add --probe-url URL (with --probe-auth) or a provider with a probe.",
        N8N_TEST: "n8n has no built-in test for this credential type, or this n8n cannot run "
        "one through its public API (before about 2.20: add a keyturn user, "
        "docs/compatibility.md).",
        WEBHOOK: "Name a webhook-triggered workflow with --verify-webhook PATH.",
        RETRY_FAILED: "There is no failed execution of a workflow that uses this credential.",
        WATCH: "Give --watch DURATION; a workflow must use the credential.",
    }[mode]


def failed_executions(
    client: N8nClient, workflow_ids: list[str], credential_id: str, limit: int = 20
) -> list[str]:
    """Recent failed executions whose failing node used this credential."""
    found: list[str] = []
    for workflow_id in workflow_ids:
        for execution in client.iter_executions(
            status="error", workflow_id=workflow_id, include_data=True, page_size=20
        ):
            if _failed_on(execution.data, credential_id):
                found.append(execution.id)
            if len(found) >= limit:
                return found
            break  # the most recent failure per workflow is enough
    return found


def _failed_on(data: dict[str, object] | None, credential_id: str) -> bool:
    result = (data or {}).get("resultData")
    error = result.get("error") if isinstance(result, dict) else None
    node = error.get("node") if isinstance(error, dict) else None
    credentials = node.get("credentials") if isinstance(node, dict) else None
    if not isinstance(credentials, dict):
        return False
    return any(
        isinstance(ref, dict) and ref.get("id") == credential_id for ref in credentials.values()
    )


class Verifier:
    """Runs a VerificationPlan against n8n after the new secret is set."""

    def __init__(
        self,
        client: N8nClient,
        probe: Callable[[str, str | None], ProbeResult] | None,
        webhook_timeout: float = 30.0,
    ) -> None:
        self.client = client
        self.probe = probe
        self.webhook_timeout = webhook_timeout

    def run(
        self,
        plan: VerificationPlan,
        secret: str,
        key_id: str | None,
        credential_id: str,
        workflow_ids: list[str],
        set_at: datetime,
    ) -> list[CheckResult]:
        results: list[CheckResult] = []
        for mode in plan.modes:
            if mode == PROBE and self.probe is not None:
                outcome = self.probe(secret, key_id)
                results.append(CheckResult(PROBE, outcome.ok, outcome.detail))
            elif mode == N8N_TEST:
                results.append(self._n8n_test(credential_id))
            elif mode == WEBHOOK:
                results.extend(self._call_webhook(path) for path in plan.webhooks)
            elif mode == RETRY_FAILED:
                results.extend(
                    self._retry(execution_id) for execution_id in plan.failed_execution_ids
                )
            elif mode == WATCH:
                results.append(self._watch(workflow_ids, set_at, plan.watch_seconds))
            if results and not results[-1].ok:
                break  # one failed proof is enough to roll back
        return results

    def _n8n_test(self, credential_id: str) -> CheckResult:
        try:
            result = self.client.test_credential(credential_id)
        except N8nError as exc:
            return CheckResult(N8N_TEST, False, f"n8n credential test failed: {exc.message}")
        return CheckResult(
            N8N_TEST, result.ok, f"n8n credential test: {result.status} {result.message}".strip()
        )

    def _call_webhook(self, path: str) -> CheckResult:
        url = f"{self.client.connection.url}/webhook/{path.strip('/')}"
        deadline = time.monotonic() + WEBHOOK_REGISTRATION_WAIT
        while True:
            try:
                with new_client(
                    timeout=self.webhook_timeout, verify=self.client.connection.tls_verify
                ) as http:
                    response = http.get(url)  # once: a proof must see the first answer
            except httpx.TransportError as exc:
                return CheckResult(WEBHOOK, False, f"webhook {path}: {type(exc).__name__}")
            not_registered = response.status_code == 404 and "not registered" in response.text
            if not not_registered or time.monotonic() > deadline:
                break
            time.sleep(0.5)  # waiting for n8n to register the webhook, bounded by the deadline
        ok = 200 <= response.status_code < 300
        return CheckResult(WEBHOOK, ok, f"webhook GET /webhook/{path}: {response.status_code}")

    def _retry(self, execution_id: str) -> CheckResult:
        try:
            execution = self.client.retry_execution(execution_id)
        except N8nError as exc:
            return CheckResult(
                RETRY_FAILED, False, f"retry of execution {execution_id}: {exc.message}"
            )
        ok = execution.status == "success"
        return CheckResult(
            RETRY_FAILED,
            ok,
            f"retry of execution {execution_id} -> {execution.id}: {execution.status}",
        )

    def _watch(self, workflow_ids: list[str], since: datetime, seconds: float) -> CheckResult:
        deadline = time.monotonic() + seconds
        successes = 0
        while time.monotonic() < deadline:
            successes, failure = self._executions_since(workflow_ids, since)
            if failure:
                return CheckResult(WATCH, False, f"execution {failure} failed after the change")
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))  # polling interval
        successes, failure = self._executions_since(workflow_ids, since)
        if failure:
            return CheckResult(WATCH, False, f"execution {failure} failed after the change")
        if successes == 0:
            return CheckResult(WATCH, False, f"no execution ran in {seconds:.0f}s: nothing proven")
        return CheckResult(WATCH, True, f"{successes} executions succeeded after the change")

    def _executions_since(self, workflow_ids: list[str], since: datetime) -> tuple[int, str | None]:
        successes = 0
        for workflow_id in workflow_ids:
            for execution in self.client.iter_executions(workflow_id=workflow_id, page_size=50):
                if execution.started_at is None or execution.started_at < since:
                    break
                if execution.status == "error":
                    return successes, execution.id
                successes += execution.status == "success"
        return successes, None
