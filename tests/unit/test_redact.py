"""The logging filter keeps every registered secret out of log output."""

from __future__ import annotations

import logging

import pytest

from keyturn.core.redact import REDACTED, configure_logging, forget_secrets, redact, register_secret


@pytest.fixture(autouse=True)
def fresh_registry() -> None:
    forget_secrets()


def test_redact_replaces_longest_first() -> None:
    register_secret("abcd1234")
    register_secret("abcd1234-suffix")
    assert redact("a=abcd1234-suffix b=abcd1234") == f"a={REDACTED} b={REDACTED}"


def test_short_values_are_not_registered() -> None:
    register_secret("ab")
    assert redact("ab") == "ab"


def test_log_records_and_tracebacks_are_redacted(capfd: pytest.CaptureFixture[str]) -> None:
    secret = "sk-live-very-secret-0001"
    register_secret(secret)
    configure_logging("DEBUG")
    logger = logging.getLogger("keyturn.test")
    logger.info("using key %s", secret)
    try:
        raise ValueError(f"bad key {secret}")
    except ValueError:
        logger.exception("failed")
    err = capfd.readouterr().err
    assert secret not in err
    assert err.count(REDACTED) == 2  # the message and the exception text
    assert "ValueError" in err
