"""A failed execution -> its cause, node, credential and redacted error message."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from keyturn.core.redact import redact
from keyturn.detect.values import env_reads_in
from keyturn.doctor.model import Cause, FailedRun
from keyturn.n8n.client import N8nClient
from keyturn.n8n.models import Execution

MAX_MESSAGE = 240

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


def collect_failures(
    client: N8nClient, since: datetime, workflow_id: str | None
) -> list[FailedRun]:
    """The failed executions started since `since`, classified."""
    runs = []
    for execution in client.iter_executions(
        status="error", workflow_id=workflow_id, include_data=True, page_size=50
    ):
        if execution.started_at is not None and execution.started_at < since:
            break  # newest first: the rest is older than the window
        runs.append(classify(execution))
    return runs


def classify(execution: Execution) -> FailedRun:
    """Classify one failed execution from its data. Never raises: unknown shapes are
    `unclassified` with the raw message."""
    error = _error_of(execution.data)
    node: dict[str, Any] = error["node"] if isinstance(error.get("node"), dict) else {}
    http_code = str(error["httpCode"]) if error.get("httpCode") is not None else None
    text = _error_text(error, http_code)
    cred_type, ref = _credential_ref(node, text)
    return FailedRun(
        execution_id=execution.id,
        workflow_id=execution.workflow_id,
        started_at=execution.started_at,
        node_name=node.get("name") if isinstance(node.get("name"), str) else _last_node(execution),
        node_type=node.get("type") if isinstance(node.get("type"), str) else None,
        credential_id=str(ref["id"]) if ref.get("id") is not None else None,
        credential_name=ref.get("name") if isinstance(ref.get("name"), str) else None,
        credential_type=cred_type,
        cause=_cause(text, http_code, error),
        message=redact(text)[:MAX_MESSAGE] or "(no error message in the execution data)",
        http_code=http_code,
        env_variables=_secret_env_reads(node),
    )


def _credential_ref(node: dict[str, Any], text: str) -> tuple[str | None, dict[str, Any]]:
    """The credential type and reference of the failing node, or the one its error names."""
    credentials = node["credentials"] if isinstance(node.get("credentials"), dict) else {}
    cred_type, ref = next(iter(credentials.items()), (None, None))
    ref = ref if isinstance(ref, dict) else {}
    named = _MISSING_ID.search(text)
    if named and not ref.get("id"):  # a deleted credential: the error names it, not the node
        ref = {"id": named.group(1)}
        cred_type = named.group(2) or cred_type
    return cred_type, ref


def _secret_env_reads(node: dict[str, Any]) -> list[str]:
    """The secret-like `$env` variables the node's parameters read."""
    return [
        variable
        for variable, secret_like in env_reads_in(str(node.get("parameters", "")), "")
        if secret_like
    ]


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
