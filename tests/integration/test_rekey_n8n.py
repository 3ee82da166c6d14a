"""`keyturn rekey` on real n8n: 2.40.7 on SQLite and on PostgreSQL, 1.123.81 on SQLite.

Each instance gets what a production one has: credentials of several types used by live
webhook workflows (the demo provider answers only the right key), an n8nApi credential (n8n's
own credential test calls n8n's API with the key it decrypts), a member with MFA on, and an API
key. n8n is stopped, rekeyed, and started on the new key, read from the file the rekey wrote
back (as a Docker secret would be): every workflow runs, n8n's credential test passes, the MFA
member logs in, the old API key works.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from keyturn.n8n.client import N8nClient
from keyturn.sandbox.demo_provider import DemoProvider
from keyturn.sandbox.n8n_server import LocalN8n
from keyturn.sandbox.workflows import DemoProviderClient, seed_demo
from tests.conftest import CliResult, connection_for
from tests.helpers import n8n_postgres_env, wait_until
from tests.n8n_people import (
    MEMBER_PASSWORD,
    MfaUser,
    create_member,
    enable_mfa,
    login,
    login_with_mfa,
    login_with_recovery_code,
)

Run = Callable[..., CliResult]
WEBHOOKS = ("partner-sync", "partner-sync-query", "partner-sync-basic")
MEMBER = "mfa.member@keyturn.test"


@dataclass
class Instance:
    server: LocalN8n
    tmp_path: Path
    member: MfaUser
    n8n_api_credential: str

    @property
    def n8n_dir(self) -> Path:
        return self.server.user_folder / ".n8n"

    @property
    def key_file(self) -> Path:
        return self.server.user_folder / "encryption.key"  # what LocalN8n passes to n8n

    def env(self, **extra: str) -> dict[str, str]:
        return {"KEYTURN_STATE_DIR": str(self.tmp_path / "state"),
                **{k: v for k, v in self.server.extra_env.items() if k.startswith("DB_")},
                **extra}  # fmt: skip

    def rekey(self, run_cli: Run, *args: str, **env: str) -> CliResult:
        return run_cli("rekey", "--n8n-dir", str(self.n8n_dir), *args, env=self.env(**env))


def start_seeded(tmp_path: Path, provider: DemoProvider, version: str = "2.40.7",
                 extra_env: dict[str, str] | None = None) -> Instance:  # fmt: skip
    server = LocalN8n(user_folder=tmp_path / "n8n", version=version, extra_env=extra_env)
    server.start()
    admin = DemoProviderClient(provider.url, provider.admin_token)
    with N8nClient(connection_for(server, login=True)) as client:
        seed_demo(client, admin)
        api = {"apiKey": server.api_key, "baseUrl": f"{server.url}/api/v1"}
        n8n_api = client.create_credential("n8n's own API", "n8nApi", api)
    create_member(server.url, MEMBER)
    member = enable_mfa(server.url, MEMBER, MEMBER_PASSWORD)
    instance = Instance(server, tmp_path, member, n8n_api.id)
    wait_until(lambda: all_webhooks_answer(instance), timeout=60)
    return instance


def all_webhooks_answer(instance: Instance) -> bool:
    url = instance.server.url
    return all(httpx.get(f"{url}/webhook/{path}", timeout=30).status_code == 200
               for path in WEBHOOKS)  # fmt: skip


def assert_everything_works(instance: Instance) -> None:
    """After a start: what each encrypted place and each derived secret is for, used by n8n."""
    server = instance.server
    assert wait_until(lambda: all_webhooks_answer(instance), timeout=60)
    with N8nClient(connection_for(server, login=True)) as client:
        verdict = client.test_credential(instance.n8n_api_credential)
    assert verdict.status == "OK", verdict
    headers = {"X-N8N-API-KEY": server.api_key}
    assert httpx.get(f"{server.url}/api/v1/workflows", headers=headers).status_code == 200
    member = instance.member
    assert login(server.url, MEMBER, MEMBER_PASSWORD).status_code == 401  # MFA still asked
    assert login_with_mfa(server.url, MEMBER, MEMBER_PASSWORD, member.secret).status_code == 200
    code = member.recovery_codes.pop()
    assert login_with_recovery_code(server.url, MEMBER, MEMBER_PASSWORD, code).status_code == 200


def config_key(instance: Instance) -> str:
    key: str = json.loads((instance.n8n_dir / "config").read_text())["encryptionKey"]
    return key


@pytest.fixture
def sqlite_instance(tmp_path: Path, provider: DemoProvider) -> Iterator[Instance]:
    instance = start_seeded(tmp_path, provider)
    yield instance
    instance.server.stop()


def test_sqlite_2x_refused_running_crash_rekey_restore(
    sqlite_instance: Instance, run_cli: Run, tmp_path: Path
) -> None:
    instance, server = sqlite_instance, sqlite_instance.server
    old_key = instance.key_file.read_text()
    (tmp_path / "new.key").write_text("rekeyed-" + "k" * 40)
    write_back = ("--write-back", f"file:{instance.key_file}")
    args = ("--new-key-file", str(tmp_path / "new.key"), *write_back)

    refused = instance.rekey(run_cli, *args, "--n8n-url", server.url)
    assert refused.code == 7, refused.stderr
    assert "holds" in refused.stderr and f"n8n answers on {server.url}" in refused.stderr
    server.stop()

    plan = instance.rekey(run_cli, *args, "--dry-run", "--json")
    assert plan.code == 0, plan.stderr
    counts = json.loads(plan.stdout)["reencrypted"]
    assert counts["credentials_entity.data"] == 7  # seed_demo's 6 and n8nApi
    assert counts["user.mfaSecret"] == 1 and counts["user.mfaRecoveryCodes"] == 10
    assert counts["deployment_key signing.jwt"] == 1

    crashed = instance.rekey(run_cli, *args, KEYTURN_TEST_CRASH_AFTER="rekey.mid-transaction")
    assert crashed.code == -9
    assert config_key(instance) == old_key == instance.key_file.read_text()
    server.start()  # on the old key: the transaction never happened
    assert wait_until(lambda: all_webhooks_answer(instance), timeout=60)
    server.stop()

    done = instance.rekey(run_cli, *args, "--json")
    assert done.code == 0, done.stderr
    assert instance.key_file.read_text() == config_key(instance) == "rekeyed-" + "k" * 40
    server.start()
    assert_everything_works(instance)
    server.stop()

    restored = instance.rekey(run_cli, "--restore", json.loads(done.stdout)["backup"])
    assert restored.code == 0, restored.stderr
    assert config_key(instance) == old_key == instance.key_file.read_text()
    server.start()
    assert_everything_works(instance)
    log = server.log_path.read_text(errors="replace")
    assert "could not be decrypted" not in log and "cannot be read with this" not in log


def test_postgres_2x(
    tmp_path: Path, provider: DemoProvider, postgres_url: str, run_cli: Run
) -> None:
    env = n8n_postgres_env(postgres_url)
    instance = start_seeded(tmp_path, provider, extra_env=env)
    server = instance.server
    try:
        url = (f"postgresql://{env['DB_POSTGRESDB_USER']}@{env['DB_POSTGRESDB_HOST']}:"
               f"{env['DB_POSTGRESDB_PORT']}/{env['DB_POSTGRESDB_DATABASE']}")  # fmt: skip
        args = ("--database-url", url, "--generate", "--write-back", f"file:{instance.key_file}")
        refused = instance.rekey(run_cli, *args)
        assert refused.code == 7 and "other sessions on the database" in refused.stderr
        server.stop()
        done = instance.rekey(run_cli, *args, "--json")
        assert done.code == 0, done.stderr
        assert json.loads(done.stdout)["reencrypted"]["credentials_entity.data"] == 7
        server.start()
        assert_everything_works(instance)
        server.stop()
        restored = instance.rekey(run_cli, "--restore", json.loads(done.stdout)["backup"])
        assert restored.code == 0, restored.stderr  # uuid keys of `user` put back
        again = instance.rekey(run_cli, "--database-url", url, "--generate", "--dry-run")
        assert again.code == 0, again.stderr  # every value reads with the restored old key
    finally:
        server.stop()


def test_sqlite_1x_with_a_pinned_jwt_secret(
    tmp_path: Path, provider: DemoProvider, run_cli: Run
) -> None:
    instance = start_seeded(tmp_path, provider, version="1.123.81")
    server = instance.server
    try:
        server.stop()
        jwt_file = tmp_path / "jwt.secret"
        args = ("--generate", "--write-back", f"file:{instance.key_file}")
        plan = instance.rekey(run_cli, *args, "--dry-run", "--json")
        assert plan.code == 0, plan.stderr
        document = json.loads(plan.stdout)
        assert document["version"] == "1.x" and "logged out" in document["jwt"]
        assert document["reencrypted"]["settings.value[features.sourceControl.sshKeys]"
                                       ".encryptedPrivateKey"] == 1  # fmt: skip
        done = instance.rekey(run_cli, *args, "--pin-jwt-secret", f"file:{jwt_file}")
        assert done.code == 0, done.stderr
        server.extra_env["N8N_USER_MANAGEMENT_JWT_SECRET_FILE"] = str(jwt_file)
        server.start()
        assert_everything_works(instance)
    finally:
        server.stop()
