"""Notifications, configured under `[notifications]` in keyturn.toml: rotation outcomes
(success, failure, rollback) and the alerts of `keyturn serve`, to a Slack incoming webhook, a
generic JSON webhook and e-mail over SMTP.

Messages carry the credential, what happened and fingerprints, never a secret. A message that
cannot be delivered is logged as one warning line; it never changes a rotation's outcome and
never raises to the caller.
"""

from __future__ import annotations

import contextlib
import email.policy
import email.utils
import json
import logging
import os
import re
import shlex
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from keyturn.core.config import read_section
from keyturn.core.errors import ConfigError, KeyturnError
from keyturn.core.files import read_secret_file
from keyturn.core.http import (
    RetryPolicy,
    is_loopback,
    new_client,
    send_with_retries,
    tls_context,
    tls_failure,
)
from keyturn.core.redact import redact, redact_document, register_secret

log = logging.getLogger(__name__)

Outcome = Literal["success", "failure", "rollback"]
ALL_OUTCOMES: tuple[Outcome, ...] = ("success", "failure", "rollback")
AlertKind = Literal[
    "rotation_failed",  # a rotation failed and was rolled back; it will be retried
    "needs_attention",  # failed max_attempts times; no more retries
    "recovered",  # rotated fine after failures
    "unhealthy",  # its health check or its workflows' executions fail
    "healthy_again",
    "due_blocked",  # due, but cannot be rotated unattended (event["reason"] says why)
    "reminder",  # rotated by hand, and older than its remind_after
]
ALERT_KINDS: tuple[AlertKind, ...] = (
    "rotation_failed",
    "needs_attention",
    "recovered",
    "unhealthy",
    "healthy_again",
    "due_blocked",
    "reminder",
)
SmtpSecurity = Literal["starttls", "tls", "none"]
CA_SETTING = "notifications.ca_bundle"


class NotificationSettings(BaseModel):
    """`[notifications]` in keyturn.toml. URLs that embed a token and the SMTP password come
    from the environment or a file, never from keyturn.toml itself."""

    model_config = ConfigDict(extra="forbid")

    slack_webhook_url_env: str | None = None
    slack_webhook_url_file: Path | None = None
    webhook_url: str | None = None
    webhook_url_env: str | None = None
    webhook_token_env: str | None = Field(
        default=None, description="Sent as Authorization: Bearer TOKEN to webhook_url."
    )
    on: list[Outcome] = Field(default_factory=lambda: list(ALL_OUTCOMES))
    alerts: list[AlertKind] = Field(
        default_factory=lambda: list(ALERT_KINDS),
        description="Which alerts of `keyturn serve` are sent (default: all).",
    )
    timeout: float = 5.0
    verify_tls: bool = True
    ca_bundle: Path | None = Field(
        default=None, description="PEM file of the CA certificates to trust (a private CA)."
    )
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: SmtpSecurity = Field(
        default="starttls",
        description='"starttls" (port 587), "tls" (implicit TLS, port 465) or "none" '
        "(a loopback relay only).",
    )
    smtp_user: str | None = None
    smtp_password_env: str | None = None
    smtp_password_file: Path | None = None
    email_from: str | None = None
    email_to: list[str] = Field(default_factory=list)
    smtp_timeout: float = Field(
        default=10.0, gt=0, description="Seconds for each network operation with the server."
    )


