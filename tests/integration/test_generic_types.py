"""Given once, remembered: a generic credential's probe placement (`--probe-auth auto` finds
it with the new key), and the checks on several secret fields rotated at once, against a
real n8n and the real demo provider."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from keyturn.core.errors import ExitCode
from keyturn.sandbox.demo_provider import DemoProvider
from tests.conftest import N8nHandle, Partner, write_provider_config


def test_probe_auth_auto_finds_the_placement_and_the_next_rotation_remembers_it(
    partner: Partner, provider: DemoProvider, tmp_path: Path, run_cli: Any
) -> None:
    write_provider_config(tmp_path / "keyturn.toml", provider, None)  # no provider probe
    probe = f"{provider.url}/v1/ping"
    common = ["--provider", "partner", "--grace", "0s", "--json"]
    planned = run_cli(
        "rotate", partner.credential_id, *common, "--current-secret", "env:OLD_KEY",
        "--probe-url", probe, "--probe-auth", "auto", "--dry-run", env=partner.env,
    )  # fmt: skip
    assert planned.code == 0, planned.stderr
    assert json.loads(planned.stdout)["plan"]["probe_auth"] == "auto"
    provider.state.reset_counters()
    result = run_cli(
        "rotate", partner.credential_id, *common, "--current-secret", "env:OLD_KEY",
        "--current-key-id", partner.key_id, "--probe-url", probe, "--probe-auth", "auto",
        env=partner.env,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    probes = [c for c in json.loads(result.stdout)["checks"] if c["means"] == "probe"]
    assert probes and all(c["ok"] for c in probes)
    # httpHeaderAuth tries headers only: X-API-Key first, accepted; a random key refused.
    refused_by_keyturn = provider.state.stats()["refused_by"].get("keyturn", 0)
    assert refused_by_keyturn == 1  # the decoy, nothing else
    assert partner.call_webhook() == 200
    again = run_cli("rotate", partner.credential_id, *common, "--dry-run", env=partner.env)
    assert again.code == 0, again.stderr
    plan = json.loads(again.stdout)["plan"]
    assert (plan["probe_url"], plan["probe_auth"]) == (probe, "header:X-API-Key")
    assert "probe" in plan["verify"]


@pytest.fixture
def datadog(n8n: N8nHandle, tmp_path: Path) -> dict[str, Any]:
    credential = n8n.client.create_credential(
        "Datadog prod",
        "datadogApi",
        {"url": "http://127.0.0.1:9", "apiKey": "dd-api-old-0001", "appKey": "dd-app-old-0001"},
    )
    (tmp_path / "keyturn.toml").write_text("")
    for name in ("new-api", "new-app"):
        (tmp_path / name).write_text(f"dd-{name}-value-0002\n")
    env = {
        **n8n.env(),
        "KEYTURN_STATE_DIR": str(tmp_path / "state"),
        "OLD_API": "dd-api-old-0001",
        "OLD_APP": "dd-app-old-0001",
    }
    return {"id": credential.id, "env": env, "dir": tmp_path}


def datadog_args(datadog: dict[str, Any], *extra: str) -> list[str]:
    folder = datadog["dir"]
    return [
        "rotate", datadog["id"], "--field", "apiKey", "--new-secret", f"file:{folder}/new-api",
        "--set", "url=http://127.0.0.1:9", "--grace", "0s", "--dry-run", "--json", *extra,
    ]  # fmt: skip


def test_several_fields_plan_with_their_sources_and_masked_probe(
    datadog: dict[str, Any], run_cli: Any
) -> None:
    folder = datadog["dir"]
    result = run_cli(
        *datadog_args(
            datadog, "--field", f"appKey=file:{folder}/new-app",
            "--current-secret", "env:OLD_API", "--current-secret", "appKey=env:OLD_APP",
        ),
        env=datadog["env"],
    )  # fmt: skip
    assert result.code == 0, result.stderr
    plan = json.loads(result.stdout)["plan"]
    assert plan["extra_secrets"] == {"appKey": f"file:{folder}/new-app"}
    assert plan["current_extras"] == {"appKey": "env:OLD_APP"}
    assert "appKey too" in plan["rollback"]
    request = plan["probe_request"]
    assert "DD-API-KEY: ***" in request and "DD-APPLICATION-KEY: ***" in request
    assert "dd-" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--field", "appKey=env:OLD_APP"], "--current-secret appKey=SOURCE"),
        (["--field", "appKey=provider"], "provider issues the main secret only"),
        (["--field", "noSuchField=env:OLD_APP"], "has no field 'noSuchField'"),
        (["--field", "apiKey=env:OLD_APP"], "rotated or set twice"),
        (["--field", "appKey=env:X", "--current-secret", "url=env:X"], "does not change"),
        (["--field", "appKey=env:X", "--write-back", "file:/tmp/x"], "changes 2 fields"),
        (
            [
                "--field",
                "appKey=stdin",
                "--current-secret",
                "stdin",
                "--current-secret",
                "appKey=env:OLD_APP",
            ],
            "Only one of",
        ),
    ],
)
def test_several_fields_refused_with_one_clear_line_and_nothing_changed(
    datadog: dict[str, Any], n8n: N8nHandle, run_cli: Any, extra: list[str], message: str
) -> None:
    before = n8n.client.list_credentials()
    args = datadog_args(datadog, *extra)
    if "--current-secret" not in extra:
        args += ["--current-secret", "env:OLD_API"]
    if message == "Only one of":
        args.remove("--dry-run")  # stdin is read only when the rotation runs
    result = run_cli(*args, env=datadog["env"], stdin="dd-from-stdin-0003\n")
    assert result.code == ExitCode.USAGE, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert n8n.client.list_credentials() == before


def test_several_fields_with_a_probe_url_are_proven_by_the_types_own_test(
    datadog: dict[str, Any], run_cli: Any
) -> None:
    """A probe URL sends the main secret only; the type's test request sends every field,
    so it is the one used (and a probe URL remembered from an earlier rotation is no bar)."""
    folder = datadog["dir"]
    result = run_cli(
        *datadog_args(
            datadog, "--field", f"appKey=file:{folder}/new-app", "--current-secret",
            "env:OLD_API", "--current-secret", "appKey=env:OLD_APP",
            "--probe-url", "http://127.0.0.1:9/ping", "--probe-auth", "header:DD-API-KEY",
        ),
        env=datadog["env"],
    )  # fmt: skip
    assert result.code == 0, result.stderr
    plan = json.loads(result.stdout)["plan"]
    assert plan["probe_type"] == "datadogApi"
    assert "DD-APPLICATION-KEY: ***" in plan["probe_request"]
