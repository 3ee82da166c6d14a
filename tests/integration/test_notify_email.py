"""E-mail notifications and alerts, received by a real SMTP server (aiosmtpd) on 127.0.0.1:
plain, STARTTLS and implicit TLS with a `trustme` CA, AUTH, a wrong CA, hostile names, a server
that is down or silent, and the settings refused at start."""

from __future__ import annotations

import email
import email.policy
import logging
import secrets
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from keyturn.core.errors import ConfigError
from keyturn.core.redact import REDACTED, redact, register_secret
from keyturn.notify import ALERT_KINDS, Notifier
from keyturn.sandbox.n8n_server import free_port
from tests.integration.test_notifications import Receiver

SENDER = "keyturn@example.com"
RECIPIENTS = ["ops@example.com", "oncall@example.com"]
USER = "keyturn-mailer"

EVENT: dict[str, Any] = {
    "instance": "prod",
    "credential_id": "xVnI3p6fJ2SmUfEV",
    "credential_name": "Partner API",
}


@dataclass
class Received:
    envelope_from: str
    envelope_to: list[str]
    raw: bytes
    tls: bool
    message: EmailMessage

    @property
    def body(self) -> str:
        content: str = self.message.get_content()
        return content.replace("\r\n", "\n")  # as sent: SMTP's line ends


@dataclass
class Mailbox:
    """What an aiosmtpd server on 127.0.0.1 received, and who logged in."""

    port: int
    received: list[Received] = field(default_factory=list)
    logins: list[tuple[bytes, bool]] = field(default_factory=list)  # (login, accepted)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address.startswith("refused@"):
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(
            Received(
                str(envelope.mail_from),
                list(envelope.rcpt_tos),
                raw,
                session.ssl is not None,
                parsed,
            )
        )
        return "250 OK"

    def authenticator(self, password: str) -> Callable[..., AuthResult]:
        def check(
            server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
        ) -> AuthResult:
            ok = isinstance(data, LoginPassword) and data == (USER.encode(), password.encode())
            self.logins.append((data.login if isinstance(data, LoginPassword) else b"", ok))
            return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535

        return check


# aiosmtpd counts only STARTTLS as TLS for AUTH: with implicit TLS, and in the test of a server
# without STARTTLS, AUTH is allowed without it on purpose.
NO_TLS_REQUIRED_FOR_AUTH = pytest.mark.filterwarnings(
    "ignore:Requiring AUTH while not requiring TLS:UserWarning"
)


@dataclass
class Certificates:
    ca_bundle: Path  # the CA that signed the server's certificate
    other_ca_bundle: Path  # a CA that did not
    server_context: ssl.SSLContext


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    folder = tmp_path_factory.mktemp("smtp-tls")
    ca, other = trustme.CA(), trustme.CA()
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    other.cert_pem.write_to_path(str(folder / "other-ca.pem"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    return Certificates(folder / "ca.pem", folder / "other-ca.pem", context)


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., Mailbox]]:
    """Starts aiosmtpd servers (keyword arguments: aiosmtpd's); stops them after the test."""
    controllers: list[Controller] = []

    def start(password: str | None = None, **options: Any) -> Mailbox:
        mailbox = Mailbox(free_port())
        if password is not None:
            options["authenticator"] = mailbox.authenticator(password)
            options.setdefault("auth_required", True)
        controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port, **options)
        controller.start()
        controllers.append(controller)
        return mailbox

    yield start
    for controller in controllers:
        controller.stop()


def email_table(mailbox: Mailbox, **settings: Any) -> dict[str, Any]:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": mailbox.port,
        "smtp_security": "none",
        "email_from": f"keyturn <{SENDER}>",
        "email_to": RECIPIENTS,
        **settings,
    }


def keyturn_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("keyturn") and r.levelno >= 30]


def one_warning(caplog: pytest.LogCaptureFixture) -> str:
    """The one warning keyturn logged: one line, no traceback."""
    warnings = keyturn_warnings(caplog)
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    record = warnings[0]
    assert record.exc_info is None and record.stack_info is None
    message = record.getMessage()
    assert "\n" not in message and "\r" not in message
    return message


