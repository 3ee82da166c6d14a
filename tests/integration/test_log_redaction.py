"""The log lines real libraries write at debug level carry no secret: botocore's answer to
CreateAccessKey (against moto's server), httpx's request line of a query-auth probe (against the
demo provider), and keyturn's own lines."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from keyturn.core.probe import AuthPlacement, probe_url
from keyturn.core.redact import REDACTED, configure_logging, forget_secrets, register_secret
from keyturn.sandbox.demo_provider import DemoProvider
from tests.conftest import MotoServer
from tests.unit.test_redact import every_encoding, reset_logging


@pytest.fixture(autouse=True)
def fresh_logging() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()
    reset_logging()


def leaks(text: str, secret: str) -> list[str]:
    return [how for how, encoded in every_encoding(secret).items() if encoded in text]


def test_botocore_debug_logs_of_create_access_key_are_masked(
    moto_server: MotoServer, capfd: pytest.CaptureFixture[str]
) -> None:
    """botocore logs the answer before keyturn can register the new key: the field is masked."""
    iam = moto_server.iam()
    iam.create_user(UserName="log-test")
    configure_logging("DEBUG", third_party=True)
    created = iam.create_access_key(UserName="log-test")["AccessKey"]
    err = capfd.readouterr().err
    assert "botocore" in err and "<SecretAccessKey>" in err  # the answer was really logged
    assert leaks(err, created["SecretAccessKey"]) == []
    assert f"<SecretAccessKey>{REDACTED}</SecretAccessKey>" in err


def test_botocore_stays_quiet_below_vvv(
    moto_server: MotoServer, capfd: pytest.CaptureFixture[str]
) -> None:
    iam = moto_server.iam()
    iam.create_user(UserName="quiet-test")
    configure_logging("DEBUG")  # -vv
    logging.getLogger("keyturn.test").debug("keyturn's own debug line")
    iam.create_access_key(UserName="quiet-test")
    err = capfd.readouterr().err
    assert "keyturn's own debug line" in err
    assert "botocore" not in err and "SecretAccessKey" not in err


@pytest.mark.parametrize("secret", ["kt+/=&%-Zq9 ü€-8xY2/wP+Lm==", "pässwörd&key=1%2B"])
def test_httpx_request_line_of_a_query_probe_is_redacted(
    provider: DemoProvider, capfd: pytest.CaptureFixture[str], secret: str
) -> None:
    response = httpx.post(
        f"{provider.url}/admin/keys",
        json={"label": "awkward", "value": secret},
        headers={"X-Admin-Token": provider.admin_token},
    )
    assert response.status_code == 201
    register_secret(secret)
    configure_logging("DEBUG", third_party=True)
    result = probe_url(f"{provider.url}/v1/ping", secret, AuthPlacement("query", "api_key"))
    assert result.ok, result.detail
    err = capfd.readouterr().err
    assert "HTTP Request: GET" in err and "httpcore" in err  # the libraries really logged
    assert leaks(err, secret) == []
    assert f"api_key={REDACTED}" in err


def test_an_unregistered_query_secret_is_masked_by_its_parameter_name(
    provider: DemoProvider, capfd: pytest.CaptureFixture[str]
) -> None:
    configure_logging("DEBUG", third_party=True)
    probe_url(
        f"{provider.url}/v1/ping", "never-registered+key/0001", AuthPlacement("query", "api_key")
    )
    err = capfd.readouterr().err
    assert "HTTP Request: GET" in err
    assert leaks(err, "never-registered+key/0001") == []
