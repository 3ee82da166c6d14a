"""Secrets never leak: not in output, logs, tracebacks, the audit trail or the journal's bytes."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import signal
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from keyturn.sandbox.demo_provider import DemoProvider
from keyturn.sandbox.workflows import DemoProviderClient, webhook_workflow
from tests.conftest import (
    CREDENTIAL_SHAPES,
    CliResult,
    N8nHandle,
    OpenBao,
    Partner,
    write_provider_config,
)
from tests.helpers import wait_until
from tests.integration import test_aws_iam, test_notifications
from tests.integration.test_notifications import Receiver, configure
from tests.integration.test_rotate_live import rotate_args
from tests.unit.test_redact import every_encoding

aws_user = test_aws_iam.aws_user  # fixtures: an IAM user on moto, a notification receiver
receiver = test_notifications.receiver


def every_file_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def test_no_plaintext_secret_anywhere(partner: Partner, run_cli: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad-key"
    bad.write_text("leaky-bad-value-0000\n")
    env = {**partner.env, "KEYTURN_LOG_LEVEL": "DEBUG"}
    # After the first rotation keyturn knows the current value and key id itself.
    known = {"--current-secret", "env:OLD_KEY", "--current-key-id", partner.key_id}
    later = [arg for arg in rotate_args(partner) if arg not in known]
    outputs = [
        run_cli("-vv", *rotate_args(partner), env=env),  # a full rotation, logs at debug
        run_cli(*later, "--new-secret", f"file:{bad}", "--verify", "webhook", env=env),
        run_cli(*later, env={**env, "KEYTURN_TEST_CRASH_AFTER": "set"}),
        run_cli("status", env=env),
        run_cli("status", "--json", env=env),
        run_cli("resume", "--json", env=env),
        run_cli("history", env=env),
        run_cli("history", "--json", env=env),
        run_cli("inventory", "--json", env=env),
        run_cli(*later, "--dry-run", env=env),
    ]
    codes = [result.code for result in outputs]
    assert codes == [0, 6, -signal.SIGKILL, 0, 0, 0, 0, 0, 0, 0], outputs
    assert partner.call_webhook() == 200
    assert "DEBUG" in outputs[0].stderr  # the debug logs were really written, and checked
    with partner.provider.state.lock:
        keys = [key.value for key in partner.provider.state.keys.values()]
    assert len(keys) >= 3
    secrets = [*keys, "leaky-bad-value-0000", partner.provider.admin_token, partner.n8n.api_key]

    state = Path(partner.env["KEYTURN_STATE_DIR"])
    written = "\n".join(result.stdout + result.stderr for result in outputs).encode()
    journal_bytes = [
        path.read_bytes() for path in every_file_under(state) if path.name != "master.key"
    ]
    assert journal_bytes, "the journal wrote nothing?"
    for secret in secrets:
        assert secret.encode() not in written, "a secret reached the output"
        for blob in journal_bytes:
            assert secret.encode() not in blob, "a secret reached the journal in clear"
    # Fingerprints stand in for secrets.
    assert b"fp:" in written


def test_state_files_are_private(partner: Partner, run_cli: Any) -> None:
    assert run_cli(*rotate_args(partner), env=partner.env).code == 0
    state = Path(partner.env["KEYTURN_STATE_DIR"])
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    for name in ("keyturn.db", "master.key"):
        assert stat.S_IMODE((state / name).stat().st_mode) == 0o600, name
    assert os.access(state / "master.key", os.R_OK)


# ---------------------------------------------------------------------------------------------
# Every provider and store, at -vv and -vvv, with awkward secrets, grepped in every encoding.

# `+ / = & %` and a space change under URL-encoding; ü and € under JSON, bytes and URL.
HEADER_OLD = "old+/=&%-Hd7q/Wm+Zk=9&x%2B1"  # header auth: HTTP headers carry ASCII only
HEADER_NEW = "new+/=&%-Pz3r/Lb+Yt=4&y%2F2"
QUERY_OLD = "old+/=&% ü€-Qm5t/Gh+Xc=8&z"
QUERY_NEW = "new+/=&% ü€-Rw2k/Nd+Vb=6&w"
VAULT_OLD = "vault-old+/=&% ü-Jf8s/Tq+Mc=3"
VAULT_NEW = "vault-new+/=&% €-Kg4p/Uy+Hn=7"
BAD = "bad+/=&% ü€-never-valid-0000"
VERBOSITIES = ["-vv", "-vvv"]


def leaked_encodings(blob: str, secret: str) -> list[str]:
    """Every way `secret` shows in `blob`: a known encoding, or a base64 run decoding to it."""
    found = [how for how, encoded in every_encoding(secret).items() if encoded in blob]
    raw = secret.encode()
    for run in re.findall(r"[A-Za-z0-9+/_-]{8,}", blob):
        for offset in range(4):
            chunk = run[offset:]
            chunk = chunk[: len(chunk) // 4 * 4]
            with contextlib.suppress(ValueError):
                if raw in base64.b64decode(
                    chunk, altchars=b"-_" if "-" in chunk or "_" in chunk else None
                ):
                    found.append(f"base64 inside {run[:12]}...")
    return found


@dataclass
class Written:
    """Everything a run of keyturn wrote that is not a write-back target."""

    texts: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, text: str) -> None:
        self.texts[name] = self.texts.get(name, "") + text

    def add_outputs(self, results: list[CliResult]) -> None:
        for number, result in enumerate(results):
            self.add(f"run {number} stdout", result.stdout)
            self.add(f"run {number} stderr", result.stderr)

    def add_files(self, folder: Path, *, skip: set[Path]) -> None:
        for path in every_file_under(folder):
            if path not in skip and path.name != "master.key":
                self.add(str(path), path.read_bytes().decode("utf-8", errors="replace"))

    def assert_free_of(self, secrets: list[str]) -> None:
        leaks = {
            (name, secret[:6], how)
            for name, text in self.texts.items()
            for secret in secrets
            for how in leaked_encodings(text, secret)
        }
        assert not leaks, "\n".join(map(str, sorted(leaks)))


def issue_key(provider: DemoProvider, value: str, label: str) -> str:
    response = httpx.post(
        f"{provider.url}/admin/keys",
        json={"label": label, "value": value},
        headers={"X-Admin-Token": provider.admin_token},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    key_id: str = response.json()["id"]
    return key_id


def awkward_partner(
    n8n: N8nHandle, provider: DemoProvider, tmp_path: Path, cred_type: str, old: str, new: str
) -> Partner:
    """Like the `partner` fixture, with an old key and a next issued key of our choosing."""
    admin = DemoProviderClient(provider.url, provider.admin_token)
    data_for, probe_auth = CREDENTIAL_SHAPES[cred_type]
    key_id = issue_key(provider, old, "initial")
    name = f"Awkward {cred_type}"
    credential = n8n.client.create_credential(name, cred_type, data_for(old))
    path = f"awkward-{credential.id.lower()}"
    workflow = n8n.client.create_workflow(
        webhook_workflow(
            f"Awkward {cred_type}", path, f"{provider.url}/v1/data", cred_type, credential
        )
    )
    assert workflow.id is not None
    n8n.client.activate_workflow(workflow.id)
    config = tmp_path / "keyturn.toml"
    write_provider_config(config, provider, probe_auth)
    # The provider issues the value we chose (the demo provider takes one): its answer carries it.
    config.write_text(
        config.read_text().replace(
            'idempotency_key = "{idempotency_token}" }',
            f'idempotency_key = "{{idempotency_token}}", value = {json.dumps(new)} }}',
        )
    )
    env = {
        **n8n.env(),
        "PARTNER_ADMIN_TOKEN": provider.admin_token,
        "KEYTURN_STATE_DIR": str(tmp_path / "state"),
        "OLD_KEY": old,
    }
    partner = Partner(n8n, provider, admin, credential.id, name, key_id, old, path, env)
    wait_until(lambda: partner.call_webhook() == 200, timeout=30)
    return partner


def assert_logged(results: list[CliResult], verbosity: str, libraries: tuple[str, ...]) -> None:
    """The logs the run promises were written (so the grep saw them), and no more."""
    stderr = "".join(result.stderr for result in results)
    assert " DEBUG keyturn" in stderr
    for library in libraries:
        assert (f" {library}" in stderr) == (verbosity == "-vvv"), library


@pytest.mark.parametrize("verbosity", VERBOSITIES)
@pytest.mark.parametrize(
    ("cred_type", "old", "new"),
    [("httpHeaderAuth", HEADER_OLD, HEADER_NEW), ("httpQueryAuth", QUERY_OLD, QUERY_NEW)],
    ids=["header", "query"],
)
def test_http_provider_file_env_file_and_notifications_leak_nothing(
    n8n: N8nHandle,
    provider: DemoProvider,
    receiver: Receiver,
    run_cli: Any,
    tmp_path: Path,
    verbosity: str,
    cred_type: str,
    old: str,
    new: str,
) -> None:
    partner = awkward_partner(n8n, provider, tmp_path, cred_type, old, new)
    env = configure(partner, receiver, tmp_path)
    secret_file = tmp_path / "deploy" / "partner_api_key"
    secret_file.parent.mkdir()
    secret_file.write_text(old + "\n")
    env_file = tmp_path / "deploy" / ".env"
    env_file.write_text(f'N8N_PORT=5678\nPARTNER_API_KEY="{old}"\n')
    bad = tmp_path / "inputs" / "bad"
    bad.parent.mkdir()
    bad.write_text(BAD + "\n")
    targets = [
        "--write-back",
        f"file:{secret_file}",
        "--write-back",
        f"env-file:{env_file}#PARTNER_API_KEY",
    ]
    later = ["rotate", partner.credential_id, "--provider", "partner", "--grace", "0s", "--json",
             "--verify-webhook", partner.webhook_path]  # fmt: skip

    results = [
        run_cli(verbosity, *rotate_args(partner, *targets), env=env),
        run_cli(verbosity, *later, *targets, "--new-secret", f"file:{bad}", "--verify", "webhook",
                env=env),
        run_cli(verbosity, "status", env=env),
        run_cli(verbosity, "history", "--json", env=env),
    ]  # fmt: skip
    assert [result.code for result in results] == [0, 6, 0, 0], results
    assert secret_file.read_text() == new + "\n"  # the rotation really happened, then held
    assert partner.call_webhook() == 200
    assert [body["outcome"] for path, _, body in receiver.posts if path == "/hooks/keyturn"] == [
        "success",
        "rollback",
    ]
    assert_logged(results, verbosity, ("httpx", "httpcore"))

    written = Written()
    written.add_outputs(results)
    written.add_files(tmp_path, skip={tmp_path / "keyturn.toml", secret_file, env_file, bad})
    bodies = [(path, body) for path, _, body in receiver.posts]  # the headers carry the hook token
    written.add("notifications", json.dumps(bodies, ensure_ascii=False))
    written.add("notifications (as sent)", json.dumps(bodies))
    written.assert_free_of([old, new, BAD, provider.admin_token, n8n.api_key, "hook-token-123"])


@pytest.mark.parametrize("verbosity", VERBOSITIES)
def test_vault_source_and_write_back_leak_nothing(
    n8n: N8nHandle,
    provider: DemoProvider,
    openbao: OpenBao,
    run_cli: Any,
    tmp_path: Path,
    verbosity: str,
) -> None:
    partner = awkward_partner(n8n, provider, tmp_path, "httpQueryAuth", VAULT_OLD, "unused-0000")
    issue_key(provider, VAULT_NEW, "from vault")
    root = openbao.client()
    token = root.auth.token.create(policies=["root"], ttl="2h")["auth"]["client_token"]
    path = f"n8n/leak-{partner.credential_id}"
    for where, value in ((path, VAULT_OLD), (f"{path}-next", VAULT_NEW)):
        root.secrets.kv.v2.create_or_update_secret(
            path=where, mount_point="secret", secret={"api_key": value}
        )
    env = {**partner.env, "VAULT_ADDR": openbao.url, "VAULT_TOKEN": token}
    results = [
        run_cli(verbosity, "rotate", partner.credential_id, "--provider", "partner",
                "--new-secret", f"vault:secret/{path}-next#api_key",
                "--current-key-id", partner.key_id,
                "--write-back", f"vault:secret/{path}#api_key",
                "--verify-webhook", partner.webhook_path, "--grace", "0s", "--json", env=env),
        run_cli(verbosity, "history", "--json", env=env),
    ]  # fmt: skip
    assert [result.code for result in results] == [0, 0], results
    written_back = root.secrets.kv.v2.read_secret_version(
        path=path, mount_point="secret", raise_on_deleted_version=True
    )
    assert written_back["data"]["data"] == {"api_key": VAULT_NEW}
    assert_logged(results, verbosity, ("urllib3", "httpx"))

    written = Written()
    written.add_outputs(results)
    written.add_files(tmp_path, skip={tmp_path / "keyturn.toml"})
    written.assert_free_of([VAULT_OLD, VAULT_NEW, token, provider.admin_token, n8n.api_key])


@pytest.mark.parametrize("verbosity", VERBOSITIES)
def test_aws_iam_leaks_nothing(aws_user: dict[str, Any], run_cli: Any, verbosity: str) -> None:
    """botocore logs CreateAccessKey's answer (the new secret) before keyturn sees it."""
    folder: Path = aws_user["dir"]
    new_secret_file = folder / "deploy" / "aws_secret"
    new_secret_file.parent.mkdir()
    new_secret_file.write_text(aws_user["key"]["SecretAccessKey"])
    results = [
        run_cli(verbosity, "rotate", aws_user["credential"].id, "--provider", "aws",
                "--verify", "probe", "--current-secret", f"file:{folder / 'old-secret'}",
                "--write-back", f"file:{new_secret_file}", "--grace", "0s", "--json",
                env=aws_user["env"]),
        run_cli(verbosity, "history", "--json", env=aws_user["env"]),
    ]  # fmt: skip
    assert [result.code for result in results] == [0, 0], results
    old, new = aws_user["key"]["SecretAccessKey"], new_secret_file.read_text().strip()
    assert new and new != old
    assert_logged(results, verbosity, ("botocore",))
    if verbosity == "-vvv":  # the answer was logged, and masked
        assert "<SecretAccessKey>[redacted]</SecretAccessKey>" in results[0].stderr

    written = Written()
    written.add_outputs(results)
    written.add_files(
        folder, skip={folder / "keyturn.toml", folder / "old-secret", new_secret_file}
    )
    written.assert_free_of([old, new, aws_user["env"]["KEYTURN_N8N_API_KEY"]])
