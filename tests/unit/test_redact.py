"""The logging filter keeps every registered secret out of log output."""

from __future__ import annotations

import base64
import json
import logging
import re
import time
from collections.abc import Iterator
from urllib.parse import quote, quote_plus

import httpx
import pytest

from keyturn.core.redact import (
    REDACTED,
    THIRD_PARTY_LOGGERS,
    configure_logging,
    forget_secrets,
    mask_secret_fields,
    redact,
    register_secret,
)


@pytest.fixture(autouse=True)
def fresh_registry() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()
    reset_logging()


def reset_logging() -> None:
    """Leave logging as a test found it: no keyturn handler, default levels."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_keyturn", False):
            root.removeHandler(handler)
    root.setLevel(logging.WARNING)
    for name in ("keyturn", *THIRD_PARTY_LOGGERS):
        logging.getLogger(name).setLevel(logging.NOTSET)


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


# A secret with every character that encodings change: `+ / = & %`, a space, non-ASCII.
AWKWARD = "kt+/=&%-Zq9 ü€-8xY2/wP+Lm=="


def every_encoding(secret: str, user: str = "demo") -> dict[str, str]:
    """Written out here, independently of keyturn's list, as a library would write them."""
    raw = secret.encode()
    lower_hex = re.compile(r"%[0-9A-F]{2}")
    basic = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return {
        "raw": secret,
        "quote": quote(secret, safe=""),
        "quote lower": lower_hex.sub(lambda m: m.group().lower(), quote(secret, safe="")),
        "quote_plus": quote_plus(secret),
        "quote_plus lower": lower_hex.sub(lambda m: m.group().lower(), quote_plus(secret)),
        "JSON": json.dumps(secret, ensure_ascii=False)[1:-1],
        "JSON ASCII": json.dumps(secret)[1:-1],
        "base64": base64.b64encode(raw).decode(),
        "base64 unpadded": base64.b64encode(raw).decode().rstrip("="),
        "base64 URL-safe": base64.urlsafe_b64encode(raw).decode(),
        "base64 URL-safe unpadded": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "Basic auth": f"Basic {basic}",
        "hex": raw.hex(),
        "HEX": raw.hex().upper(),
        "bytes repr": repr(raw)[2:-1],
    }


@pytest.mark.parametrize("secret", [AWKWARD, "sk_live_51HqPlainAsciiKey0123456789", "pässwörd-ñ-9"])
def test_every_encoding_of_a_registered_secret_is_redacted(secret: str) -> None:
    register_secret(secret)
    for how, encoded in every_encoding(secret).items():
        line = f'GET http://127.0.0.1/v1/ping?api_key={encoded}&page=2 "{encoded}" x{encoded}\n'
        redacted = redact(line)
        for leaked in every_encoding(secret).values():
            assert leaked not in redacted, (how, redacted)
        assert "page=2" in redacted and redacted.endswith("\n"), (how, redacted)


def test_base64_of_a_longer_value_holding_the_secret_is_redacted_whole() -> None:
    register_secret(AWKWARD)
    for prefix in ("u:", "us:", "user:", '{"api_key": "'):
        token = base64.b64encode(f"{prefix}{AWKWARD}".encode() + b'"}').decode()
        assert (
            redact(f"Authorization: Basic {token}, next")
            == f"Authorization: Basic {REDACTED}, next"
        )


def test_unrelated_text_is_left_alone() -> None:
    register_secret(AWKWARD)
    text = "rotation 3f2a of Partner API: probe GET http://127.0.0.1:8080/v1/ping 200 accepted"
    assert redact(text) == text


def test_redaction_stays_fast_with_many_secrets() -> None:
    for number in range(40):
        register_secret(f"{AWKWARD}{number:04d}")
    line = "2025-01-01 DEBUG httpcore.http11: receive_response_headers.complete " * 4
    started = time.perf_counter()
    for _ in range(2000):
        redact(line)
    assert time.perf_counter() - started < 2.0  # about 0.1 ms a line


@pytest.mark.parametrize(
    ("line", "value"),
    [
        # What botocore logs of CreateAccessKey's answer (the query protocol's XML, as bytes)
        ("Response body:\nb'<AccessKey><UserName>u</UserName><SecretAccessKey>wJalr+XUtn/FEMI"
         "</SecretAccessKey><AccessKeyId>AKIA1</AccessKeyId></AccessKey>'", "wJalr+XUtn/FEMI"),
        ('{"auth": {"client_token": "hvs.CAESIJ1x", "accessor": "a1"}}', "hvs.CAESIJ1x"),
        ("{'X-Vault-Token': 'hvs.CAESIJ1x', 'Accept': 'application/json'}", "hvs.CAESIJ1x"),
        ("headers={'Authorization': b'AWS4-HMAC-SHA256 Credential=AKIA1/x, Signature=f00d'}",
         "Signature=f00d"),
        ("X-N8N-API-KEY: eyJhbGciOiJIUzI1NiJ9.e30.sig\r\nAccept: */*", "eyJhbGciOiJIUzI1NiJ9"),
        ("Authorization: Bearer tok_live_123456789", "tok_live_123456789"),
        ("{'X-Amz-Security-Token': b'IQoJb3JpZ2luX2VjEJr//////////wEaCXVz'}", "IQoJb3JpZ2lu"),
        ("retrying with Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl", "eyJhbGciOiJIUzI1NiJ9"),
        ("GET /v1/ping?page=1&api_key=abc%2Bdef&x=1", "abc%2Bdef"),
        ('{"apiKey":"k-\\"quoted\\"-tail","name":"x"}', "tail"),
        ('"{\\"password\\":\\"hunter22\\"}"', "hunter22"),
        ("secret_id='0d1a-44'", "0d1a-44"),
        ("postgresql+psycopg://keyturn:pa55word@127.0.0.1:5432/keyturn", "pa55word"),
    ],
)  # fmt: skip
def test_values_of_secret_fields_are_masked(line: str, value: str) -> None:
    masked = mask_secret_fields(line)
    assert value not in masked and REDACTED in masked, masked