@dataclass(frozen=True)
class _Message:
    """One notification in each channel's form (not yet redacted)."""

    document: dict[str, Any]  # the JSON webhook's body
    slack: str  # Slack mrkdwn, names escaped
    subject: str  # the e-mail's subject, after "keyturn: "
    body: str  # the e-mail's plain text


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
        _check_email_settings(settings)
        return cls(settings)

    def notify(self, outcome: Outcome, event: dict[str, Any]) -> None:
        """Tell every channel how a rotation ended."""
        settings = self.settings
        if settings is None or outcome not in settings.on:
            return
        name = _one_line(event.get("credential_name") or "?", 80)
        self._send(
            _Message(
                document={"source": "keyturn", "outcome": outcome, "at": _now(), **event},
                slack=_slack_text(outcome, event),
                subject=f'rotation of "{name}" {_OUTCOME_WORDS[outcome]}',
                body=_body(_outcome_sentence(outcome, event), event),
            )
        )

    def alert(self, kind: str, event: dict[str, Any]) -> bool:
        """Tell every channel about a state change `keyturn serve` saw (`kind`: one of
        ALERT_KINDS; another is a programming error, a ValueError). `event` holds `instance`,
        `credential_id`, `credential_name` and, as the kind has them, `detail`, `reason`,
        `attempts`, `next_attempt`, `age_seconds`, `cause`. False when a channel did not take
        it (the caller may send it again later); True when every channel did, or none is
        meant to have it."""
        if kind not in ALERT_KINDS:
            raise ValueError(f"unknown alert kind {kind!r}; one of {', '.join(ALERT_KINDS)}")
        settings = self.settings
        if settings is None or kind not in settings.alerts:
            return True
        sentence = _alert_sentence(kind, event)
        name = _one_line(event.get("credential_name") or "?", 80)
        return self._send(
            _Message(
                document={
                    "source": "keyturn",
                    "alert": kind,
                    "at": _now(),
                    "message": sentence,
                    **event,
                },
                slack=f"{_ALERT_ICONS[kind]} keyturn: {_slack_escape(sentence)}",
                subject=_ALERT_SUBJECTS[kind].format(name=name),
                body=_body(sentence, {"alert": kind, **event}),
            )
        )

    # -- channels ---------------------------------------------------------------------------------

    def _send(self, message: _Message) -> bool:
        """Every channel gets its try; True if none failed."""
        settings = self.settings
        if settings is None:
            return True
        delivered = [
            _guarded("Slack notification", lambda: self._send_slack(settings, message)),
            _guarded("webhook notification", lambda: self._send_webhook(settings, message)),
        ]
        if settings.smtp_host:
            delivered.append(
                _guarded("e-mail notification", lambda: self._send_email(settings, message))
            )
        return all(delivered)

    def _send_slack(self, settings: NotificationSettings, message: _Message) -> bool:
        slack = self._secret_url(settings.slack_webhook_url_env, settings.slack_webhook_url_file)
        if not slack:
            return True
        text = {"text": redact(message.slack)}
        return self._post("Slack", slack, text, {}, "the Slack webhook URL (it embeds a token)")

    def _send_webhook(self, settings: NotificationSettings, message: _Message) -> bool:
        generic = settings.webhook_url or self._secret_url(settings.webhook_url_env, None)
        if not generic:
            return True
        headers = {}
        token = os.environ.get(settings.webhook_token_env or "", "").strip()
        if token:
            register_secret(token)
            headers["Authorization"] = f"Bearer {token}"
        carries = f"the notification token (${settings.webhook_token_env})" if token else None
        return self._post("webhook", generic, _json_document(message.document), headers, carries)

    def _send_email(self, settings: NotificationSettings, message: _Message) -> bool:
        """True when at least one recipient took it (the others are named in a warning)."""
        mail = _email_message(settings, message)
        try:
            refused = _deliver_email(settings, mail)
        except (smtplib.SMTPException, OSError, UnicodeError) as exc:
            log.warning(
                "e-mail notification not delivered: %s", redact(_smtp_failure(exc, settings))
            )
            return False
        if refused:
            log.warning(
                "e-mail notification refused for %d of %d recipients (%s)",
                len(refused),
                len(settings.email_to),
                _one_line(", ".join(sorted(refused)), 300),
            )
        return True  # (a server refusing every recipient raises SMTPRecipientsRefused)

    @staticmethod
    def _secret_url(env: str | None, file: Path | None) -> str | None:
        value = os.environ.get(env, "").strip() if env else ""
        if not value and file is not None:
            value = read_secret_file(file, "notifications.slack_webhook_url_file")
        if value:
            register_secret(value)  # webhook URLs embed their token
        return value or None

    def _post(
        self,
        channel: str,
        url: str,
        payload: dict[str, Any],
        headers: dict[str, str],
        carries: str | None,
    ) -> bool:
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
            name = type(outcome).__name__
            log.warning("%s notification not delivered: %s%s", channel, name, tls)
            return False
        if outcome.status_code >= 400:
            log.warning("%s notification refused (%s)", channel, outcome.status_code)
            return False
        return True


