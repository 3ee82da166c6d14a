"""Two secret fields rotated at once, killed (SIGKILL) after each step: `keyturn rollback`
puts both old values back, `keyturn resume` finishes with both new ones; never one field old
and the other new. n8n's own credential test against a stand-in that accepts only one pair
tells which pair n8n holds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from keyturn.core.errors import ExitCode
from keyturn.sandbox.standin import StandIn
from tests.conftest import N8nHandle

OLD = ("dd-api-old-000000000001", "dd-app-old-000000000001")
NEW = ("dd-api-new-000000000002", "dd-app-new-000000000002")


@pytest.fixture
def datadog(n8n: N8nHandle, tmp_path: Path) -> Iterator[dict[str, Any]]:
    with StandIn() as standin:
        standin.accept("datadog", *OLD)
        standin.accept("datadog", *NEW)
        url = standin.service_url("datadog")
        credential = n8n.client.create_credential(
            "Datadog two keys", "datadogApi", {"url": url, "apiKey": OLD[0], "appKey": OLD[1]}
        )
        (tmp_path / "api").write_text(NEW[0] + "\n")
        (tmp_path / "app").write_text(NEW[1] + "\n")
        (tmp_path / "keyturn.toml").write_text("")
        env = {
            **n8n.env(), "KEYTURN_STATE_DIR": str(tmp_path / "state"),
            "OLD_API": OLD[0], "OLD_APP": OLD[1],
        }  # fmt: skip
        args = [
            "rotate", credential.id, "--field", "apiKey", "--new-secret", f"file:{tmp_path}/api",
            "--field", f"appKey=file:{tmp_path}/app", "--current-secret", "env:OLD_API",
            "--current-secret", "appKey=env:OLD_APP", "--set", f"url={url}", "--grace", "0s",
        ]  # fmt: skip
        yield {"id": credential.id, "env": env, "args": args, "standin": standin}


def n8n_holds(n8n: N8nHandle, datadog: dict[str, Any], pair: tuple[str, str]) -> bool:
    """Whether n8n's credential test passes while the stand-in accepts only `pair`."""
    standin: StandIn = datadog["standin"]
    other = NEW if pair == OLD else OLD
    standin.revoke("datadog", *other)
    standin.accept("datadog", *pair)
    try:
        return n8n.client.test_credential(datadog["id"]).status == "OK"
    finally:
        standin.accept("datadog", *other)


@pytest.mark.parametrize("step", ["created", "set", "tested"])
def test_killed_then_rolled_back_both_fields_are_old_again(
    n8n: N8nHandle, datadog: dict[str, Any], run_cli: Any, step: str
) -> None:
    crashed = run_cli(*datadog["args"], env={**datadog["env"], "KEYTURN_TEST_CRASH_AFTER": step})
    assert crashed.code == -9, crashed.stderr
    rolled = run_cli("rollback", datadog["id"], "--json", env=datadog["env"])
    assert rolled.code == 0, rolled.stderr
    assert json.loads(rolled.stdout)["status"] == "rolled_back"
    assert n8n_holds(n8n, datadog, OLD)
    assert not n8n_holds(n8n, datadog, NEW)


@pytest.mark.parametrize("step", ["created", "set"])
def test_killed_then_resumed_both_fields_are_new(
    n8n: N8nHandle, datadog: dict[str, Any], run_cli: Any, step: str
) -> None:
    crashed = run_cli(*datadog["args"], env={**datadog["env"], "KEYTURN_TEST_CRASH_AFTER": step})
    assert crashed.code == -9, crashed.stderr
    resumed = run_cli("resume", "--json", env=datadog["env"])
    assert resumed.code == 0, resumed.stderr
    assert [r["status"] for r in json.loads(resumed.stdout)["resumed"]] == ["completed"]
    assert n8n_holds(n8n, datadog, NEW)
    assert not n8n_holds(n8n, datadog, OLD)
    # Then a restore of the previous value puts both old ones back.
    restored = run_cli("rollback", datadog["id"], "--json", env=datadog["env"])
    assert restored.code == 0, restored.stderr
    assert n8n_holds(n8n, datadog, OLD)


def test_a_failure_after_set_puts_both_old_values_back(
    n8n: N8nHandle, datadog: dict[str, Any], run_cli: Any
) -> None:
    failed = run_cli(*datadog["args"], env={**datadog["env"], "KEYTURN_TEST_FAIL_AFTER": "set"})
    assert failed.code == ExitCode.ROTATION_FAILED, failed.stderr
    assert "rolled back" in failed.stderr
    assert n8n_holds(n8n, datadog, OLD)
    assert not n8n_holds(n8n, datadog, NEW)


def test_a_refused_second_field_never_reaches_n8n(
    n8n: N8nHandle, datadog: dict[str, Any], run_cli: Any, tmp_path: Path
) -> None:
    (tmp_path / "app").write_text("dd-app-refused-000000000003\n")  # the pair is refused
    failed = run_cli(*datadog["args"], env=datadog["env"])
    assert failed.code == ExitCode.ROTATION_FAILED, failed.stderr
    assert "datadogApi test" in failed.stderr
    assert n8n_holds(n8n, datadog, OLD)
    assert "dd-a" not in failed.stdout + failed.stderr


def test_restoring_a_previous_value_writes_it_into_the_field_it_came_from(
    n8n: N8nHandle, datadog: dict[str, Any], run_cli: Any, tmp_path: Path
) -> None:
    """The API key rotated, then a rotation of the app key rolled back: a restore of the
    previous value puts the old API key back into apiKey (the field it was taken from)."""
    standin: StandIn = datadog["standin"]
    standin.accept("datadog", NEW[0], OLD[1])
    common = ["--grace", "0s", "--json", "--set", f"url={standin.service_url('datadog')}"]
    common += ["--verify", "n8n-test"]  # the stand-in checks both keys on every path
    first = run_cli(
        "rotate", datadog["id"], "--field", "apiKey", "--new-secret", f"file:{tmp_path}/api",
        "--current-secret", "env:OLD_API", *common, env=datadog["env"],
    )  # fmt: skip
    assert first.code == 0, first.stderr
    second = run_cli(
        "rotate", datadog["id"], "--field", "appKey", "--new-secret", f"file:{tmp_path}/app",
        "--current-secret", "env:OLD_APP", *common,
        env={**datadog["env"], "KEYTURN_TEST_FAIL_AFTER": "set"},
    )  # fmt: skip
    assert second.code == ExitCode.ROTATION_FAILED, second.stderr
    restored = run_cli("rollback", datadog["id"], "--json", env=datadog["env"])
    assert restored.code == 0, restored.stderr
    standin.revoke("datadog", NEW[0], OLD[1])  # only the pair before both rotations passes
    assert n8n_holds(n8n, datadog, OLD)