# -- (a) rotation outcomes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "words"),
    [("success", "succeeded"), ("failure", "failed"), ("rollback", "rolled back")],
)
def test_a_rotation_outcome_arrives_by_email_without_a_secret(
    smtp_server: Callable[..., Mailbox], outcome: Any, words: str
) -> None:
    mailbox = smtp_server()
    secret = f"sk-live-{secrets.token_hex(12)}"
    register_secret(secret)  # as the rotation does with every value it handles
    event = {
        **EVENT,
        "rotation_id": "0781fc09",
        "pending_fingerprint": "fp:7c1e0a9b44d2",
        "error": f"verification failed: the provider answered 401 to {secret}",
    }
    Notifier.from_config(email_table(mailbox)).notify(outcome, event)

    [mail] = mailbox.received
    assert mail.envelope_from == SENDER
    assert mail.envelope_to == RECIPIENTS
    assert mail.message["Subject"] == f'keyturn: rotation of "Partner API" {words}'
    assert mail.message["To"] == ", ".join(RECIPIENTS)
    assert mail.message["From"] == f"keyturn <{SENDER}>"
    assert mail.message["Auto-Submitted"] == "auto-generated"
    assert mail.message.get_content_type() == "text/plain"
    assert '"Partner API" (xVnI3p6fJ2SmUfEV) on prod' in mail.body
    assert "Rotation:       0781fc09" in mail.body
    assert secret not in mail.body and secret.encode() not in mail.raw
    if outcome != "success":
        assert f"the provider answered 401 to {REDACTED}" in mail.body


def test_outcomes_not_in_on_are_not_mailed(smtp_server: Callable[..., Mailbox]) -> None:
    mailbox = smtp_server()
    notifier = Notifier.from_config(email_table(mailbox, on=["failure"]))
    notifier.notify("success", EVENT)
    notifier.notify("failure", EVENT)
    assert [m.message["Subject"] for m in mailbox.received] == [
        'keyturn: rotation of "Partner API" failed'
    ]


def test_a_refused_recipient_is_one_warning_and_the_others_get_it(
    smtp_server: Callable[..., Mailbox], caplog: pytest.LogCaptureFixture
) -> None:
    mailbox = smtp_server()
    caplog.set_level(logging.WARNING)
    to = [*RECIPIENTS, "refused@example.com"]
    Notifier.from_config(email_table(mailbox, email_to=to)).notify("success", EVENT)
    [mail] = mailbox.received
    assert mail.envelope_to == RECIPIENTS
    assert one_warning(caplog) == (
        "e-mail notification refused for 1 of 3 recipients (refused@example.com)"
    )
    Notifier.from_config(email_table(mailbox, email_to=["refused@example.com"])).notify(
        "success", EVENT
    )
    assert "refused every recipient in notifications.email_to" in caplog.text


# -- (b) alerts ---------------------------------------------------------------------------------

ALERT_EVENT: dict[str, Any] = {
    **EVENT,
    "detail": "the provider answered 401",
    "reason": "no provider is configured to issue a new key",
    "attempts": 3,
    "next_attempt": "2026-12-01T03:00:00+00:00",
    "age_seconds": 93 * 86400,
    "cause": "auth_refused",
}
# What each alert's sentence must say: what happened, and what to do.
ALERT_TEXTS = {
    "rotation_failed": (
        'rotation of "Partner API" failed, will retry',
        "failed (attempt 3: the provider answered 401) and was rolled back",
        "keyturn will retry it at 2026-12-01T03:00:00+00:00",
    ),
    "needs_attention": (
        'rotation of "Partner API" needs attention',
        "failed 3 times (the provider answered 401), each time rolled back",
        'keyturn will not retry it; find the cause with "keyturn doctor", fix it, then run '
        '"keyturn rotate xVnI3p6fJ2SmUfEV".',
    ),
    "recovered": (
        'rotation of "Partner API" recovered',
        "was rotated successfully after 3 failed attempts; nothing needs doing.",
    ),
    "unhealthy": (
        '"Partner API" is unhealthy',
        "is failing (auth_refused): the provider answered 401",
        "check that its secret is still valid at the provider",
    ),
    "healthy_again": (
        '"Partner API" is healthy again',
        "is healthy again; nothing needs doing.",
    ),
    "due_blocked": (
        'rotation of "Partner API" is blocked',
        "cannot be rotated unattended: no provider is configured to issue a new key",
        'rotate it by hand with "keyturn rotate xVnI3p6fJ2SmUfEV"',
    ),
    "reminder": (
        '"Partner API" is due for a rotation by hand',
        "its secret is 93 days old, past its remind_after; rotate it",
    ),
}


