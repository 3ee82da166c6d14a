"""Backends read their own keyturn.toml tables when used: errors name the setting, reading the
file loads no AWS or Vault code, and a missing optional package names its extra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from keyturn.core.config import FileConfig, load_file_config
from keyturn.core.errors import ConfigError, ExitCode, MissingExtra
from keyturn.journal.engine import make_engine
from keyturn.locations.registry import build_store
from keyturn.notify import Notifier
from keyturn.providers.registry import build_provider

TOML = """
[instances.prod]
url = "http://127.0.0.1:9"
api_key_env = "PROD_KEY"

[providers.aws]
type = "aws_iam"
user_name = "n8n"

[providers.partner]
type = "http"
[providers.partner.issue]
secret_path = "key"

[vault]
addr = "http://127.0.0.1:8200"

[notifications]
webhook_url = "http://127.0.0.1:9/hook"
"""


def test_reading_the_file_loads_no_backend_code(tmp_path: Path) -> None:
    config = tmp_path / "keyturn.toml"
    config.write_text(TOML)
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from keyturn.core.config import load_settings\n"
        f"load_settings('prod', Path({str(config)!r}))\n"
        "heavy = [m for m in ('boto3', 'botocore', 'hvac', 'keyturn.providers', 'keyturn.notify')"
        " if m in sys.modules]\n"
        "print(heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PROD_KEY": "k" * 40, "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert result.stdout.strip() == "[]"


def test_a_bad_provider_table_names_the_setting(tmp_path: Path) -> None:
    config = tmp_path / "keyturn.toml"
    config.write_text(TOML)
    file_config = load_file_config(config)  # the file itself is fine
    with pytest.raises(ConfigError, match=r"providers\.partner\.issue\.url: Field required"):
        build_provider("partner", file_config)


def test_an_unknown_provider_type_is_refused() -> None:
    config = FileConfig.model_validate({"providers": {"x": {"type": "ldap"}}})
    with pytest.raises(ConfigError, match=r"providers\.x\.type: 'ldap' is not a provider type"):
        build_provider("x", config)


def test_a_bad_notifications_table_names_the_setting() -> None:
    with pytest.raises(ConfigError, match=r"notifications\.on\.0"):
        Notifier.from_config({"on": ["sometimes"]})


@pytest.mark.parametrize(
    ("package", "module", "call", "extra"),
    [
        (
            "boto3",
            "keyturn.providers.aws_iam",
            lambda: build_provider(
                "aws",
                FileConfig.model_validate(
                    {"providers": {"aws": {"type": "aws_iam", "user_name": "n8n"}}}
                ),
            ),
            "keyturn[aws]",
        ),
        (
            "psycopg",
            "sqlalchemy.dialects.postgresql.psycopg",
            lambda: make_engine("postgresql+psycopg://keyturn:pw@127.0.0.1:1/journal"),
            "keyturn[postgres]",
        ),
        (
            "hvac",
            "keyturn.locations.vault",
            lambda: build_store("vault:secret/n8n/partner#api_key", {}),
            "keyturn[vault]",
        ),
    ],
)
def test_a_missing_optional_package_names_its_extra(
    monkeypatch: pytest.MonkeyPatch, package: str, module: str, call: object, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, package, None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, module, raising=False)
    with pytest.raises(MissingExtra) as info:
        call()  # type: ignore[operator]
    assert info.value.exit_code == ExitCode.USAGE
    assert f"pip install '{extra}'" in str(info.value)
    assert repr(package) in info.value.message


def test_slack_text_escapes_names_from_n8n() -> None:
    from keyturn.notify import _slack_text

    text = _slack_text(
        "failure",
        {"credential_name": "<!channel> <https://evil.example|click> & co", "credential_id": "c1",
         "error": "node <@U123> failed"},
    )  # fmt: skip
    assert "<" not in text and ">" not in text
    assert "&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; co" in text