def _guarded(channel: str, send: Callable[[], bool]) -> bool:
    """Run one channel's delivery; whatever goes wrong becomes one warning line (and False)."""
    try:
        return send()
    except KeyturnError as exc:  # a secret file that went away, a CA bundle that did
        log.warning("%s not delivered: %s", channel, redact(_one_line(str(exc), 500)))
    except Exception as exc:  # a notification must never break a rotation or the serve loop
        log.warning("%s not delivered: %s", channel, type(exc).__name__)
    return False


# -- e-mail ---------------------------------------------------------------------------------------


def _check_email_settings(settings: NotificationSettings) -> None:
    """E-mail settings are all there or not at all, and safe: a ConfigError naming the
    setting, at start, rather than a message lost later."""
    given = sorted(
        name
        for name in settings.model_fields_set
        if name.startswith(("smtp_", "email_")) and name != "smtp_host"
    )
    if not settings.smtp_host:
        if given:
            raise ConfigError(
                f"notifications.smtp_host is missing, but {given[0]} is set.",
                "Set smtp_host to the SMTP server, or remove the e-mail settings.",
            )
        return
    if not settings.email_to:
        raise ConfigError(
            "notifications.email_to is missing: smtp_host is set but no recipient is.",
            'Set email_to = ["ops@example.com"], or remove smtp_host.',
        )
    if not settings.email_from:
        raise ConfigError(
            "notifications.email_from is missing: smtp_host is set but no sender is.",
            'Set email_from = "keyturn@example.com".',
        )
    _check_address(settings.email_from, "notifications.email_from")
    for address in settings.email_to:
        _check_address(address, "notifications.email_to")
    _check_smtp_login(settings)
    if settings.smtp_security == "none" and not is_loopback(settings.smtp_host):
        raise ConfigError(
            f'notifications.smtp_security = "none" would send mail unencrypted to '
            f"{settings.smtp_host}; it is allowed only to a loopback host.",
            'Use smtp_security = "starttls" (port 587) or "tls" (port 465).',
        )


def _check_smtp_login(settings: NotificationSettings) -> None:
    has_password = settings.smtp_password_env or settings.smtp_password_file
    if settings.smtp_password_env and settings.smtp_password_file:
        raise ConfigError(
            "notifications.smtp_password_env and smtp_password_file are both set.",
            "Keep one of them.",
        )
    if settings.smtp_user and not has_password:
        raise ConfigError(
            "notifications.smtp_password_env (or smtp_password_file) is missing: smtp_user "
            "is set but no password is.",
            "Name the variable or the file that holds the password.",
        )
    if has_password and not settings.smtp_user:
        raise ConfigError(
            "notifications.smtp_user is missing: a password is set but no user name is.",
            "Set smtp_user, or remove the password setting.",
        )
    _smtp_password(settings)  # read now: a missing variable or file is an error at start


def _smtp_password(settings: NotificationSettings) -> str | None:
    """The SMTP password (from its variable or file, read at each use: a mounted secret may
    be replaced), registered for redaction the moment it is read."""
    if settings.smtp_password_env:
        value = os.environ.get(settings.smtp_password_env, "")
        if not value.strip():
            raise ConfigError(
                f"notifications.smtp_password_env names ${settings.smtp_password_env}, "
                "which is not set.",
                "Export it, or use smtp_password_file.",
            )
    elif settings.smtp_password_file:
        value = read_secret_file(settings.smtp_password_file, "notifications.smtp_password_file")
    else:
        return None
    register_secret(value)
    return value


def _check_address(value: str, setting: str) -> None:
    _, address = email.utils.parseaddr(value)
    local, at, domain = address.rpartition("@")
    if _UNSAFE_IN_TEXT.search(value) or not (local and at and domain) or " " in address:
        raise ConfigError(
            f"{setting} has an invalid e-mail address: {value!r}.",
            'Write it like "ops@example.com" or "Ops <ops@example.com>".',
        )


