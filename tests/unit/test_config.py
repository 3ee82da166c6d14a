"""Settings resolution: env, files, keyturn.toml; every mistake is a clear ConfigError."""

from __future__ import annotations

from pathlib import Path

import pytest

from keyturn.core.config import resolve_connection
from keyturn.core.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "KEYTURN_N8N_URL",
        "KEYTURN_N8N_API_KEY",
        "KEYTURN_N8N_API_KEY_FILE",
        "KEYTURN_CONFIG",
        "KEYTURN_INSTANCE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def test_env_url_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEYTURN_N8N_URL", "https://n8n.example.com/api/v1/")
    monkeypatch.setenv("KEYTURN_N8N_API_KEY", "key-1234")
    connection = resolve_connection()
    assert connection.url == "https://n8n.example.com"
    assert connection.api_key.get_secret_value() == "key-1234"
    assert connection.key_source == "KEYTURN_N8N_API_KEY"


def test_key_file_docker_secrets_style(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    key_file = tmp_path / "n8n_api_key"
    key_file.write_text("file-key-5678\n")
    monkeypatch.setenv("KEYTURN_N8N_URL", "http://127.0.0.1:5678")
    monkeypatch.setenv("KEYTURN_N8N_API_KEY_FILE", str(key_file))
    assert resolve_connection().api_key.get_secret_value() == "file-key-5678"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(None, "does not exist"), ("", "is empty"), ("\n", "is empty")],
)
def test_key_file_problems(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str | None, fragment: str
) -> None:
    key_file = tmp_path / "key"
    if content is not None:
        key_file.write_text(content)
    monkeypatch.setenv("KEYTURN_N8N_URL", "http://127.0.0.1:5678")
    monkeypatch.setenv("KEYTURN_N8N_API_KEY_FILE", str(key_file))
    with pytest.raises(ConfigError, match=fragment):
        resolve_connection()


def test_url_without_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEYTURN_N8N_URL", "http://127.0.0.1:5678")
    with pytest.raises(ConfigError, match="KEYTURN_N8N_API_KEY_FILE"):
        resolve_connection()


def test_bad_url_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEYTURN_N8N_URL", "n8n.example.com")
    monkeypatch.setenv("KEYTURN_N8N_API_KEY", "k")
    with pytest.raises(ConfigError, match="http:// or https://"):
        resolve_connection()


def test_named_instance_with_env_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "keyturn.toml").write_text(
        '[instances.prod]\nurl = "https://prod.example.com"\napi_key_env = "PROD_KEY"\n'
        '[instances.dev]\nurl = "http://127.0.0.1:5678"\napi_key_env = "DEV_KEY"\n'
    )
    monkeypatch.setenv("PROD_KEY", "prod-key-1")
    connection = resolve_connection("prod")
    assert (connection.name, connection.url) == ("prod", "https://prod.example.com")
    assert connection.url_setting == "instances.prod.url"
    with pytest.raises(ConfigError, match=r"\$DEV_KEY, which is not set"):
        resolve_connection("dev")


def test_default_instance_and_single_instance(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "keyturn.toml"
    config.write_text('[instances.only]\nurl = "http://a.test"\napi_key_env = "K"\n')
    monkeypatch.setenv("K", "key-only")
    assert resolve_connection().name == "only"
    config.write_text(
        'default_instance = "b"\n[instances.a]\nurl = "http://a.test"\napi_key_env = "K"\n'
        '[instances.b]\nurl = "http://b.test"\napi_key_env = "K"\n'
    )
    assert resolve_connection().name == "b"


def test_env_url_beats_file_default_but_not_an_explicit_instance(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "keyturn.toml").write_text(
        '[instances.a]\nurl = "http://a.test"\napi_key_env = "K"\n'
    )
    monkeypatch.setenv("K", "key-a")
    monkeypatch.setenv("KEYTURN_N8N_URL", "http://env.test")
    monkeypatch.setenv("KEYTURN_N8N_API_KEY", "key-env")
    assert resolve_connection().url == "http://env.test"
    assert resolve_connection("a").url == "http://a.test"


def test_config_from_xdg_and_explicit_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    xdg = tmp_path / "xdg" / "keyturn"
    xdg.mkdir(parents=True)
    (xdg / "keyturn.toml").write_text('[instances.x]\nurl = "http://x.test"\napi_key_env = "K"\n')
    monkeypatch.setenv("K", "key-x")
    assert resolve_connection().url == "http://x.test"
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_connection(config_path=tmp_path / "missing.toml")


def test_instance_without_key_source(tmp_path: Path) -> None:
    (tmp_path / "keyturn.toml").write_text('[instances.a]\nurl = "http://a.test"\n')
    with pytest.raises(ConfigError, match="api_key_env or api_key_file"):
        resolve_connection("a")


def test_nothing_configured() -> None:
    with pytest.raises(ConfigError, match="No n8n instance is configured"):
        resolve_connection()
