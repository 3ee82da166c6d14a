"""The generic HTTP provider: any API that can issue, revoke and probe its own keys.

Configured in keyturn.toml (docs/providers/http.md):

    [providers.partner]
    type = "http"
    admin_token_env = "PARTNER_ADMIN_TOKEN"      # or admin_token_file
    [providers.partner.issue]
    url = "https://api.partner.example/admin/keys"
    json = { label = "n8n {credential_name}", idempotency_key = "{idempotency_token}" }
    secret_path = "key"
    key_id_path = "id"
    [providers.partner.revoke]
    method = "DELETE"
    url = "https://api.partner.example/admin/keys/{key_id}"
    [providers.partner.probe]
    url = "https://api.partner.example/v1/ping"
    auth = "header:X-API-Key"

Requests follow keyturn's one retry policy (core/http.py); every call, issue included, counts
as idempotent: issue carries the rotation's idempotency token, so a retry never issues twice.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field

from keyturn.core.errors import ConfigError, ProviderError
from keyturn.core.files import read_secret_file
from keyturn.core.http import RETRYABLE_STATUSES, RetryPolicy, new_client, send_with_retries
from keyturn.core.probe import AuthPlacement, ProbeResult, parse_auth, probe_url
from keyturn.core.redact import redact, register_secret
from keyturn.providers.interface import Capability, IssueContext, IssuedSecret

log = logging.getLogger(__name__)
_Section = TypeVar("_Section")


class RequestConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: str = "POST"
    url: str
    json_body: dict[str, Any] | None = Field(default=None, alias="json")
    headers: dict[str, str] = Field(default_factory=dict)


class IssueConfig(RequestConfig):
    secret_path: str = Field(description="Dotted path to the new secret in the JSON answer.")
    key_id_path: str | None = Field(default=None, description="Dotted path to the key's id.")


class RevokeConfig(RequestConfig):
    method: str = "DELETE"


class ProbeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    auth: str = Field(description="header:NAME, query:NAME, bearer or basic:USER")


class HttpProviderConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    type: Literal["http"] = "http"
    admin_token_env: str | None = None
    admin_token_file: Path | None = None
    admin_header: str = "Authorization"
    admin_scheme: str = "Bearer"
    timeout: float = Field(default=10.0, gt=0)
    max_attempts: int = Field(default=4, ge=1, le=10)
    backoff_initial: float = Field(default=0.5, ge=0)
    issue: IssueConfig | None = None
    revoke: RevokeConfig | None = None
    probe: ProbeConfig | None = None


class HttpProvider:
    key_id_field: str | None = None

    def __init__(
        self, name: str, config: HttpProviderConfig, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.name = name
        self.config = config
        self._transport = transport
        self._probe_auth = (
            parse_auth(config.probe.auth, f"providers.{name}.probe.auth")
            if (config.probe)
            else None
        )

    @property
    def probe_placement(self) -> AuthPlacement | None:
        return self._probe_auth

    @property
    def capabilities(self) -> frozenset[Capability]:
        present = {
            Capability.ISSUE: self.config.issue,
            Capability.REVOKE: self.config.revoke,
            Capability.PROBE: self.config.probe,
        }
        return frozenset(cap for cap, section in present.items() if section is not None)

    def issue(self, context: IssueContext) -> IssuedSecret:
        section = self._section(self.config.issue, "issue")
        values = {
            "idempotency_token": context.idempotency_token,
            "credential_id": context.credential_id,
            "credential_name": context.credential_name,
        }
        body = self._call("issue", section, values)
        secret = _dig(body, section.secret_path)
        if not isinstance(secret, str) or not secret:
            raise ProviderError(
                f"Provider {self.name!r} answered issue without a secret at "
                f"{section.secret_path!r}.",
                f"Check providers.{self.name}.issue.secret_path in keyturn.toml.",
            )
        register_secret(secret)
        key_id = _dig(body, section.key_id_path) if section.key_id_path else None
        return IssuedSecret(secret, str(key_id) if key_id is not None else None)

    def current_key_id(self) -> str | None:
        return None  # a generic API does not say which of its keys a credential holds

    def revoke(self, key_id: str) -> None:
        section = self._section(self.config.revoke, "revoke")
        self._call("revoke", section, {"key_id": key_id}, ok_statuses=frozenset({404}))

    def probe(self, secret: str, key_id: str | None = None) -> ProbeResult:
        if self.config.probe is None or self._probe_auth is None:
            raise ProviderError(f"Provider {self.name!r} has no probe configured.", None)
        return probe_url(
            self.config.probe.url,
            secret,
            self._probe_auth,
            timeout=self.config.timeout,
            attempts=self.config.max_attempts,
            transport=self._transport,
        )

    def _section(self, section: _Section | None, what: str) -> _Section:
        if section is None:
            raise ProviderError(
                f"Provider {self.name!r} cannot {what}: keyturn.toml has no "
                f"[providers.{self.name}.{what}] section.",
                "Add it, or choose another provider.",
            )
        return section

    def _admin_headers(self) -> dict[str, str]:
        token = self._admin_token()
        if token is None:
            return {}
        value = f"{self.config.admin_scheme} {token}".strip()
        return {self.config.admin_header: value}

    def _admin_token(self) -> str | None:
        if self.config.admin_token_env:
            token = os.environ.get(self.config.admin_token_env, "").strip()
            if not token:
                raise ConfigError(
                    f"Provider {self.name!r} reads its admin token from "
                    f"${self.config.admin_token_env}, which is not set.",
                    f"Export {self.config.admin_token_env}.",
                )
            register_secret(token)
            return token
        if self.config.admin_token_file:
            token = read_secret_file(
                self.config.admin_token_file, f"providers.{self.name}.admin_token_file"
            )
            register_secret(token)
            return token
        return None

    def _call(
        self,
        what: str,
        section: RequestConfig,
        values: dict[str, str],
        ok_statuses: frozenset[int] = frozenset(),
    ) -> Any:
        url = _fill(section.url, values)
        body = _fill(section.json_body, values) if section.json_body is not None else None
        headers = {**self._admin_headers(), **section.headers}

        policy = RetryPolicy(
            self.config.max_attempts, self.config.backoff_initial, 10.0, retry_after_cap=30.0
        )
        with new_client(timeout=self.config.timeout, transport=self._transport) as http:
            outcome = send_with_retries(
                lambda: http.request(section.method, url, json=body, headers=headers),
                policy,
                idempotent=True,
                what=f"provider {self.name} {what}",
            )
        if isinstance(outcome, httpx.TransportError):
            raise ProviderError(
                redact(
                    f"Provider {self.name!r} could not be reached for {what} "
                    f"({type(outcome).__name__}: {outcome})."
                ),
                f"Check providers.{self.name}.{what}.url and that the service is up.",
            )
        if outcome.status_code >= 400 and outcome.status_code not in ok_statuses:
            attempts = (
                f" after {self.config.max_attempts} attempts"
                if outcome.status_code in RETRYABLE_STATUSES
                else ""
            )
            raise ProviderError(
                redact(
                    f"Provider {self.name!r} answered {outcome.status_code} to {what}{attempts}: "
                    f"{outcome.text[:200]}"
                ),
                "Check the provider's admin token and status; nothing was changed in n8n.",
            )
        try:
            return outcome.json() if outcome.content else {}
        except ValueError:
            return {}


def _fill(template: Any, values: dict[str, str]) -> Any:
    """Replace {placeholders} in strings of a JSON-like template."""
    if isinstance(template, str):
        for name, value in values.items():
            template = template.replace("{" + name + "}", value)
        return template
    if isinstance(template, dict):
        return {key: _fill(item, values) for key, item in template.items()}
    if isinstance(template, list):
        return [_fill(item, values) for item in template]
    return template


def _dig(document: Any, path: str | None) -> Any:
    if path is None:
        return None
    for part in path.split("."):
        if isinstance(document, dict):
            document = document.get(part)
        elif isinstance(document, list) and part.isdigit() and int(part) < len(document):
            document = document[int(part)]
        else:
            return None
    return document