def _email_message(settings: NotificationSettings, message: _Message) -> EmailMessage:
    sender = settings.email_from or ""
    mail = EmailMessage(policy=email.policy.SMTP)
    mail["Subject"] = redact(_one_line(f"keyturn: {message.subject}", 200))
    mail["From"] = sender
    mail["To"] = ", ".join(settings.email_to)
    mail["Date"] = email.utils.format_datetime(datetime.now(UTC))
    domain = email.utils.parseaddr(sender)[1].rpartition("@")[2]
    mail["Message-ID"] = email.utils.make_msgid("keyturn", domain=domain)
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to keyturn
    mail.set_content(redact(message.body))
    return mail


def _deliver_email(settings: NotificationSettings, mail: EmailMessage) -> dict[str, Any]:
    """Send `mail` over SMTP; the recipients the server refused (an exception if all were)."""
    host, port, timeout = settings.smtp_host or "", settings.smtp_port, settings.smtp_timeout
    # The EHLO name given, so that smtplib does not ask DNS for this host's FQDN (a lookup the
    # timeout does not bound).
    local = socket.gethostname() or "localhost"
    client: smtplib.SMTP
    # A socket left open by a failed connect is closed by smtplib itself.
    if settings.smtp_security == "tls":
        context = _smtp_tls(settings)
        client = smtplib.SMTP_SSL(host, port, local, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(host, port, local, timeout=timeout)
    try:
        client.ehlo()
        if settings.smtp_security == "starttls":
            _starttls(client, settings)
        password = _smtp_password(settings)
        if settings.smtp_user and password is not None:
            client.login(settings.smtp_user, password)
        sender = email.utils.parseaddr(settings.email_from or "")[1]
        refused: dict[str, Any] = client.send_message(mail, sender, settings.email_to)
        with contextlib.suppress(smtplib.SMTPException, OSError):
            client.quit()  # the message is sent: a failed goodbye changes nothing
    finally:
        client.close()  # without QUIT after a failure: a server that hangs is not waited on twice
    return refused


def _starttls(client: smtplib.SMTP, settings: NotificationSettings) -> None:
    """Upgrade to TLS, or fail: never go on in plain text when TLS was asked for."""
    if not client.has_extn("starttls"):
        raise _SmtpProblem(
            f"{settings.smtp_host}:{settings.smtp_port} does not offer STARTTLS; if it expects "
            'TLS from the start (port 465), set smtp_security = "tls"'
        )
    client.starttls(context=_smtp_tls(settings))
    client.ehlo()


def _smtp_tls(settings: NotificationSettings) -> ssl.SSLContext:
    """The same trust as the webhooks': `ca_bundle`, else `verify_tls` (public CAs, or
    SSL_CERT_FILE / SSL_CERT_DIR)."""
    if settings.ca_bundle is not None:
        context = tls_context(str(settings.ca_bundle), CA_SETTING)
        if isinstance(context, ssl.SSLContext):
            return context
    return httpx.create_ssl_context(verify=settings.verify_tls)


class _SmtpProblem(smtplib.SMTPException):
    """What keyturn itself found wrong with the server, worded for the log."""


def _smtp_failure(exc: BaseException, settings: NotificationSettings) -> str:
    """One line on why a message was not delivered, and what to change."""
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    if isinstance(exc, _SmtpProblem):
        return str(exc)
    if isinstance(exc, smtplib.SMTPServerDisconnected) and isinstance(exc.__context__, OSError):
        exc = exc.__context__  # smtplib's word for a timeout or a reset while it waited
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"TLS verification of {where} failed ({exc.verify_message}): set {CA_SETTING} "
            "to the CA that signed its certificate"
        )
    if isinstance(exc, ssl.SSLError):
        return (
            f"TLS with {where} failed ({exc.reason or type(exc).__name__}); check "
            'smtp_security ("tls" for port 465, "starttls" for 587)'
        )
    if isinstance(exc, smtplib.SMTPException):
        return f"{where} {_smtp_answer(exc)}"
    if isinstance(exc, UnicodeError):
        return (
            "smtp_user or the password has characters other than ASCII: SMTP AUTH cannot send them"
        )
    return _network_failure(exc, settings)


