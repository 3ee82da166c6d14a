"""A native type whose fields are all defaults needs nothing but --new-secret and
--current-secret: an `ollamaApi` credential at its type's default address
(http://localhost:11434), where a stand-in Ollama behind an authenticating proxy answers."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from keyturn.core.errors import ExitCode
from keyturn.sandbox.load import LoadGenerator
from keyturn.sandbox.standin import StandIn
from keyturn.sandbox.workflows import webhook_workflow
from tests.conftest import N8nHandle
from tests.helpers import wait_until

OLLAMA_PORT = 11434  # ollamaApi's default baseUrl is http://localhost:11434


@pytest.fixture
def ollama() -> Iterator[StandIn]:
    try:
        server = StandIn(port=OLLAMA_PORT, root="ollama")
    except OSError:
        pytest.skip(f"port {OLLAMA_PORT} is taken on this machine (a real Ollama?)")
    with server:
        yield server


def test_defaults_only_no_probe_flags_no_set(
    n8n: N8nHandle, ollama: StandIn, run_cli: Any, tmp_path: Path
) -> None:
    old, new = f"ol-old-{secrets.token_urlsafe(12)}", f"ol-new-{secrets.token_urlsafe(12)}"
    ollama.accept("ollama", old)
    ollama.accept("ollama", new)
    # The UI fills in the default; keyturn, which cannot read it, assumes the same default.
    data = {"apiKey": old, "baseUrl": "http://localhost:11434"}
    credential = n8n.client.create_credential("Local LLM", "ollamaApi", data)
    workflow = webhook_workflow(
        "LLM models", "llm-models", "http://localhost:11434/api/tags", "ollamaApi", credential
    )
    node = workflow["nodes"][1]["parameters"]
    node.pop("genericAuthType")
    node.update(authentication="predefinedCredentialType", nodeCredentialType="ollamaApi")
    created = n8n.client.create_workflow(workflow)
    assert created.id is not None
    n8n.client.activate_workflow(created.id)
    webhook = f"{n8n.url}/webhook/llm-models"
    wait_until(lambda: httpx.get(webhook, timeout=30).status_code == 200, timeout=30)
    (tmp_path / "keyturn.toml").write_text("")
    (tmp_path / "new").write_text(new + "\n")
    (tmp_path / "bad").write_text("ol-refused-key-0000\n")
    env = {**n8n.env(), "KEYTURN_STATE_DIR": str(tmp_path / "state"), "OLD": old}
    args = ["rotate", credential.id, "--current-secret", "env:OLD", "--grace", "0s", "--json"]
    planned = run_cli(*args, "--new-secret", f"file:{tmp_path}/new", "--dry-run", env=env)
    assert planned.code == 0, planned.stderr
    plan = json.loads(planned.stdout)["plan"]
    assert plan["probe_request"] == "GET http://localhost:11434/api/tags; Authorization: Bearer ***"
    assert any("default baseUrl" in warning for warning in plan["warnings"])
    with LoadGenerator(webhook, rate_per_second=5, max_seconds=60) as load:
        load.wait_for(5)
        refused = run_cli(*args, "--new-secret", f"file:{tmp_path}/bad", env=env)
        rotated = run_cli(*args, "--new-secret", f"file:{tmp_path}/new", env=env)
        load.wait_for(load.stats.sent + 5)
    assert refused.code == ExitCode.ROTATION_FAILED, refused.stderr
    assert ollama.callers_of("ollama", "ol-refused-key-0000") == {"keyturn"}
    assert rotated.code == 0, rotated.stderr
    checks = {c["means"] for c in json.loads(rotated.stdout)["checks"] if c["ok"]}
    assert {"probe", "n8n-test"} <= checks
    assert load.stats.failed == 0, load.stats.outcomes
    ollama.revoke("ollama", old)
    assert httpx.get(webhook, timeout=30).status_code == 200  # n8n uses the new key
