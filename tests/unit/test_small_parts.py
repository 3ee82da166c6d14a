"""Durations, secret sources, auth placements, credential types."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

from keyturn.core.durations import format_duration, parse_duration
from keyturn.core.errors import ConfigError
from keyturn.core.probe import AuthPlacement, parse_auth
from keyturn.core.redact import REDACTED, redact
from keyturn.locations.parse import parse_location
from keyturn.locations.registry import build_store, read_secret
from keyturn.n8n.credential_types import (
    credential_type,
    placement_fields,
    placement_for,
    secret_field_for,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0s", 0), ("90s", 90), ("5m", 300), ("1h", 3600), ("1h30m", 5400), ("2d", 172800)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "soon", "1x", "-5s", "5 m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ConfigError, match="0s, 90s, 5m"):
        parse_duration(text)


def test_format_duration() -> None:
    assert [format_duration(s) for s in (0, 59, 90, 3600, 5400)] == [
        "0s",
        "59s",
        "1m30s",
        "1h",
        "1h30m",
    ]


def test_sources_parse_and_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret_file = tmp_path / "s"
    secret_file.write_text("from-file-123\n")
    monkeypatch.setenv("NEW_KEY", "from-env-456")
    assert read_secret(f"file:{secret_file}") == "from-file-123"
    assert read_secret("env:NEW_KEY") == "from-env-456"
    assert read_secret("stdin", stdin=io.StringIO("from-stdin-789\n")) == "from-stdin-789"
    generated = read_secret("generate:24")
    assert len(generated) == 24 and generated.isalnum()
    assert read_secret("generate") != read_secret("generate")
    assert redact(f"x {generated} y") == f"x {REDACTED} y"  # registered for redaction


@pytest.mark.parametrize("text", ["sk-live-abc123", "env:1BAD", "generate:8", "literal:x"])
def test_bad_sources_never_echo_the_value(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_location(text)
    assert text not in str(info.value)


def test_env_file_location_reads_like_the_store_writes(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text('# keys\nexport PARTNER="a b#c"  # quoted\nOTHER=x\n')
    assert read_secret(f"env-file:{env_file}#PARTNER") == "a b#c"


@pytest.mark.parametrize("text", ["stdin", "env:X", "generate", "provider", "sk-live-abc"])
def test_only_writable_locations_are_write_back_targets(text: str) -> None:
    with pytest.raises(ConfigError, match="location keyturn can write") as info:
        build_store(text)
    assert "sk-live-abc" not in str(info.value)


def test_empty_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLANK", "  ")
    with pytest.raises(ConfigError, match="empty"):
        read_secret("env:BLANK")
    with pytest.raises(ConfigError, match="empty"):
        read_secret("stdin", stdin=io.StringIO(""))


def test_auth_placements() -> None:
    assert parse_auth("header:X-API-Key").apply("k") == ({"X-API-Key": "k"}, {})
    assert parse_auth("query:api_key").apply("k") == ({}, {"api_key": "k"})
    assert parse_auth("bearer").apply("k") == ({"Authorization": "Bearer k"}, {})
    headers, _ = parse_auth("basic:demo").apply("k")
    assert base64.b64decode(headers["Authorization"][6:]) == b"demo:k"
    assert placement_fields("httpHeaderAuth", AuthPlacement("header", "X-API-Key")) == {
        "name": "X-API-Key"
    }
    assert placement_fields("httpBasicAuth", AuthPlacement("basic", "demo")) == {"user": "demo"}
    for bad in ("header", "cookie:x", "bearer:x", ""):
        with pytest.raises(ConfigError):
            parse_auth(bad)


def test_placement_needs_names_n8n_never_returns() -> None:
    assert placement_for("httpBearerAuth", None) == AuthPlacement("bearer")
    with pytest.raises(ConfigError, match="--probe-auth"):
        placement_for("httpHeaderAuth", None)


def test_credential_types_from_n8n() -> None:
    header = credential_type("httpHeaderAuth")
    assert header is not None and header.secret_fields == ("value",) and not header.has_test
    assert secret_field_for("httpBasicAuth") == "password"
    assert secret_field_for("httpBearerAuth") == "token"
    assert secret_field_for("openAiApi") == "apiKey"
    assert secret_field_for("githubApi") == "accessToken"
    assert credential_type("slackApi").has_test  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="--field"):
        secret_field_for("someCommunityApi")
    with pytest.raises(ConfigError, match="no field 'nope'"):
        secret_field_for("httpHeaderAuth", "nope")
    assert secret_field_for("someCommunityApi", "apiKey") == "apiKey"
