"""The keyturn user (a dedicated n8n login) on the pinned n8n: the session strategy, fields read
in clear, and every way a login goes wrong, for real (invited member, MFA, wrong password)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from keyturn.core.errors import ExitCode
from keyturn.sandbox.n8n_server import OWNER_EMAIL, OWNER_PASSWORD
from tests.conftest import N8nHandle, Partner
from tests.integration.test_rotate_live import rotate_args

MEMBER_EMAIL = "keyturn-member@keyturn.test"
MFA_EMAIL = "keyturn-mfa@keyturn.test"  # its own user: turning MFA on changes the server
MEMBER_PASSWORD = "Member-Passw0rd-1!"


def totp(secret: str, at: float | None = None) -> str:
    """RFC 6238 code (SHA-1, 30 s, 6 digits), as an authenticator app computes it."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = struct.pack(">Q", int((at or time.time()) // 30))
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


@contextlib.contextmanager
def logged_in(url: str, email: str, password: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{url}/rest", timeout=30) as http:
        response = http.post("/login", json={"emailOrLdapLoginId": email, "password": password})
        assert response.status_code == 200, response.text
        yield http


def invite_member(n8n: N8nHandle, email: str = MEMBER_EMAIL) -> None:
    """A member user (no admin role), invited by the owner and signed up: once per server."""
    with logged_in(n8n.url, OWNER_EMAIL, OWNER_PASSWORD) as owner:
        users = owner.get("/users").json()["data"]
        listed = users["items"] if isinstance(users, dict) else users
        if any(user["email"] == email for user in listed):
            return
        invited = owner.post("/invitations", json=[{"email": email, "role": "global:member"}])
        assert invited.status_code == 200, invited.text
        url = invited.json()["data"][0]["user"]["inviteAcceptUrl"]
        token = parse_qs(urlparse(url).query)["token"][0]
    with httpx.Client(base_url=f"{n8n.url}/rest", timeout=30) as anonymous:
        accepted = anonymous.post(
            "/invitations/accept",
            json={
                "token": token,
                "firstName": "Key",
                "lastName": "Turn",
                "password": MEMBER_PASSWORD,
            },
        )
        assert accepted.status_code == 200, accepted.text


def member_env(
    partner: Partner, folder: Path, password: str = MEMBER_PASSWORD, email: str = MEMBER_EMAIL
) -> dict[str, str]:
    password_file = folder / "member-password"
    password_file.write_text(password)
    return {
        **partner.env,
        "KEYTURN_N8N_EMAIL": email,
        "KEYTURN_N8N_PASSWORD_FILE": str(password_file),
    }


def test_session_strategy_reads_the_header_name_itself(
    partner: Partner, n8n: N8nHandle, run_cli: Any, tmp_path: Path
) -> None:
    """As the keyturn user, keyturn reads the credential's header name from n8n: --probe-url
    needs no --probe-auth. The password and the session cookie show nowhere, even at -vvv
    (where libraries log every header)."""
    env = {**partner.env, **n8n.login_env(tmp_path)}
    args = [
        "-vvv",
        "rotate",
        partner.credential_id,
        "--new-secret",
        "provider",
        "--provider",
        "partner",
        "--current-secret",
        "env:OLD_KEY",
        "--current-key-id",
        partner.key_id,
        "--strategy",
        "session",
        "--verify",
        "probe",
        "--probe-url",
        f"{partner.provider.url}/v1/ping",
        "--grace",
        "0s",
        "--json",
    ]
    planned = run_cli(*args, "--dry-run", env=env)
    assert planned.code == 0, planned.stderr
    assert json.loads(planned.stdout)["plan"]["probe_auth"] == "header:X-API-Key"
    result = run_cli(*args, env=env)
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["status"] == "completed" and document["strategy"] == "session"
    assert partner.call_webhook() == 200
    assert partner.key_states()[partner.key_id] is True
    for output in (planned, result):
        assert OWNER_PASSWORD not in output.stdout + output.stderr
        assert "n8n-auth=ey" not in output.stderr  # the JWT of the session
    assert "set-cookie" in result.stderr.lower()  # the headers were logged, masked


def test_member_without_access_is_told_what_role_it_needs(
    partner: Partner, n8n: N8nHandle, run_cli: Any, tmp_path: Path
) -> None:
    invite_member(n8n)
    result = run_cli(
        *rotate_args(partner, "--strategy", "session", "--dry-run"),
        env=member_env(partner, tmp_path),
    )
    assert result.code == ExitCode.N8N, result.stderr  # n8n answers 403
    assert MEMBER_EMAIL in result.stderr and "admin role" in result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_password_names_the_setting(
    partner: Partner, n8n: N8nHandle, run_cli: Any, tmp_path: Path
) -> None:
    invite_member(n8n)
    result = run_cli(
        *rotate_args(partner, "--strategy", "session"),
        env=member_env(partner, tmp_path, "not-the-password"),
    )
    assert result.code == ExitCode.N8N, result.stderr
    assert "KEYTURN_N8N_EMAIL" in result.stderr and "not-the-password" not in result.stderr
    assert partner.active_keys() == [partner.key_id]  # refused before anything was issued


def test_mfa_user_is_refused_with_the_reason(
    partner: Partner, n8n: N8nHandle, run_cli: Any, tmp_path: Path
) -> None:
    invite_member(n8n, MFA_EMAIL)
    with logged_in(n8n.url, MFA_EMAIL, MEMBER_PASSWORD) as member:
        qr = member.get("/mfa/qr")
        assert qr.status_code == 200, qr.text
        enabled = member.post("/mfa/enable", json={"mfaCode": totp(qr.json()["data"]["secret"])})
        assert enabled.status_code == 200, enabled.text
    result = run_cli(
        *rotate_args(partner, "--strategy", "session"),
        env=member_env(partner, tmp_path, email=MFA_EMAIL),
    )
    assert result.code == ExitCode.N8N, result.stderr
    assert "two-factor" in result.stderr and MFA_EMAIL in result.stderr
    assert partner.active_keys() == [partner.key_id]
