"""n8n's internal REST API, logged in as a dedicated keyturn user: the route n8n's own UI takes.

The public API of n8n 1.x cannot list, read, update or test a credential; 2.3 to 2.7 cannot list
one; no version returns a credential's non-secret fields. The UI can do all of it on every
version, through `/rest/...` with a session cookie:

- `POST /rest/login` -> cookie `n8n-auth` (a user with MFA on cannot log in unattended);
- `GET /rest/credentials` -> every credential the user may see, with ages;
- `GET /rest/credentials/{id}?includeData=true` -> the data, non-secret fields in clear and
  secret ones replaced by n8n's blank placeholder;
- `PATCH /rest/credentials/{id}` with `{name, type, data}`: n8n keeps the stored value of every
  field still holding the placeholder, so only the rotated field changes (the credential's id,
  and the OAuth token data n8n keeps apart, are untouched);
- `POST /rest/credentials/test` with the same data: n8n's own credential test.

This API is internal to n8n: keyturn probes it and says so when a version answers differently.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx

from keyturn.core.config import N8nConnection, N8nLogin
from keyturn.core.errors import (
    N8nApiError,
    N8nAuthError,
    N8nError,
    N8nNotFound,
    N8nUnreachable,
    N8nUnsupported,
)
from keyturn.core.http import RetryPolicy, new_client, send_with_retries
from keyturn.core.redact import register_secret
from keyturn.n8n.models import Credential, CredentialTestResult, n8n_message

log = logging.getLogger(__name__)

BLANK = "__n8n_BLANK_VALUE_e5362baf-c777-4d57-a609-6eaf1f9e87f6"  # n8n's placeholder for a secret
EMPTY = "__n8n_EMPTY_VALUE_7b1af746-3729-4c60-9b9b-e08eb29e58da"  # ... for an empty one (2.x)
_KEPT_APART = ("oauthTokenData", "csrfSecret")  # OAuth state n8n keeps: never a "field"
_MFA_REQUIRED = 998  # n8n's error code when a login needs an MFA code


@dataclass
class CredentialData:
    """A credential as the UI reads it: non-secret fields in clear, secrets as placeholders."""

    id: str
    name: str
    type: str
    data: dict[str, Any] = field(default_factory=dict)

    def clear_fields(self) -> dict[str, Any]:
        """The fields n8n shows in clear (its non-secret fields), without placeholders."""
        return {
            key: value
            for key, value in self.data.items()
            if key not in _KEPT_APART and not is_placeholder(value)
        }


def is_placeholder(value: Any) -> bool:
    """n8n's stand-in for a secret it will not show (possibly as an expression: `=...`)."""
    return isinstance(value, str) and value.lstrip("=") in (BLANK, EMPTY)


