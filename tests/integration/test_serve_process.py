"""`keyturn serve` as a process: SIGTERM inside a rotation, the next start resuming it, and two
replicas on one real PostgreSQL journal, the leader killed mid-rotation."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from prometheus_client.parser import text_string_to_metric_families

from keyturn.journal import Journal, open_journal
from tests.conftest import Partner
from tests.helpers import wait_until
from tests.integration.test_rotate_live import rotate_args


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ServeProcess:
    process: subprocess.Popen[str]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def events(self) -> list[dict[str, Any]]:
        return [
            json.loads(line) for line in self.log.read_text().splitlines() if line.startswith("{")
        ]

    def saw(self, name: str, **fields: str) -> bool:
        return any(
            e.get("event") == name and all(e.get(k) == val for k, val in fields.items())
            for e in self.events()
        )

    def metrics(self) -> dict[str, float]:
        body = httpx.get(f"{self.url}/metrics", timeout=10).text
        return {
            sample.name: sample.value
            for family in text_string_to_metric_families(body)
            for sample in family.samples
            if not sample.labels
        }


def configure(partner: Partner, tmp_path: Path, section: str) -> None:
    """keyturn.toml: the provider (as the fixture wrote it), the credential's section, serve's."""
    config, base = tmp_path / "keyturn.toml", tmp_path / "keyturn.base.toml"
    if not base.exists():
        base.write_text(config.read_text())
    config.write_text(
        base.read_text() + f'\n[rotation."{partner.credential_name}"]\nprovider = "partner"\n'
        f'verify_webhooks = ["{partner.webhook_path}"]\njitter = "0s"\n'
        + section
        + '\n[serve]\ninterval = "1s"\nhealth_interval = "1h"\n'
    )


@contextmanager
def serving(tmp_path: Path, env: dict[str, str], name: str) -> Iterator[ServeProcess]:
    port = free_port()
    log = tmp_path / f"{name}.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "keyturn", "serve", "--log-format", "json",
             "--listen", f"127.0.0.1:{port}"],
            cwd=tmp_path, env=env, stdout=sink, stderr=sink, text=True,
        )  # fmt: skip
    served = ServeProcess(process, port, log)
    try:
        wait_until(lambda: served.saw("http.listening") or process.poll() is not None, 60)
        assert process.poll() is None, log.read_text()
        yield served
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def cli_env(partner: Partner, tmp_path: Path, **extra: str) -> dict[str, str]:
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KEYTURN_", "VAULT_", "AWS_"))
    }
    return {**base, "HOME": str(tmp_path), **partner.env, **extra}


@contextmanager
def journal_of(env: dict[str, str]) -> Iterator[Journal]:
    """The journal the serve processes share, opened here with their KEYTURN_* settings."""
    saved = {key: os.environ.get(key) for key in env if key.startswith("KEYTURN_")}
    os.environ.update({k: v for k, v in env.items() if k.startswith("KEYTURN_")})
    try:
        journal = open_journal()
        try:
            yield journal
        finally:
            journal.close()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def step_of(tmp_path: Path, env: dict[str, str], credential_id: str) -> str | None:
    """The step of the credential's rotation in flight, read from the journal."""
    with journal_of(env) as journal:
        flying = [r for r in journal.in_flight() if r.credential_id == credential_id]
        return flying[0].step if flying else None


def completed(tmp_path: Path, env: dict[str, str], credential_id: str) -> list[Any]:
    with journal_of(env) as journal:
        rotations = journal.rotations(credential_id=credential_id)
        return [r for r in rotations if r.status == "completed"]


def test_sigterm_in_a_grace_period_exits_0_and_the_next_start_finishes_it(
    partner: Partner, run_cli: Any, tmp_path: Path
) -> None:
    env = cli_env(partner, tmp_path)
    assert run_cli(*rotate_args(partner), env=partner.env).code == 0
    configure(partner, tmp_path, 'max_age = "5s"\ngrace = "30s"\n')
    with serving(tmp_path, env, "first") as first:
        wait_until(lambda: step_of(tmp_path, env, partner.credential_id) == "tested", 90)
        started = time.monotonic()
        first.process.send_signal(signal.SIGTERM)
        assert first.process.wait(timeout=30) == 0
        assert time.monotonic() - started < 10  # left the 30-second grace at once
    assert step_of(tmp_path, env, partner.credential_id) == "tested"  # kept, not rolled back
    assert partner.call_webhook() == 200

    configure(partner, tmp_path, 'max_age = "1h"\ngrace = "30s"\n')
    with serving(tmp_path, env, "second") as second:  # waits out the rest of the grace
        wait_until(lambda: step_of(tmp_path, env, partner.credential_id) is None, 90)
        assert second.saw("rotation.resume")
        page = httpx.get(f"{second.url}/checklist/{partner.credential_id}", timeout=120)
        assert page.status_code == 200 and "boxes ok" in page.text  # the rotation's checklist
        second.process.send_signal(signal.SIGTERM)
        assert second.process.wait(timeout=30) == 0
    assert len(completed(tmp_path, env, partner.credential_id)) == 2  # by hand, then serve's
    assert len(partner.active_keys()) == 1 and partner.call_webhook() == 200


def test_two_replicas_one_leader_the_other_finishes_when_it_is_killed(
    partner: Partner, run_cli: Any, tmp_path: Path, postgres_url: str
) -> None:
    # One master key for both replicas, as for any keyturn sharing a journal.
    key = Fernet.generate_key().decode()
    env = cli_env(partner, tmp_path, KEYTURN_DATABASE_URL=postgres_url, KEYTURN_MASTER_KEY=key)
    first_rotation = run_cli(*rotate_args(partner), env={**partner.env, **env})
    assert first_rotation.code == 0, first_rotation.stderr
    configure(partner, tmp_path, 'max_age = "8s"\ngrace = "12s"\n')
    with serving(tmp_path, env, "a") as a, serving(tmp_path, env, "b") as b:
        wait_until(lambda: a.metrics().get("keyturn_scheduler_leader", 0)
                   + b.metrics().get("keyturn_scheduler_leader", 0) == 1, 30)  # fmt: skip
        leader, follower = (a, b) if a.metrics()["keyturn_scheduler_leader"] == 1 else (b, a)
        wait_until(lambda: step_of(tmp_path, env, partner.credential_id) == "tested", 90)
        leader.process.kill()  # SIGKILL in the grace period, after n8n holds the new key
        leader.process.wait(timeout=30)
        killed = time.monotonic()
        # The follower takes the lease (the lease lives 3 s here) and finishes the rotation.
        wait_until(lambda: follower.metrics().get("keyturn_scheduler_leader") == 1, 30)
        assert time.monotonic() - killed < 2 * 3 + 2  # two lease lives, and the polling
        wait_until(lambda: step_of(tmp_path, env, partner.credential_id) is None, 60)
        assert follower.saw("rotation.resume")
        follower.process.send_signal(signal.SIGTERM)
        assert follower.process.wait(timeout=30) == 0
    rotations = completed(tmp_path, env, partner.credential_id)
    assert len(rotations) == 2  # by hand, then the one the leader began and the follower ended
    assert len({r.pending_fingerprint for r in rotations}) == 2
    assert len(partner.active_keys()) == 1 and partner.call_webhook() == 200
