"""n8n users for the tests: a second member (invited without e-mail), MFA on it, and its logins
with a TOTP code or a recovery code. Proven on n8n 2.40.7 and 1.123.81
(tests/integration/test_n8n_people.py).

The routes, as the installed n8n compiles them (controllers/invitation.controller.js,
controllers/mfa.controller.js, controllers/auth.controller.js):

- POST /rest/login {"emailOrLdapLoginId", "password"[, "mfaCode" | "mfaRecoveryCode"]}: both
  versions (1.x too takes `emailOrLdapLoginId`, not `email`). A user with MFA and neither code
  gets 401 (n8n's error code 998); a wrong code, 401.
- POST /rest/invitations [{"email", "role": "global:member"}] as the owner: without a mailer,
  each answer carries `user.inviteAcceptUrl`. Its query differs: 2.x `?token=<JWT>`, accepted
  by POST /rest/invitations/accept {"token", "firstName", "lastName", "password"}; 1.x
  `?inviterId=..&inviteeId=..`, accepted by POST /rest/invitations/<inviteeId>/accept
  {"inviterId", "firstName", "lastName", "password"}. No licence needed on either.
- GET /rest/mfa/qr (logged in, MFA off): {"data": {"secret", "recoveryCodes", "qrCode"}}, the
  same secret until MFA is enabled; POST /rest/mfa/enable {"mfaCode": TOTP} turns it on.
  A recovery code is consumed by the login that uses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp

from keyturn.sandbox.n8n_server import OWNER_EMAIL, OWNER_PASSWORD

MEMBER_PASSWORD = "Keyturn-Member-2!"  # a loopback test n8n's throw-away member


@dataclass
class MfaUser:
    email: str
    password: str
    secret: str  # the TOTP secret (base32), as n8n shows it under its QR code
    recovery_codes: list[str] = field(default_factory=list)

    def totp(self) -> str:
        return pyotp.TOTP(self.secret).now()


def _client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=30)


def _login(http: httpx.Client, email: str, password: str, **mfa: str) -> httpx.Response:
    return http.post("/rest/login", json={"emailOrLdapLoginId": email, "password": password, **mfa})


def _data(response: httpx.Response, what: str) -> Any:
    assert response.status_code < 400, f"n8n {what}: {response.status_code} {response.text[:300]}"
    return response.json()["data"]


def login(url: str, email: str, password: str) -> httpx.Response:
    """POST /rest/login with e-mail and password alone (a user with MFA gets 401)."""
    with _client(url) as http:
        return _login(http, email, password)


def login_with_mfa(url: str, email: str, password: str, secret: str) -> httpx.Response:
    """POST /rest/login with the current TOTP code of `secret`."""
    with _client(url) as http:
        return _login(http, email, password, mfaCode=pyotp.TOTP(secret).now())


def login_with_recovery_code(url: str, email: str, password: str, code: str) -> httpx.Response:
    """POST /rest/login with a recovery code (n8n then deletes that code: it works once)."""
    with _client(url) as http:
        return _login(http, email, password, mfaRecoveryCode=code)


def create_member(
    url: str,
    email: str,
    password: str = MEMBER_PASSWORD,
    *,
    owner_email: str = OWNER_EMAIL,
    owner_password: str = OWNER_PASSWORD,
) -> str:
    """Invite `email` as a member (as the owner) and accept the invitation with `password`, as
    n8n's sign-up page does; return the new user's id. No mailer is needed."""
    with _client(url) as http:
        _data(_login(http, owner_email, owner_password), "owner login")
        invited = _data(
            http.post("/rest/invitations", json=[{"email": email, "role": "global:member"}]),
            "invitation",
        )
        user = invited[0]["user"]
        assert "inviteAcceptUrl" in user, f"n8n gave no invite link: {invited}"
        query = {
            key: values[0]
            for key, values in parse_qs(urlsplit(user["inviteAcceptUrl"]).query).items()
        }
    names = {"firstName": "Keyturn", "lastName": "Member", "password": password}
    with _client(url) as http:  # the invitee, without the owner's cookie
        if "token" in query:  # n8n 2.x: a JWT holding the inviter's and invitee's ids
            accepted = http.post(
                "/rest/invitations/accept", json={"token": query["token"], **names}
            )
        else:  # n8n 1.x: the ids in the link
            accepted = http.post(
                f"/rest/invitations/{query['inviteeId']}/accept",
                json={"inviterId": query["inviterId"], **names},
            )
        user_id: str = _data(accepted, "invitation acceptance")["id"]
    return user_id


def enable_mfa(url: str, email: str, password: str) -> MfaUser:
    """Log in as that user, fetch its new MFA secret and recovery codes, enable MFA with a TOTP
    code. Not on the owner of LocalN8n: its later logins (new API keys) send no MFA code."""
    with _client(url) as http:
        _data(_login(http, email, password), "login")
        qr = _data(http.get("/rest/mfa/qr"), "MFA secret")
        secret: str = qr["secret"]
        enabled = http.post("/rest/mfa/enable", json={"mfaCode": pyotp.TOTP(secret).now()})
        assert enabled.status_code < 400, f"n8n MFA enable: {enabled.status_code} {enabled.text}"
    return MfaUser(email, password, secret, list(qr["recoveryCodes"]))
