"""Notifications on rotation success, failure and rollback: a Slack incoming webhook and a
generic JSON webhook, configured under `[notifications]` in keyturn.toml.

Messages carry the credential, the outcome and fingerprints, never a secret. A notification
that cannot be delivered is logged; it never changes a rotation's outcome.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from keyturn.core.config import read_section
from keyturn.core.files import read_secret_file
from keyturn.core.http import RetryPolicy, new_client, send_with_retries, tls_context, tls_failure
from keyturn.core.redact import redact, register_secret

log = logging.getLogger(__name__)

Outcome = Literal["success", "failure", "rollback"]
ALL_OUTCOMES: tuple[Outcome, ...] = ("success", "failure", "rollback")
CA_SETTING = "notifications.ca_bundle"


class NotificationSettings(BaseModel):
    """`[notifications]` in keyturn.toml. URLs that embed a token come from env or a file."""

    model_config = ConfigDict(extra="forbid")

    slack_webhook_url_env: str | None = None
    slack_webhook_url_file: Path | None = None
    webhook_url: str | None = None
    webhook_url_env: str | None = None
    webhook_token_env: str | None = Field(
        default=None, description="Sent as Authorization: Bearer TOKEN to webhook_url."
    )
    on: list[Outcome] = Field(default_factory=lambda: list(ALL_OUTCOMES))
    timeout: float = 5.0
    verify_tls: bool = True
    ca_bundle: Path | None = Field(
        default=None, description="PEM file of the CA certificates to trust (a private CA)."
    )


class Notifier:
    def __init__(self, settings: NotificationSettings | None) -> None:
        self.settings = settings

    @classmethod
    def from_config(cls, table: dict[str, Any] | None) -> Notifier:
        """A notifier for keyturn.toml's `[notifications]` table (None: notify nobody)."""
        if table is None:
            return cls(None)
        settings = read_section(NotificationSettings, table, "notifications")
        if settings.ca_bundle is not None:  # a bad bundle is an error now, not a lost message later
            tls_context(str(settings.ca_bundle), CA_SETTING)
        return cls(settings)

    def notify(self, outcome: Outcome, event: dict[str, Any]) -> None:
        settings = self.settings
        if settings is None or outcome not in settings.on:
            return
        document = {
            "source": "keyturn",
            "outcome": outcome,
            "at": datetime.now(UTC).isoformat(),
            **event,
        }
        slack = self._secret_url(settings.slack_webhook_url_env, settings.slack_webhook_url_file)
        if slack:
            text = {"text": redact(_slack_text(outcome, event))}
            self._post(slack, text, {}, "the Slack webhook URL (it embeds a token)")
        generic = settings.webhook_url or self._secret_url(settings.webhook_url_env, None)
        if generic:
            headers = {}
            token = os.environ.get(settings.webhook_token_env or "", "").strip()
            if token:
                register_secret(token)
                headers["Authorization"] = f"Bearer {token}"
            carries = f"the notification token (${settings.webhook_token_env})" if token else None
            self._post(generic, document, headers, carries)

    @staticmethod
    def _secret_url(env: str | None, file: Path | None) -> str | None:
        value = os.environ.get(env, "").strip() if env else ""
        if not value and file is not None:
            value = read_secret_file(file, "notifications.slack_webhook_url_file")
        if value:
            register_secret(value)  # webhook URLs embed their token
        return value or None

    def _post(
        self, url: str, payload: dict[str, Any], headers: dict[str, str], carries: str | None
    ) -> None:
        settings = self.settings or NotificationSettings()
        verify = str(settings.ca_bundle) if settings.ca_bundle else settings.verify_tls
        # Two attempts; a notification sent twice is better than one lost.
        with new_client(
            timeout=settings.timeout,
            verify=verify,
            carries=carries,
            ca_setting=CA_SETTING,
        ) as http:
            outcome = send_with_retries(
                lambda: http.post(url, json=payload, headers=headers),
                RetryPolicy(attempts=2, initial=0.2, maximum=1.0, retry_after_cap=2.0),
                idempotent=True,
                what="notification",
            )
        if isinstance(outcome, httpx.TransportError):
            tls = f" (TLS verification failed: set {CA_SETTING})" if tls_failure(outcome) else ""
            log.warning("notification not delivered: %s%s", type(outcome).__name__, tls)
        elif outcome.status_code >= 400:
            log.warning("notification refused (%s)", outcome.status_code)


def _slack_text(outcome: Outcome, event: dict[str, Any]) -> str:
    icon = {
        "success": ":white_check_mark:",
        "failure": ":x:",
        "rollback": ":leftwards_arrow_with_hook:",
    }
    name = _slack_escape(str(event.get("credential_name", "?")))
    credential_id = _slack_escape(str(event.get("credential_id")))
    text = f"{icon[outcome]} keyturn {outcome}: credential *{name}* ({credential_id})"
    if event.get("pending_fingerprint"):
        text += f", now {event['pending_fingerprint']}"
    if event.get("error"):
        text += f"\n{_slack_escape(str(event['error']))}"
    return text


def _slack_escape(text: str) -> str:
    """Names and errors come from n8n's editors: as Slack mrkdwn, `<!channel>` would ping a
    channel and `<https://x|click>` would make a link. Slack's own escaping makes them text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
