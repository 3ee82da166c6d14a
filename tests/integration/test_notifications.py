"""Notifications on success, failure and rollback, received by a real local HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from keyturn.core.redact import REDACTED, register_secret
from keyturn.notify import ALERT_KINDS, Notifier
from tests.conftest import Partner
from tests.integration.test_rotate_live import rotate_args


class Receiver:
    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        received = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                received.append((self.path, dict(self.headers), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.server.shutdown()


def configure(partner: Partner, receiver: Receiver, tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "keyturn.toml"
    config.write_text(
        config.read_text() + f'\n[notifications]\nwebhook_url = "{receiver.url}/hooks/keyturn"\n'
        'webhook_token_env = "HOOK_TOKEN"\nslack_webhook_url_env = "SLACK_URL"\n'
    )
    return {
        **partner.env,
        "HOOK_TOKEN": "hook-token-123",
        "SLACK_URL": f"{receiver.url}/slack/T0/B0/x",
    }


def test_success_and_rollback_are_notified_without_secrets(
    partner: Partner, receiver: Receiver, run_cli: Any, tmp_path: Path
) -> None:
    env = configure(partner, receiver, tmp_path)
    assert run_cli(*rotate_args(partner), env=env).code == 0
    bad = tmp_path / "bad"
    bad.write_text("not-a-valid-key-0000\n")
    later = [
        a
        for a in rotate_args(partner)
        if a not in ("--current-secret", "env:OLD_KEY", "--current-key-id", partner.key_id)
    ]
    failed = run_cli(*later, "--new-secret", f"file:{bad}", "--verify", "webhook", env=env)
    assert failed.code == 6

    generic = [body for path, _, body in receiver.posts if path == "/hooks/keyturn"]
    slack = [body for path, _, body in receiver.posts if path.startswith("/slack/")]
    assert [body["outcome"] for body in generic] == ["success", "rollback"]
    assert generic[0]["credential_id"] == partner.credential_id
    assert generic[0]["pending_fingerprint"].startswith("fp:")
    assert "verification failed" in generic[1]["error"]
    assert all(headers["Authorization"] == "Bearer hook-token-123"
               for path, headers, _ in receiver.posts if path == "/hooks/keyturn")  # fmt: skip
    assert len(slack) == 2 and "keyturn success" in slack[0]["text"]
    everything = json.dumps(receiver.posts)
    with partner.provider.state.lock:
        keys = [key.value for key in partner.provider.state.keys.values()]
    for secret in [*keys, "not-a-valid-key-0000"]:
        assert secret not in everything


def test_a_bad_notifications_table_stops_the_rotation_before_it_starts(
    partner: Partner, run_cli: Any, tmp_path: Path
) -> None:
    """Backend tables are read when used: a typo must fail before the journal records a rotation
    (a row left in flight would hold the credential's lock and block every later rotation)."""
    config = tmp_path / "keyturn.toml"
    good = config.read_text()
    config.write_text(good + '\n[notifications]\non = ["sometimes"]\n')
    for args in (rotate_args(partner, "--dry-run"), rotate_args(partner)):
        result = run_cli(*args, env=partner.env)
        assert result.code == 2, result.stderr
        assert "notifications.on.0" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    status = run_cli("status", "--json", env=partner.env)
    assert json.loads(status.stdout)["in_flight"] == []
    config.write_text(good)
    assert run_cli(*rotate_args(partner), env=partner.env).code == 0
    assert partner.key_states()[partner.key_id] is True  # the old key was revoked


def test_alerts_reach_slack_and_the_webhook_filtered_and_without_secrets(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_URL", f"{receiver.url}/slack/T0/B0/x")
    monkeypatch.setenv("HOOK_TOKEN", "hook-token-123")
    notifier = Notifier.from_config(
        {
            "webhook_url": f"{receiver.url}/hooks/keyturn",
            "webhook_token_env": "HOOK_TOKEN",
            "slack_webhook_url_env": "SLACK_URL",
            "alerts": ["rotation_failed", "due_blocked"],
        }
    )
    secret = "alert-secret-0123456789"
    register_secret(secret)
    event = {
        "instance": "prod",
        "credential_id": "c1",
        "credential_name": "<!channel> Partner",
        "attempts": 1,
        "next_attempt": datetime(2026, 12, 1, 3, 0, tzinfo=UTC),
        "detail": f"the provider refused {secret}",
        "reason": "no provider is configured",
    }
    for kind in ALERT_KINDS:
        notifier.alert(kind, event)

    generic = [body for path, _, body in receiver.posts if path == "/hooks/keyturn"]
    slack = [body["text"] for path, _, body in receiver.posts if path.startswith("/slack/")]
    assert [document["alert"] for document in generic] == ["rotation_failed", "due_blocked"]
    document = generic[0]
    assert document["source"] == "keyturn" and datetime.fromisoformat(document["at"])
    assert document["credential_id"] == "c1" and document["attempts"] == 1
    assert document["next_attempt"] == "2026-12-01T03:00:00+00:00"
    assert document["detail"] == f"the provider refused {REDACTED}"
    assert document["message"].startswith('The rotation of credential "<!channel> Partner" (c1)')
    assert len(slack) == 2
    assert slack[0].startswith(':warning: keyturn: The rotation of credential "&lt;!channel&gt;')
    assert "will retry it at 2026-12-01 03:00 UTC" in slack[0]
    assert "cannot be rotated unattended: no provider is configured" in slack[1]
    assert "<" not in "".join(slack)
    assert secret not in json.dumps(receiver.posts)
