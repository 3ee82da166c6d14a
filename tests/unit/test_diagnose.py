"""The failure classifier on recorded execution payloads, including shapes it has never seen."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyturn.doctor import Cause, classify
from keyturn.n8n.models import Execution
from tests.helpers import json_values

NODE = {
    "name": "Call partner API",
    "type": "n8n-nodes-base.httpRequest",
    "parameters": {"url": "http://127.0.0.1/v1/data"},
    "credentials": {"httpHeaderAuth": {"id": "c1", "name": "Partner API"}},
}


def execution(error: Any, **extra: Any) -> Execution:
    data = {"resultData": {"error": error, "lastNodeExecuted": "Call partner API", **extra}}
    return Execution.model_validate(
        {"id": "7", "workflowId": "w1", "status": "error", "data": data}
    )


def api_error(message: str, http_code: str | None, description: str = "") -> dict[str, Any]:
    return {"name": "NodeApiError", "message": message, "description": description,
            "httpCode": http_code, "node": NODE}  # fmt: skip


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (
            api_error(
                "Authorization failed - please check your credentials",
                "401",
                '{"error": "invalid api key"}',
            ),
            Cause.AUTH_REFUSED,
        ),
        (api_error("Forbidden - perhaps check your credentials?", "403"), Cause.AUTH_REFUSED),
        (
            api_error("Bad request", "400", "Missing required authentication header"),
            Cause.AUTH_REFUSED,
        ),
        (
            api_error("The service is receiving too many requests from you", "429"),
            Cause.RATE_LIMITED,
        ),
        (
            api_error("invalid_grant", "400", "Token has been expired or revoked."),
            Cause.OAUTH_EXPIRED,
        ),
        (
            api_error("The service refused the connection - perhaps it is offline", "ECONNREFUSED"),
            Cause.NETWORK,
        ),
        (api_error("unable to verify the first certificate", None), Cause.NETWORK),
        (
            api_error("The resource you are requesting could not be found", "404"),
            Cause.NOT_CREDENTIAL,
        ),
        (
            {
                "name": "NodeOperationError",
                "node": NODE,
                "message": 'Node "Call partner API" does not have any credentials set for '
                '"httpHeaderAuth"',
            },
            Cause.CREDENTIAL_NOT_SET,
        ),
        (
            {
                "name": "NodeOperationError",
                "message": "Cannot read properties of undefined (reading 'x')",
                "node": {"name": "Code", "type": "n8n-nodes-base.code"},
            },
            Cause.NOT_CREDENTIAL,
        ),
    ],
)
def test_recorded_payloads(error: dict[str, Any], cause: Cause) -> None:
    run = classify(execution(error))
    assert run.cause is cause
    if "credentials" in error.get("node", {}):
        assert (run.credential_id, run.credential_name) == ("c1", "Partner API")
        assert run.node_name == "Call partner API"


def test_deleted_credential_is_named_from_the_message() -> None:
    error = {"message": 'Credential with ID "gone42" does not exist for type "httpHeaderAuth".'}
    run = classify(execution(error))
    assert run.cause is Cause.CREDENTIAL_MISSING
    assert (run.credential_id, run.credential_type) == ("gone42", "httpHeaderAuth")
    assert run.node_name == "Call partner API"  # from lastNodeExecuted


def test_node_level_error_when_the_top_level_is_missing() -> None:
    run_data = {"Call partner API": [{"error": api_error("Authorization failed", "401")}]}
    data = {"resultData": {"runData": run_data}}
    run = classify(Execution.model_validate({"id": "8", "status": "error", "data": data}))
    assert run.cause is Cause.AUTH_REFUSED and run.credential_id == "c1"


def test_env_reads_in_the_failing_node() -> None:
    node = {**NODE, "credentials": {}, "parameters": {"headerParameters": {"parameters": [
        {"name": "X-API-Key", "value": "={{ $env.PARTNER_API_KEY }}"}]}}}  # fmt: skip
    run = classify(execution({"message": "Authorization failed", "httpCode": "401", "node": node}))
    assert run.env_variables == ["PARTNER_API_KEY"]


@pytest.mark.parametrize("data", [None, {}, {"resultData": None}, {"resultData": {"error": "boom"}},
                                  {"resultData": {"runData": {"x": "y"}}}])  # fmt: skip
def test_unknown_shapes_are_unclassified(data: Any) -> None:
    run = classify(Execution.model_validate({"id": "9", "status": "error", "data": data}))
    assert run.cause is Cause.UNCLASSIFIED
    assert run.message


@settings(max_examples=200)
@given(error=json_values, extra=st.dictionaries(st.text(max_size=10), json_values, max_size=3))
def test_never_crashes(error: Any, extra: dict[str, Any]) -> None:
    data = {"resultData": {"error": error, **extra}}
    run = classify(Execution.model_validate({"id": "1", "status": "error", "data": data}))
    assert isinstance(run.cause, Cause)