def test_each_alert_kind_arrives_with_its_sentence(smtp_server: Callable[..., Mailbox]) -> None:
    assert set(ALERT_TEXTS) == set(ALERT_KINDS)
    mailbox = smtp_server()
    notifier = Notifier.from_config(email_table(mailbox))
    for kind in ALERT_KINDS:
        notifier.alert(kind, ALERT_EVENT)

    assert len(mailbox.received) == len(ALERT_KINDS)
    for kind, mail in zip(ALERT_KINDS, mailbox.received, strict=True):
        subject, *sentence = ALERT_TEXTS[kind]
        assert mail.message["Subject"] == f"keyturn: {subject}"
        first_line = mail.body.splitlines()[0]
        assert first_line.startswith(("The rotation of credential", "Credential")), first_line
        assert '"Partner API" (xVnI3p6fJ2SmUfEV) on prod' in first_line
        for part in sentence:
            assert part in first_line, (kind, first_line)
        assert f"Alert:          {kind}" in mail.body


def test_alerts_are_filtered_by_the_alerts_setting(smtp_server: Callable[..., Mailbox]) -> None:
    mailbox = smtp_server()
    notifier = Notifier.from_config(email_table(mailbox, alerts=["needs_attention"]))
    for kind in ALERT_KINDS:
        notifier.alert(kind, ALERT_EVENT)
    assert [m.message["Subject"] for m in mailbox.received] == [
        'keyturn: rotation of "Partner API" needs attention'
    ]
    with pytest.raises(ValueError, match="unknown alert kind 'rotated'"):
        notifier.alert("rotated", ALERT_EVENT)  # a programming error, not a lost message


def test_an_alert_goes_to_every_channel_and_one_down_stops_no_other(
    smtp_server: Callable[..., Mailbox], caplog: pytest.LogCaptureFixture
) -> None:
    mailbox = smtp_server()
    receiver = Receiver()
    try:
        table = {
            **email_table(mailbox),
            "webhook_url": f"{receiver.url}/hooks/keyturn",
            "slack_webhook_url_env": "KEYTURN_TEST_UNSET_SLACK_URL",
        }
        Notifier.from_config(table).alert("needs_attention", ALERT_EVENT)
        dead = {**table, "smtp_port": free_port(), "smtp_timeout": 1}  # nothing listens there
        caplog.set_level(logging.WARNING)
        Notifier.from_config(dead).alert("recovered", ALERT_EVENT)
    finally:
        receiver.server.shutdown()
    assert len(mailbox.received) == 1
    documents = [body for _, _, body in receiver.posts]
    assert [d["alert"] for d in documents] == ["needs_attention", "recovered"]
    assert "e-mail notification not delivered" in one_warning(caplog)


# -- (c) STARTTLS, implicit TLS and AUTH --------------------------------------------------------