def _smtp_answer(exc: smtplib.SMTPException) -> str:
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"refused the login of notifications.smtp_user ({exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "refused every recipient in notifications.email_to"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"refused the sender notifications.email_from ({exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"answered {exc.smtp_code}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "closed the connection"
    return f"cannot take the message: {_one_line(str(exc), 200)}"  # no AUTH, SMTPUTF8 needed...


def _network_failure(exc: BaseException, settings: NotificationSettings) -> str:
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    if isinstance(exc, TimeoutError):
        hint = ' (port 465 expects smtp_security = "tls")' if settings.smtp_port == 465 else ""
        return f"no answer from {where} within {settings.smtp_timeout:g}s{hint}"
    if isinstance(exc, ConnectionRefusedError):
        return f"{where} refused the connection"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve {settings.smtp_host}"
    return f"cannot reach {where} ({getattr(exc, 'strerror', None) or type(exc).__name__})"


# -- texts ----------------------------------------------------------------------------------------

# Kept out of every line keyturn writes from n8n's data: CR, LF and other control characters
# (a header injection, a broken layout), Unicode line separators, and bidirectional controls
# (they can make a line read backwards). Emoji and other scripts stay.
_UNSAFE_IN_TEXT = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)

_OUTCOME_WORDS: dict[Outcome, str] = {
    "success": "succeeded",
    "failure": "failed",
    "rollback": "rolled back",
}
_ALERT_SUBJECTS: dict[AlertKind, str] = {
    "rotation_failed": 'rotation of "{name}" failed, will retry',
    "needs_attention": 'rotation of "{name}" needs attention',
    "recovered": 'rotation of "{name}" recovered',
    "unhealthy": '"{name}" is unhealthy',
    "healthy_again": '"{name}" is healthy again',
    "due_blocked": 'rotation of "{name}" is blocked',
    "reminder": '"{name}" is due for a rotation by hand',
}
_ALERT_ICONS: dict[AlertKind, str] = {
    "rotation_failed": ":warning:",
    "needs_attention": ":rotating_light:",
    "recovered": ":white_check_mark:",
    "unhealthy": ":red_circle:",
    "healthy_again": ":large_green_circle:",
    "due_blocked": ":no_entry:",
    "reminder": ":alarm_clock:",
}
# The e-mail body's lines under the sentence, in this order, when the event has them.
_DETAIL_LINES = (
    ("instance", "Instance"),
    ("credential_name", "Credential"),
    ("credential_id", "Credential id"),
    ("alert", "Alert"),
    ("cause", "Cause"),
    ("reason", "Reason"),
    ("detail", "Detail"),
    ("error", "Error"),
    ("attempts", "Attempts"),
    ("next_attempt", "Next attempt"),
    ("age_seconds", "Age"),
    ("rotation_id", "Rotation"),
    ("status", "Status"),
    ("step", "Step"),
    ("pending_fingerprint", "New value"),
    ("previous_fingerprint", "Previous value"),
)


def _one_line(value: Any, limit: int) -> str:
    """`value` as one line of at most `limit` characters, without control characters."""
    text = " ".join(_UNSAFE_IN_TEXT.sub(" ", _text(value)).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _who(event: dict[str, Any]) -> str:
    """`"NAME" (ID) on INSTANCE`: which credential a sentence is about."""
    name = _one_line(event.get("credential_name") or "?", 200)
    who = f'"{name}" ({_one_line(event.get("credential_id") or "?", 100)})'
    instance = event.get("instance")
    return f"{who} on {_one_line(instance, 100)}" if instance else who


def _clause(event: dict[str, Any], key: str, before: str = ": ", after: str = "") -> str:
    """`event[key]` as one line between `before` and `after`; "" when the event has none."""
    value = event.get(key)
    return f"{before}{_one_line(value, 500)}{after}" if value not in (None, "") else ""


def _command(event: dict[str, Any], command: str) -> str:
    credential = shlex.quote(_one_line(event.get("credential_id") or "CREDENTIAL", 100))
    return f'"keyturn {command} {credential}"'


def _age(seconds: Any) -> str | None:
    """`93 days old` (or hours, under two days); None when `seconds` is not a number."""
    try:
        hours = float(seconds) / 3600
    except (TypeError, ValueError):
        return None
    return f"{hours / 24:.0f} days old" if hours >= 48 else f"{hours:.0f} hours old"


def _outcome_sentence(outcome: Outcome, event: dict[str, Any]) -> str:
    who = _who(event)
    if outcome == "success":
        new = _clause(event, "pending_fingerprint", " ")
        return (
            f"Credential {who} was rotated: n8n now uses the new value{new}; nothing needs doing."
        )
    error = _clause(event, "error", " (", ")")
    if outcome == "rollback":
        return (
            f"The rotation of credential {who} failed{error} and was rolled back, so the "
            'previous value is in use again; fix the cause ("keyturn doctor" helps) and rotate '
            "it again."
        )
    return (
        f"The rotation of credential {who} failed{error} and was not rolled back; run "
        f'"keyturn status" to see where it stopped, then "keyturn resume" to finish it or '
        f"{_command(event, 'rollback')} to undo it."
    )


def _alert_sentence(kind: AlertKind, event: dict[str, Any]) -> str:
    """One sentence per kind: what happened, and what the operator should do."""
    who, detail = _who(event), _clause(event, "detail", " (", ")")
    attempts = _one_line(event.get("attempts") or "", 20)
    rotate = _command(event, "rotate")
    if kind == "rotation_failed":
        attempt = f"attempt {attempts}" if attempts else ""
        why = ": ".join(part for part in (attempt, _clause(event, "detail", "")) if part)
        why = f" ({why})" if why else ""
        when = _clause(event, "next_attempt", " at ")
        return (
            f"The rotation of credential {who} failed{why} and was rolled back, so "
            f"the previous value is still in use; keyturn will retry it{when}, and nothing "
            "needs doing unless it keeps failing."
        )
    if kind == "needs_attention":
        times = f" {attempts} times" if attempts else ""
        return (
            f"The rotation of credential {who} failed{times}{detail}, each time rolled back, "
            'and keyturn will not retry it; find the cause with "keyturn doctor", fix it, '
            f"then run {rotate}."
        )
    if kind == "recovered":
        after = f" after {attempts} failed attempts" if attempts else " after failing before"
        return f"Credential {who} was rotated successfully{after}; nothing needs doing."
    if kind == "unhealthy":
        why = _clause(event, "cause", " (", ")") + _clause(event, "detail")
        return (
            f"Credential {who} is failing{why}; check that its secret is still valid at the "
            'provider, and run "keyturn doctor" to see the failing executions.'
        )
    if kind == "healthy_again":
        return f"Credential {who} is healthy again; nothing needs doing."
    if kind == "due_blocked":
        reason = _clause(event, "reason") or ": no reason given"
        return (
            f"Credential {who} is due for rotation but cannot be rotated unattended{reason}; "
            f"fix that, or rotate it by hand with {rotate}."
        )
    age = _age(event.get("age_seconds"))
    old = f"is {age}, past its remind_after" if age else "is older than its remind_after"
    return (
        f"Credential {who} is rotated by hand and its secret {old}; rotate it, for example "
        f"with {rotate}."
    )


def _body(sentence: str, event: dict[str, Any]) -> str:
    """An e-mail's plain text: the sentence, then what the event says, one field a line."""
    lines = [sentence, ""]
    for key, label in _DETAIL_LINES:
        value = event.get(key)
        if value in (None, ""):
            continue
        age = _age(value) if key == "age_seconds" else None
        text = age or _one_line(value, 1000)
        lines.append(f"{label + ':':<16}{text}")
    return "\n".join(lines) + "\n"


def _json_document(document: dict[str, Any]) -> dict[str, Any]:
    """The webhook's body as plain JSON (times as ISO 8601), every string redacted."""

    def plain(value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else str(value)

    converted: dict[str, Any] = json.loads(json.dumps(document, default=plain))
    redacted: dict[str, Any] = redact_document(converted)
    return redacted


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