class N8nSession:
    """One logged-in keyturn user on one n8n. Logs in on first use; `close()` logs out."""

    def __init__(
        self,
        connection: N8nConnection,
        login: N8nLogin,
        *,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.connection = connection
        self.login_settings = login
        self.request_count = 0
        self._retry = retry or RetryPolicy(connection.max_attempts, 0.5, 8.0)
        self._browser_id = secrets.token_hex(16)  # n8n ties its session cookie to a browser id
        self._cookie: str | None = None
        self.role: str | None = None  # the user's global role, as n8n said at login
        self._http = new_client(
            base_url=connection.url + "/rest",
            headers={"Accept": "application/json", "browser-id": self._browser_id},
            timeout=connection.timeout,
            verify=connection.tls_verify,
            transport=transport,
            carries="the keyturn user's session",
            ca_setting=connection.ca_bundle_setting,
        )

    def close(self) -> None:
        if self._cookie is not None:
            try:
                self._send("POST", "/logout", None)
            except (httpx.HTTPError, N8nError):
                log.debug("n8n logout failed; the session expires by itself")
            self._cookie = None
        self._http.close()

    # -- credentials -----------------------------------------------------------------------

    @property
    def sees_everything(self) -> bool:
        """Whether n8n showed this user as an owner or admin (who see every credential)."""
        return self.role in ("global:owner", "global:admin")

    def list_credentials(self) -> list[Credential]:
        items = self._request("GET", "/credentials")
        return [Credential.model_validate(item) for item in items if isinstance(item, dict)]

    def read_credential(self, credential_id: str) -> CredentialData:
        """A credential's data as the UI sees it (secrets as placeholders)."""
        body = self._request("GET", f"/credentials/{credential_id}", params={"includeData": "true"})
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise N8nApiError(
                f"n8n did not return the data of credential {credential_id} to the keyturn user "
                f"({self.login_settings.email}).",
                _ROLE_HINT,
                None,
            )
        return CredentialData(str(body.get("id", credential_id)), body["name"], body["type"], data)

    def update_credential(self, current: CredentialData, changes: dict[str, Any]) -> None:
        """Write `changes` into a credential; every other field keeps its stored value."""
        # Placeholders go back as read: n8n puts its stored value back for each (csrfSecret
        # too). oauthTokenData n8n drops from the body and keeps itself.
        data = {k: v for k, v in current.data.items() if k != "oauthTokenData"}
        data.update(changes)
        body = {"name": current.name, "type": current.type, "data": data}
        self._request("PATCH", f"/credentials/{current.id}", json=body)

    def test_credential(
        self, current: CredentialData, changes: dict[str, Any] | None = None
    ) -> CredentialTestResult:
        """n8n's own test of a credential, with `changes` applied (not saved) when given."""
        data = {**current.data, **(changes or {})}  # placeholders as read: n8n fills them in
        body = {
            "credentials": {
                "id": current.id,
                "name": current.name,
                "type": current.type,
                "data": data,
            }
        }
        return CredentialTestResult.model_validate(
            self._request("POST", "/credentials/test", json=body)
        )

    # -- transport -------------------------------------------------------------------------

    def _login(self) -> None:
        email = self.login_settings.email
        password = self.login_settings.password.get_secret_value()
        body = {"emailOrLdapLoginId": email, "email": email, "password": password}
        self._cookie = None  # a login carries no session of its own
        response = self._send("POST", "/login", json=body, idempotent=True)
        if response.status_code == 404:
            raise N8nUnsupported(
                f"n8n at {self.connection.url} has no /rest/login: keyturn cannot log in as "
                f"{email} on this version.",
                "Unset the keyturn user's e-mail and password file settings and use the API key "
                "alone (docs/compatibility.md says what that allows).",
            )
        if response.status_code == 401 and _error_code(response) == _MFA_REQUIRED:
            raise N8nAuthError(
                f"The keyturn user {email} has two-factor authentication (MFA) on: keyturn "
                "cannot log in unattended.",
                "Create a dedicated n8n user for keyturn without MFA (docs/compatibility.md).",
            )
        if response.status_code == 429:
            raise N8nApiError(
                f"n8n refused more logins for now (429) for {email}: in production it allows "
                "about 5 a minute per e-mail and per address.",
                "Wait a minute; keyturn logs in once per command, so run fewer commands at once "
                "as this user, and give people their own logins.",
                429,
            )
        if response.status_code in (400, 401, 403):
            raise N8nAuthError(
                f"n8n refused the login of {email} "
                f"({response.status_code}: {n8n_message(response)}).",
                f"Check {self.login_settings.source} and the password file: the user must "
                "exist, be enabled, log in with e-mail and password (not SSO only).",
            )
        if response.status_code >= 400:
            raise N8nApiError(
                f"n8n answered {response.status_code} to the login of {email}: "
                f"{n8n_message(response)}.",
                "n8n's log says why.",
                response.status_code,
            )
        cookie = response.cookies.get("n8n-auth")
        if not cookie:
            raise N8nUnsupported(
                f"n8n at {self.connection.url} logged {email} in without a session cookie "
                "(n8n-auth): this version's internal API differs from the ones keyturn knows.",
                "Use the API key alone, and tell keyturn's maintainers this version.",
            )
        register_secret(cookie)
        self._cookie = cookie
        self.role = _role_of(response)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
    ) -> Any:
        if self._cookie is None:
            self._login()
        response = self._send(method, path, params, json)
        if response.status_code == 401:  # the session expired: once more, logged in again
            self._login()
            response = self._send(method, path, params, json)
        return self._handle(method, path, response)

    def _send(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        json: Any = None,
        *,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """One call with the retry policy; `idempotent` defaults to "not a POST" (the login is
        a POST that is safe to repeat)."""
        headers = {"Cookie": f"n8n-auth={self._cookie}"} if self._cookie else {}

        def send() -> httpx.Response:
            self.request_count += 1
            log.debug("n8n %s /rest%s", method, path)
            return self._http.request(method, path, params=params, json=json, headers=headers)

        outcome = send_with_retries(
            send,
            self._retry,
            idempotent=method != "POST" if idempotent is None else idempotent,
            what=f"n8n {method} /rest{path}",
        )
        if isinstance(outcome, httpx.TransportError):
            raise N8nUnreachable(
                f"Cannot reach n8n at {self.connection.url} ({type(outcome).__name__}).",
                "Check that n8n is running.",
            )
        return outcome

    def _handle(self, method: str, path: str, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise self._error_for(f"{method} /rest{path}", response)
        try:
            body = response.json()
        except ValueError:
            raise N8nUnsupported(
                f"n8n answered {method} /rest{path} with something that is not JSON: this "
                "version's internal API differs from the ones keyturn knows.",
                "Use the API key alone for this instance.",
            ) from None
        return body.get("data", body) if isinstance(body, dict) else body

    def _error_for(self, where: str, response: httpx.Response) -> N8nError:
        email = self.login_settings.email
        status, detail = response.status_code, n8n_message(response)
        if status == 401:  # refused again right after a fresh login
            return N8nAuthError(
                f"n8n logged the keyturn user {email} in, then refused {where} (401: {detail}).",
                f"Check {self.login_settings.source}: the user may have been disabled meanwhile.",
            )
        if status == 403:
            return N8nAuthError(
                f"The keyturn user {email} may not do {where} (403: {detail}).",
                _ROLE_HINT,
            )
        if status == 404 and "credential" in detail.lower():
            return N8nNotFound(
                f"n8n has no credential the keyturn user {email} can see at {where} ({detail}).",
                "Check the id; " + _ROLE_HINT[0].lower() + _ROLE_HINT[1:],
            )
        if status in (404, 405):
            return N8nUnsupported(
                f"n8n at {self.connection.url} does not offer {where} ({status}): this "
                "version's internal API differs from the ones keyturn knows.",
                "Use the API key alone for this instance (docs/compatibility.md).",
            )
        return N8nApiError(f"n8n refused {where} ({status}): {detail}.", None, status)


_ROLE_HINT = (
    "Give the keyturn user the owner or admin role in n8n (Settings > Users), or share the "
    "credential with it as editor."
)


def _role_of(response: httpx.Response) -> str | None:
    """The `role` of the user a login answer describes (`global:owner`, ...), if it says."""
    try:
        body = response.json()
    except ValueError:
        return None
    user = body.get("data") if isinstance(body, dict) else None
    role = user.get("role") if isinstance(user, dict) else None
    if isinstance(role, dict):
        role = role.get("slug")
    return role if isinstance(role, str) else None


def _error_code(response: httpx.Response) -> int | None:
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, int) else None
