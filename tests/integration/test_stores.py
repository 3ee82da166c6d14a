"""Stores that follow a rotation: a secret file, a .env variable, OpenBao (Vault) KV v2 —
real files and a real OpenBao dev server, through the real CLI."""

from __future__ import annotations

import json
import os
import signal
import stat
from pathlib import Path
from typing import Any

import pytest

from keyturn.core.errors import ExitCode
from tests.conftest import OpenBao, Partner
from tests.integration.test_rotate_live import rotate_args

ENV_TEXT = """# deploy settings
N8N_PORT=5678
export PARTNER_API_KEY="{key}"   # rotated by keyturn
LOG_LEVEL=info
"""


def current_key(partner: Partner) -> str:
    """The only active key's value at the provider."""
    with partner.provider.state.lock:
        (key,) = [k.value for k in partner.provider.state.keys.values() if not k.revoked]
    return key


def test_file_and_env_file_follow_the_rotation(
    partner: Partner, run_cli: Any, tmp_path: Path
) -> None:
    secret_file = tmp_path / "partner_api_key"
    secret_file.write_text(partner.key + "\n")
    os.chmod(secret_file, 0o640)
    env_file = tmp_path / "deploy" / ".env"
    env_file.parent.mkdir()
    env_file.write_text(ENV_TEXT.format(key=partner.key))
    stale = tmp_path / "deploy" / ".env.staging"
    stale.write_text(f"PARTNER_API_KEY={partner.key}\n")

    targets = [
        "--write-back",
        f"file:{secret_file}",
        "--write-back",
        f"env-file:{env_file}#PARTNER_API_KEY",
    ]
    plan = json.loads(run_cli(*rotate_args(partner, "--dry-run", *targets), env=partner.env).stdout)
    assert plan["plan"]["write_back"] == [
        f"file:{secret_file}",
        f"env-file:{env_file}#PARTNER_API_KEY",
    ]
    result = run_cli(*rotate_args(partner, *targets), env=partner.env)
    assert result.code == 0, result.stderr

    new_key = current_key(partner)
    assert secret_file.read_text() == new_key + "\n"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o640  # mode kept
    assert env_file.read_text() == ENV_TEXT.format(key=new_key)  # comments, order, quoting kept
    # The backup (0600, the old key inside) lived until the rotation finished.
    assert not env_file.with_name(".env.keyturn.bak").exists()
    assert str(stale) in result.stderr  # another .env still holds the old value


