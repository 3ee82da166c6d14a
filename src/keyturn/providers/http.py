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

Placeholders are data: in a URL each value is percent-encoded (one path segment or one query
value, never a `/`, `?`, `#` or dot segment); in `json` and `headers` it is a plain string.
Requests follow keyturn's one retry policy (core/http.py). Revoke is idempotent (a 404 counts as
done). Issue is retried on a 5xx or a lost answer only when it carries `{idempotency_token}`
(in its url, headers or json): without it, a retry could issue a second key, so it is retried
only when the provider surely did nothing (a 429, a connection never made).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field

from keyturn.core.errors import ConfigError, ProviderError
from keyturn.core.files import read_secret_file
from keyturn.core.http import (
    RETRYABLE_STATUSES,
    Outcome,
    RetryPolicy,
    new_client,
    send_with_retries,
    should_retry,
    tls_failure,
)
from keyturn.core.probe import AuthPlacement, ProbeResult, parse_auth, probe_url
from keyturn.core.redact import redact, register_secret
from keyturn.providers.interface import Capability, IssueContext, IssuedSecret

log = logging.getLogger(__name__)
_Section = TypeVar("_Section")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_IDEMPOTENCY_TOKEN = "{idempotency_token}"
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")  # what an HTTP/1.1 header value may hold


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
    verify_tls: bool | str = Field(default=True, description="false, or a CA bundle's path.")
    ca_bundle: Path | None = Field(
        default=None, description="PEM file of the CA certificates to trust (a private CA)."
    )
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
    def _verify(self) -> bool | str:
        return str(self.config.ca_bundle) if self.config.ca_bundle else self.config.verify_tls

    @property
    def _ca_setting(self) -> str:
        legacy = self.config.ca_bundle is None and isinstance(self.config.verify_tls, str)
        return f"providers.{self.name}.{'verify_tls' if legacy else 'ca_bundle'}"

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
        body = self._call("issue", section, values, idempotent=_carries_token(section))
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
            verify=self._verify,
            ca_setting=self._ca_setting,
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
        *,
        idempotent: bool = True,
    ) -> Any:
        """Send one request (retried as `idempotent` allows); its JSON answer, or {}."""
        where = f"providers.{self.name}.{what}"
        url = self._fill_url(section.url, values, what)
        body = _fill(section.json_body, values) if section.json_body is not None else None
        headers = {**self._admin_headers(), **self._fill_headers(section.headers, values, where)}

        policy = RetryPolicy(
            self.config.max_attempts, self.config.backoff_initial, 10.0, retry_after_cap=30.0
        )
        with new_client(
            timeout=self.config.timeout,
            transport=self._transport,
            verify=self._verify,
            carries=f"the admin token and keys of provider {self.name!r}",
            ca_setting=self._ca_setting,
        ) as http:
            outcome = send_with_retries(
                lambda: http.request(section.method, url, json=body, headers=headers),
                policy,
                idempotent=idempotent,
                what=f"provider {self.name} {what}",
            )
        if not idempotent and _unsafe_to_retry(outcome):
            raise _not_retried(self.name, what, outcome)
        if isinstance(outcome, httpx.TransportError):
            raise ProviderError(
                redact(
                    f"Provider {self.name!r} could not be reached for {what} "
                    f"({type(outcome).__name__}: {outcome})."
                ),
                f"If its certificate comes from a private CA, set {self._ca_setting} to that CA's "
                "certificate (a PEM file)."
                if tls_failure(outcome)
                else f"Check providers.{self.name}.{what}.url and that the service is up.",
            )
        if outcome.status_code >= 400 and outcome.status_code not in ok_statuses:
            attempts = (
                f" after {self.config.max_attempts} attempts"
                if should_retry(outcome, idempotent=idempotent)
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

    def _fill_url(self, template: str, values: dict[str, str], what: str) -> str:
        """The URL with each placeholder percent-encoded: one path segment, or one query value.

        A value that is, or would be once a server decodes `%2F`, a dot segment (`.`, `..`) or
        an empty segment of the path is refused: percent-encoding does not stop every server
        from resolving it.
        """
        query_at = min((i for i in (template.find("?"), template.find("#")) if i >= 0), default=-1)

        def encode(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                return match.group()
            value = values[name]
            in_path = query_at < 0 or match.start() < query_at
            if in_path and _walks_the_path(value):
                raise ProviderError(
                    f"Provider {self.name!r} cannot {what}: {{{name}}} is {value!r}, which cannot "
                    f"be a segment of the URL path (providers.{self.name}.{what}.url); nothing "
                    "was sent.",
                    "Check that value where it comes from (the n8n credential's name, or the "
                    "key id the provider answered).",
                )
            return quote(value, safe="")

        return _PLACEHOLDER.sub(encode, template)

    def _fill_headers(
        self, headers: dict[str, str], values: dict[str, str], where: str
    ) -> dict[str, str]:
        filled = {name: _fill(value, values) for name, value in headers.items()}
        for name, value in filled.items():
            if not _HEADER_VALUE.fullmatch(value):
                raise ProviderError(
                    f"{where}.headers.{name} would hold a character an HTTP header cannot carry "
                    "(a control or non-ASCII character, from a placeholder); nothing was sent.",
                    "Put that placeholder in the json body instead, where any text is fine.",
                )
        return filled


def _walks_the_path(value: str) -> bool:
    """`..`, `.`, an empty segment, alone or between slashes (`../faults`, `a//b`)."""
    return any(part in ("", ".", "..") for part in re.split(r"[/\\]", value))


def _unsafe_to_retry(outcome: Outcome) -> bool:
    """A failure a retry might fix, but the provider may have acted on the request already."""
    if isinstance(outcome, httpx.Response) and outcome.status_code not in RETRYABLE_STATUSES:
        return False
    return not should_retry(outcome, idempotent=False)


def _not_retried(provider: str, what: str, outcome: Outcome) -> ProviderError:
    """The error for a request that carries no idempotency token and may have issued a key."""
    if isinstance(outcome, httpx.Response):
        seen = f"answered {outcome.status_code}: {outcome.text[:200]}"
    else:
        seen = f"did not answer ({type(outcome).__name__}: {outcome})"
    return ProviderError(
        redact(
            f"Provider {provider!r} {seen}. The {what} request was not retried: it carries no "
            f"{_IDEMPOTENCY_TOKEN}, so the provider may have issued a key, and a retry "
            "could issue a second one."
        ),
        f"Check at the provider for a key issued just now and revoke it; nothing was changed "
        f"in n8n. If its API takes an idempotency key, put {_IDEMPOTENCY_TOKEN} in "
        f"providers.{provider}.{what} (json, headers or url) and keyturn will retry safely.",
    )


def _carries_token(section: RequestConfig) -> bool:
    """Whether the request names the rotation's idempotency token (so a retry is safe)."""
    texts = [section.url, *section.headers.values(), *_strings(section.json_body)]
    return any(_IDEMPOTENCY_TOKEN in text for text in texts)


def _strings(template: Any) -> Iterator[str]:
    if isinstance(template, str):
        yield template
    elif isinstance(template, dict):
        for item in template.values():
            yield from _strings(item)
    elif isinstance(template, list):
        for item in template:
            yield from _strings(item)


def _fill(template: Any, values: dict[str, str]) -> Any:
    """Replace {placeholders} in the strings of a JSON-like template, in one pass, as plain text.

    One pass: a value that reads like a placeholder (a credential named `{idempotency_token}`)
    stays as it is. httpx JSON-encodes the body, so no value can break out of its string.
    """
    if isinstance(template, str):
        return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group()), template)
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