def test_starttls_with_a_private_ca_and_auth_never_shows_the_password(
    smtp_server: Callable[..., Mailbox],
    certificates: Certificates,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    password = f"smtp-pw-{secrets.token_urlsafe(16)}"
    monkeypatch.setenv("KEYTURN_TEST_SMTP_PASSWORD", password)
    mailbox = smtp_server(
        password,
        tls_context=certificates.server_context,
        require_starttls=True,
        auth_require_tls=True,
    )
    caplog.set_level(logging.DEBUG)
    notifier = Notifier.from_config(
        email_table(
            mailbox,
            smtp_security="starttls",
            smtp_user=USER,
            smtp_password_env="KEYTURN_TEST_SMTP_PASSWORD",
            ca_bundle=str(certificates.ca_bundle),
        )
    )
    assert redact(password) == REDACTED  # registered when read, before any use
    notifier.alert("unhealthy", {**ALERT_EVENT, "detail": f"the server echoed {password}"})

    [mail] = mailbox.received
    assert mail.tls
    assert mailbox.logins == [(USER.encode(), True)]
    assert password not in mail.body and password.encode() not in mail.raw
    # aiosmtpd's own debug log ("mail.log") prints the AUTH line it received: it is the
    # server's log, not keyturn's; every other record (keyturn's, smtplib's, ssl's) is checked.
    client_side = [r for r in caplog.records if not r.name.startswith("mail")]
    assert all(password not in r.getMessage() for r in client_side)
    assert not keyturn_warnings(caplog)
    output = capfd.readouterr()
    assert password not in output.out and password not in output.err


@NO_TLS_REQUIRED_FOR_AUTH
def test_implicit_tls_with_a_password_file(
    smtp_server: Callable[..., Mailbox], certificates: Certificates, tmp_path: Path
) -> None:
    password = f"smtp-pw-{secrets.token_urlsafe(16)}"
    password_file = tmp_path / "smtp-password"
    password_file.write_text(password + "\n")
    mailbox = smtp_server(password, ssl_context=certificates.server_context, auth_require_tls=False)
    Notifier.from_config(
        email_table(
            mailbox,
            smtp_security="tls",
            smtp_user=USER,
            smtp_password_file=str(password_file),
            ca_bundle=str(certificates.ca_bundle),
        )
    ).alert("healthy_again", ALERT_EVENT)
    [mail] = mailbox.received
    assert mail.message["Subject"] == 'keyturn: "Partner API" is healthy again'
    assert mailbox.logins == [(USER.encode(), True)]


def test_a_refused_login_is_one_warning_without_the_password(
    smtp_server: Callable[..., Mailbox],
    certificates: Certificates,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mailbox = smtp_server("the-right-password", tls_context=certificates.server_context)
    wrong = f"wrong-{secrets.token_urlsafe(16)}"
    monkeypatch.setenv("KEYTURN_TEST_SMTP_PASSWORD", wrong)
    caplog.set_level(logging.WARNING)
    Notifier.from_config(
        email_table(
            mailbox,
            smtp_security="starttls",
            smtp_user=USER,
            smtp_password_env="KEYTURN_TEST_SMTP_PASSWORD",
            ca_bundle=str(certificates.ca_bundle),
        )
    ).notify("success", EVENT)
    warning = one_warning(caplog)
    assert "refused the login of notifications.smtp_user (535)" in warning
    assert wrong not in caplog.text
    assert mailbox.received == []


@NO_TLS_REQUIRED_FOR_AUTH
def test_starttls_is_required_when_asked_for(
    smtp_server: Callable[..., Mailbox],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server that offers no STARTTLS gets neither the message nor the password in clear."""
    mailbox = smtp_server("pw-0123456789", auth_require_tls=False)
    monkeypatch.setenv("KEYTURN_TEST_SMTP_PASSWORD", "pw-0123456789")
    caplog.set_level(logging.WARNING)
    table = email_table(
        mailbox,
        smtp_security="starttls",
        smtp_user=USER,
        smtp_password_env="KEYTURN_TEST_SMTP_PASSWORD",
    )
    Notifier.from_config(table).notify("success", EVENT)
    assert "does not offer STARTTLS" in one_warning(caplog)
    assert mailbox.received == [] and mailbox.logins == []


# -- (d) a wrong CA -----------------------------------------------------------------------------


def test_a_certificate_from_another_ca_is_one_warning_naming_the_setting(
    smtp_server: Callable[..., Mailbox],
    certificates: Certificates,
    caplog: pytest.LogCaptureFixture,
) -> None:
    mailbox = smtp_server(tls_context=certificates.server_context)
    caplog.set_level(logging.WARNING)
    table = email_table(
        mailbox, smtp_security="starttls", ca_bundle=str(certificates.other_ca_bundle)
    )
    Notifier.from_config(table).alert("reminder", ALERT_EVENT)  # does not raise
    warning = one_warning(caplog)
    assert warning.startswith("e-mail notification not delivered: TLS verification of 127.0.0.1")
    assert "set notifications.ca_bundle" in warning
    assert mailbox.received == []


# -- (e) hostile names --------------------------------------------------------------------------

HOSTILE_NAME = (
    "x\r\nBcc: evil@example.com\r\nX-Injected: yes\n\n<b>bold</b> \u202emoc.live\u202c "
    "\u200f\u05e9\u05dc\u05d5\u05dd 🔑 ünïcødé\x00\x1b[31m"
)


def test_a_hostile_name_cannot_add_a_header_or_break_the_message(
    smtp_server: Callable[..., Mailbox],
) -> None:
    mailbox = smtp_server()
    notifier = Notifier.from_config(email_table(mailbox))
    hostile = {
        **EVENT,
        "credential_name": HOSTILE_NAME,
        "detail": "first\r\n.\r\nMAIL FROM:<evil@example.com>\r\nBcc: evil2@example.com",
    }
    notifier.alert("unhealthy", hostile)
    notifier.notify("rollback", {**hostile, "error": hostile["detail"]})

    assert len(mailbox.received) == 2
    for mail in mailbox.received:
        assert mail.envelope_to == RECIPIENTS
        headers = {name.lower() for name in mail.message}
        assert headers == {
            "subject", "from", "to", "date", "message-id", "auto-submitted",
            "content-type", "content-transfer-encoding", "mime-version",
        }  # fmt: skip
        subject = str(mail.message["Subject"])
        assert "Bcc: evil@example.com X-Injected: yes <b>bold</b>" in subject
        assert "\u05e9\u05dc\u05d5\u05dd 🔑 ünïcødé" in subject
        for character in "\r\n\x00\x1b\u202e\u202c\u200f":
            assert character not in subject
            assert character not in mail.body.replace("\n", "")
        first_line, _, *details = mail.body.splitlines()
        assert "Bcc: evil@example.com" in first_line  # the name stays readable, as text
        assert all(line[:16].rstrip().endswith(":") for line in details), details
    assert "MAIL FROM:<evil@example.com> Bcc: evil2@example.com" in mailbox.received[0].body


# -- (f) a server that is down or silent -------------------------------------------------------


def test_a_server_that_is_down_is_one_warning_and_no_wait(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    table = email_table(Mailbox(free_port()), smtp_timeout=2)  # nothing listens there
    started = time.monotonic()
    Notifier.from_config(table).alert("needs_attention", ALERT_EVENT)
    assert time.monotonic() - started < 2
    assert "refused the connection" in one_warning(caplog)


def test_a_server_that_never_answers_is_given_smtp_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog), never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        caplog.set_level(logging.WARNING)
        table = email_table(Mailbox(silent.getsockname()[1]), smtp_timeout=0.5)
        started = time.monotonic()
        Notifier.from_config(table).notify("failure", EVENT)
        elapsed = time.monotonic() - started
    assert 0.4 < elapsed < 2.5
    assert "within 0.5s" in one_warning(caplog)


# -- (g) settings refused at start --------------------------------------------------------------

FULL = {"smtp_host": "smtp.example.com", "email_from": SENDER, "email_to": RECIPIENTS}


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ({"smtp_host": "smtp.example.com", "email_from": SENDER}, "notifications.email_to"),
        ({"smtp_host": "smtp.example.com", "email_to": RECIPIENTS}, "notifications.email_from"),
        ({"email_to": RECIPIENTS}, "notifications.smtp_host is missing, but email_to"),
        ({"email_from": SENDER}, "notifications.smtp_host is missing, but email_from"),
        ({"smtp_port": 465}, "notifications.smtp_host is missing, but smtp_port"),
        ({**FULL, "smtp_user": USER}, "notifications.smtp_password_env"),
        ({**FULL, "smtp_password_env": "X"}, "notifications.smtp_user is missing"),
        ({**FULL, "smtp_security": "none"}, 'notifications.smtp_security = "none"'),
        ({**FULL, "smtp_host": "10.0.0.1", "smtp_security": "none"}, "to 10.0.0.1"),
        ({**FULL, "smtp_security": "ssl"}, "notifications.smtp_security"),
        ({**FULL, "email_to": ["ops"]}, "notifications.email_to has an invalid"),
        ({**FULL, "email_to": ["a@example.com\r\nBcc: b@example.com"]}, "notifications.email_to"),
        ({**FULL, "email_from": "keyturn"}, "notifications.email_from has an invalid"),
        ({**FULL, "smtp_password": "hunter2"}, "notifications.smtp_password"),
        ({**FULL, "smtp_port": 0}, "notifications.smtp_port"),
        ({**FULL, "smtp_timeout": 0}, "notifications.smtp_timeout"),
        ({**FULL, "alerts": ["sometimes"]}, "notifications.alerts.0"),
        (
            {**FULL, "smtp_user": USER, "smtp_password_env": "KEYTURN_TEST_UNSET_PASSWORD"},
            "$KEYTURN_TEST_UNSET_PASSWORD, which is not set",
        ),
        (
            {**FULL, "smtp_user": USER, "smtp_password_file": "/nonexistent/smtp-password"},
            "notifications.smtp_password_file points at /nonexistent/smtp-password",
        ),
    ],
)
def test_partial_or_unsafe_email_settings_are_one_line_errors(
    table: dict[str, Any], named: str
) -> None:
    with pytest.raises(ConfigError) as info:
        Notifier.from_config(table)
    assert named in str(info.value)
    assert "\n" not in str(info.value)


def test_plain_smtp_is_refused_beyond_loopback_with_what_to_do() -> None:
    with pytest.raises(ConfigError) as info:
        Notifier.from_config({**FULL, "smtp_security": "none"})
    assert 'Use smtp_security = "starttls" (port 587) or "tls" (port 465).' in str(info.value)
    for host in ("127.0.0.1", "localhost", "::1"):
        Notifier.from_config({**FULL, "smtp_host": host, "smtp_security": "none"})