def test_failed_rotation_puts_the_files_back(
    partner: Partner, run_cli: Any, tmp_path: Path
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(ENV_TEXT.format(key=partner.key))
    bad = tmp_path / "bad"
    bad.write_text("not-a-valid-key-0000\n")
    result = run_cli(
        *rotate_args(partner, "--new-secret", f"file:{bad}", "--verify", "webhook",
                     "--write-back", f"env-file:{env_file}#PARTNER_API_KEY"),
        env=partner.env,
    )  # fmt: skip
    assert result.code == ExitCode.ROTATION_FAILED
    assert env_file.read_text() == ENV_TEXT.format(key=partner.key)
    assert partner.call_webhook() == 200


def test_unwritable_target_is_refused_before_anything_changes(
    partner: Partner, run_cli: Any, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    result = run_cli(*rotate_args(partner, "--write-back", f"file:{blocker}/key"), env=partner.env)
    assert result.code == ExitCode.PROVIDER and "does not exist" in result.stderr
    missing_var = tmp_path / ".env"
    missing_var.write_text("OTHER=1\n")
    result = run_cli(
        *rotate_args(partner, "--write-back", f"env-file:{missing_var}#PARTNER_API_KEY"),
        env=partner.env,
    )
    assert result.code == ExitCode.PROVIDER and "has no variable PARTNER_API_KEY" in result.stderr
    assert partner.active_keys() == [partner.key_id]
    assert json.loads(run_cli("status", "--json", env=partner.env).stdout)["in_flight"] == []


def vault_env(partner: Partner, openbao: OpenBao, token: str = "root") -> dict[str, str]:
    return {**partner.env, "VAULT_ADDR": openbao.url, "VAULT_TOKEN": token}


def kv(openbao: OpenBao, path: str) -> dict[str, Any]:
    response = openbao.client().secrets.kv.v2.read_secret_version(
        path=path, mount_point="secret", raise_on_deleted_version=True
    )
    data: dict[str, Any] = response["data"]
    return data


def test_vault_source_and_write_back(partner: Partner, openbao: OpenBao, run_cli: Any) -> None:
    client = openbao.client()
    path = f"n8n/{partner.credential_id}"
    client.secrets.kv.v2.create_or_update_secret(
        path=path, mount_point="secret", secret={"api_key": partner.key, "owner": "team-a"}
    )
    # The new key is issued by hand and put in Vault; keyturn reads it from there and writes
    # the rotated value back to a second path, keeping the version history.
    _, new_key = partner.admin.issue_key("from vault")
    client.secrets.kv.v2.create_or_update_secret(
        path=f"{path}-next", mount_point="secret", secret={"api_key": new_key}
    )
    args = ["rotate", partner.credential_id, "--new-secret", f"vault:secret/{path}-next#api_key",
            "--write-back", f"vault:secret/{path}#api_key", "--verify-webhook",
            partner.webhook_path, "--probe-url", f"{partner.provider.url}/v1/ping",
            "--probe-auth", "header:X-API-Key", "--grace", "0s", "--json"]  # fmt: skip
    result = run_cli(*args, env=vault_env(partner, openbao))
    assert result.code == 0, result.stderr
    # No --current-secret: the previous value came from Vault, so a rollback was possible.
    assert json.loads(result.stdout)["previous_fingerprint"] is not None
    written = kv(openbao, path)
    assert written["data"] == {"api_key": new_key, "owner": "team-a"}
    assert written["metadata"]["version"] == 2  # history kept
    assert partner.call_webhook() == 200
    assert new_key not in result.stdout + result.stderr


def test_vault_bad_token_is_refused_before_anything_changes(
    partner: Partner, openbao: OpenBao, run_cli: Any
) -> None:
    result = run_cli(
        *rotate_args(partner, "--write-back", "vault:secret/n8n/x#api_key"),
        env=vault_env(partner, openbao, token="not-a-token"),
    )
    assert result.code == ExitCode.PROVIDER and "refused the token" in result.stderr
    assert partner.active_keys() == [partner.key_id]


def test_vault_sealed_mid_rotation_rolls_everything_back(
    partner: Partner, openbao: OpenBao, run_cli: Any, tmp_path: Path
) -> None:
    client = openbao.client()
    path = f"n8n/sealed-{partner.credential_id}"
    client.secrets.kv.v2.create_or_update_secret(
        path=path, mount_point="secret", secret={"api_key": partner.key}
    )
    env_file = tmp_path / ".env"
    env_file.write_text(ENV_TEXT.format(key=partner.key))
    targets = [
        "--write-back",
        f"env-file:{env_file}#PARTNER_API_KEY",
        "--write-back",
        f"vault:secret/{path}#api_key",
    ]
    env = vault_env(partner, openbao)
    crashed = run_cli(
        *rotate_args(partner, *targets), env={**env, "KEYTURN_TEST_CRASH_AFTER": "created"}
    )
    assert crashed.code == -signal.SIGKILL
    client.sys.seal()
    try:
        resumed = run_cli("resume", env=env)
    finally:
        client.sys.submit_unseal_key(openbao.unseal_key)
    assert resumed.code == ExitCode.PROVIDER, resumed.stderr
    assert "sealed" in resumed.stderr and "rolled back" in resumed.stderr
    assert env_file.read_text() == ENV_TEXT.format(key=partner.key)  # put back
    assert kv(openbao, path)["data"] == {"api_key": partner.key}  # never changed
    assert partner.call_webhook() == 200
    assert partner.active_keys() == [partner.key_id]  # the pending key was revoked


def test_vault_approle_and_token_file(
    partner: Partner, openbao: OpenBao, run_cli: Any, tmp_path: Path
) -> None:
    root = openbao.client()
    path = f"n8n/approle-{partner.credential_id}"
    root.secrets.kv.v2.create_or_update_secret(
        path=path, mount_point="secret", secret={"api_key": partner.key}
    )
    if "approle/" not in root.sys.list_auth_methods():
        root.sys.enable_auth_method("approle")
    policy = f'path "secret/data/{path}" {{ capabilities = ["read", "create", "update"] }}'
    root.sys.create_or_update_policy(name=f"keyturn-{partner.credential_id}", policy=policy)
    role = f"keyturn-{partner.credential_id.lower()}"
    root.auth.approle.create_or_update_approle(
        role, token_policies=[f"keyturn-{partner.credential_id}"]
    )
    role_id = root.auth.approle.read_role_id(role)["data"]["role_id"]
    secret_id = root.auth.approle.generate_secret_id(role)["data"]["secret_id"]
    config = tmp_path / "keyturn.toml"
    config.write_text(
        config.read_text() + f'\n[vault]\naddr = "{openbao.url}"\napprole_role_id = "{role_id}"\n'
        'approle_secret_id_env = "BAO_SECRET_ID"\n'
    )
    env = {**partner.env, "BAO_SECRET_ID": secret_id}
    result = run_cli(*rotate_args(partner, "--write-back", f"vault:secret/{path}#api_key"), env=env)
    assert result.code == 0, result.stderr
    assert kv(openbao, path)["data"]["api_key"] == current_key(partner)

    # A token in a file (no VAULT_TOKEN): a read-only token is refused before anything changes.
    read_only = root.auth.token.create(policies=["default"])["auth"]["client_token"]
    token_file = tmp_path / "vault-token"
    token_file.write_text(read_only + "\n")
    config.write_text(
        config.read_text().split("\n[vault]")[0]
        + f'\n[vault]\naddr = "{openbao.url}"\ntoken_file = "{token_file}"\n'
    )
    before = current_key(partner)
    refused = run_cli(
        "rotate", partner.credential_id, "--provider", "partner", "--grace", "0s",
        "--write-back", f"vault:secret/{path}#api_key", env=partner.env,
    )  # fmt: skip
    assert refused.code == ExitCode.PROVIDER and "may not write" in refused.stderr
    assert current_key(partner) == before


def test_scan_old_secret_from_vault_uses_keyturn_toml(
    partner: Partner, openbao: OpenBao, run_cli: Any, tmp_path: Path
) -> None:
    """`keyturn scan --old-secret vault:...` logs in with [vault] of keyturn.toml (no VAULT_*)."""
    path = f"n8n/scan-{partner.credential_id}"
    openbao.client().secrets.kv.v2.create_or_update_secret(
        path=path, mount_point="secret", secret={"api_key": partner.key}
    )
    token_file = tmp_path / "vault-token"
    token_file.write_text(openbao.root_token + "\n")
    config = tmp_path / "keyturn.toml"
    config.write_text(
        config.read_text() + f'\n[vault]\naddr = "{openbao.url}"\ntoken_file = "{token_file}"\n'
    )
    leftover = tmp_path / "deploy" / ".env.staging"
    leftover.parent.mkdir()
    leftover.write_text(f"PARTNER_API_KEY={partner.key}\n")
    env = {k: v for k, v in partner.env.items() if not k.startswith("VAULT_")}
    result = run_cli(
        "scan", str(leftover.parent), "--old-secret", f"vault:secret/{path}#api_key", "--json",
        env=env,
    )  # fmt: skip
    assert result.code == ExitCode.FINDINGS, result.stderr
    findings = json.loads(result.stdout)["findings"]
    found = {f["rule_id"] for f in findings if f["location"]["path"].endswith(".env.staging")}
    assert "KT009" in found, findings
    assert partner.key not in result.stdout + result.stderr


def approle_config(
    openbao: OpenBao, name: str, paths: list[str], config: Path, **role: Any
) -> dict[str, str]:
    """An AppRole allowed to read and write `paths`, written as [vault] in keyturn.toml; the
    environment that carries its secret id."""
    root = openbao.client()
    if "approle/" not in root.sys.list_auth_methods():
        root.sys.enable_auth_method("approle")
    policy = "\n".join(
        f'path "secret/data/{path}" {{ capabilities = ["read", "create", "update"] }}'
        for path in paths
    )
    root.sys.create_or_update_policy(name=name, policy=policy)
    root.auth.approle.create_or_update_approle(name, token_policies=[name], **role)
    role_id = root.auth.approle.read_role_id(name)["data"]["role_id"]
    secret_id = root.auth.approle.generate_secret_id(name)["data"]["secret_id"]
    config.write_text(
        config.read_text() + f'\n[vault]\naddr = "{openbao.url}"\napprole_role_id = "{role_id}"\n'
        'approle_secret_id_env = "BAO_SECRET_ID"\n'
    )
    return {"BAO_SECRET_ID": secret_id}


def test_vault_approle_logs_in_once_so_a_single_use_secret_id_lasts_through_a_rollback(
    partner: Partner, openbao: OpenBao, run_cli: Any, tmp_path: Path
) -> None:
    """A secret id good for one login: keyturn logs in once per run and uses that token for
    the source, the write-back target, and the rollback that puts the target back."""
    root = openbao.client()
    path = f"n8n/once-{partner.credential_id}"
    root.secrets.kv.v2.create_or_update_secret(
        path=path, mount_point="secret", secret={"api_key": partner.key}
    )
    root.secrets.kv.v2.create_or_update_secret(
        path=f"{path}-next", mount_point="secret", secret={"api_key": "not-a-valid-key-0000"}
    )
    secret_id = approle_config(
        openbao, f"once-{partner.credential_id.lower()}", [path, f"{path}-next"],
        tmp_path / "keyturn.toml", secret_id_num_uses=1,
    )  # fmt: skip
    env = {k: v for k, v in partner.env.items() if not k.startswith("VAULT_")}
    result = run_cli(
        "rotate", partner.credential_id, "--new-secret", f"vault:secret/{path}-next#api_key",
        "--current-secret", "env:OLD_KEY", "--write-back", f"vault:secret/{path}#api_key",
        "--verify", "webhook", "--verify-webhook", partner.webhook_path, "--grace", "0s",
        env={**env, **secret_id},
    )  # fmt: skip
    assert result.code == ExitCode.ROTATION_FAILED, result.stderr
    assert "rolled back" in result.stderr
    restored = kv(openbao, path)
    assert restored["data"] == {"api_key": partner.key}
    assert restored["metadata"]["version"] == 3  # written, then put back
    assert partner.call_webhook() == 200


@pytest.mark.parametrize(
    ("role", "reason"),
    [
        ({"token_ttl": "20s", "token_max_ttl": "20s"}, "expires in"),
        ({"token_num_uses": 4}, "uses left"),
    ],
)
def test_vault_token_that_would_run_out_mid_rotation_is_refused_before_anything_changes(
    partner: Partner,
    openbao: OpenBao,
    run_cli: Any,
    tmp_path: Path,
    role: dict[str, Any],
    reason: str,
) -> None:
    root = openbao.client()
    path = f"n8n/short-{partner.credential_id}"
    root.secrets.kv.v2.create_or_update_secret(
        path=path, mount_point="secret", secret={"api_key": partner.key}
    )
    name = f"short-{partner.credential_id.lower()}"
    secret_id = approle_config(openbao, name, [path], tmp_path / "keyturn.toml", **role)
    env = {k: v for k, v in partner.env.items() if not k.startswith("VAULT_")}
    result = run_cli(
        *rotate_args(partner, "--write-back", f"vault:secret/{path}#api_key"),
        env={**env, **secret_id},
    )
    assert result.code == ExitCode.PROVIDER, result.stderr
    assert reason in result.stderr and len(result.stderr.strip().splitlines()) <= 2
    assert partner.active_keys() == [partner.key_id]
    assert kv(openbao, path)["metadata"]["version"] == 1