@pytest.mark.parametrize(
    "line",
    [
        '{"secret_path": "key", "key_id_path": "id", "idempotency_token": "rot-1"}',
        "Basic auth with user demo",
        "Basic authentication failed; Bearer authorization required",
        "the n8n API key was refused (401)",
        "KeyturnError: rotation 3f2a: token expired",
    ],
)
def test_masking_is_precise(line: str) -> None:
    assert mask_secret_fields(line) == line


def test_log_records_mask_secret_fields_keyturn_never_saw(
    capfd: pytest.CaptureFixture[str],
) -> None:
    configure_logging("DEBUG", third_party=True)
    logging.getLogger("botocore.parsers").debug(
        "Response body:\n%r", b"<SecretAccessKey>wJalrXUtnFEMI/K7MDENG</SecretAccessKey>"
    )
    err = capfd.readouterr().err
    assert "wJalrXUtnFEMI" not in err and REDACTED in err


@pytest.mark.parametrize(
    ("level", "third_party", "keyturn_debug", "library_debug", "library_warning"),
    [
        ("INFO", False, False, False, True),
        ("DEBUG", False, True, False, True),
        ("DEBUG", True, True, True, True),
    ],
)
def test_libraries_stay_at_warning_unless_asked(
    capfd: pytest.CaptureFixture[str],
    level: str,
    third_party: bool,
    keyturn_debug: bool,
    library_debug: bool,
    library_warning: bool,
) -> None:
    logging.getLogger("botocore.endpoint").setLevel(logging.DEBUG)  # a library's own setting
    configure_logging(level, third_party=third_party)
    logging.getLogger("keyturn.rotation").debug("keyturn debug line")
    for name in ("botocore.endpoint", "urllib3.connectionpool", "httpx", "hvac", "alembic"):
        logging.getLogger(name).debug("library debug line")
    logging.getLogger("httpcore").warning("library warning line")
    err = capfd.readouterr().err
    assert ("keyturn debug line" in err) == keyturn_debug
    assert ("library debug line" in err) == library_debug
    assert ("library warning line" in err) == library_warning


def test_json_documents_stay_valid_when_a_short_secret_looks_like_a_value() -> None:
    from keyturn.core.redact import redact_document

    register_secret("1234")
    register_secret("true")
    document = {"count": 1234, "ok": True, "note": "key 1234 and true", "1234": [1234, "true"]}
    cleaned = redact_document(document)
    assert json.loads(json.dumps(cleaned))["count"] == 1234 and cleaned["ok"] is True
    assert "1234" not in json.dumps(cleaned["note"]) and "true" not in cleaned["note"]
    assert "1234" not in cleaned and cleaned["[redacted]"] == [1234, "[redacted]"]


def test_json_inside_json_and_other_unicode_forms_are_redacted() -> None:
    import unicodedata

    secret = "aB3+/=&%ü xyz9Q-json"
    register_secret(secret)
    for sample in (
        json.dumps(json.dumps(secret)),
        json.dumps(json.dumps({"key": secret})),
        unicodedata.normalize("NFD", secret),
    ):
        assert "xyz9Q" not in redact(f"log: {sample} end"), sample


def test_a_session_cookie_in_httpcore_header_tuples_is_masked() -> None:
    """httpcore logs a response's headers as byte tuples at DEBUG (-vvv), before keyturn has
    read the cookie and could register it: the n8n-auth session JWT must still not show."""
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJpZCI6IjEifQ.c2lnbmF0dXJlLXZhbHVl"
    line = (
        "receive_response_headers.complete return_value=(b'HTTP/1.1', 200, b'OK', "
        f"[(b'X-Powered-By', b'Express'), (b'set-cookie', b'n8n-auth={jwt}; Path=/; HttpOnly')])"
    )
    masked = mask_secret_fields(line)
    assert jwt not in masked and "X-Powered-By" in masked and "Express" in masked
    assert jwt not in mask_secret_fields(f"Cookie: n8n-auth={jwt}; other=1")


def test_a_secret_in_a_url_path_is_hidden_as_httpx_logs_it() -> None:
    for secret in ("tok:en+/=&% 99abc-path", "sp ace|pipe[token]^1", 'a{b}`c"d<e>f'):
        register_secret(secret)
        path = httpx.URL("http://127.0.0.1:1/bot" + secret + "/getMe")
        query = httpx.URL("http://127.0.0.1:1/x", params={"key": secret})
        logged = redact(f"HTTP Request: GET {path} and GET {query}")
        assert logged.count("[redacted]") == 2, logged
