"""Bad input gives one clear line naming the fix, and a non-zero exit code."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from keyturn.core.errors import ExitCode
from keyturn.sandbox.n8n_server import LocalN8n, free_port
from tests.helpers import wait_until


def _one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("keyturn: error: ")
    assert "Traceback" not in stderr
    return lines[0]


def test_wrong_api_key(n8n_server: LocalN8n, run_cli: Any) -> None:
    env = {"KEYTURN_N8N_URL": n8n_server.url, "KEYTURN_N8N_API_KEY": "not-a-real-key"}
    result = run_cli("inventory", env=env)
    assert result.code == ExitCode.N8N
    line = _one_line_error(result.stderr)
    assert "401" in line and "KEYTURN_N8N_API_KEY" in line
    assert "not-a-real-key" not in result.stderr


def test_wrong_api_key_from_file_names_the_file(
    n8n_server: LocalN8n, run_cli: Any, tmp_path: Path
) -> None:
    key_file = tmp_path / "n8n-key"
    key_file.write_text("wrong-key-from-file\n")
    env = {"KEYTURN_N8N_URL": n8n_server.url, "KEYTURN_N8N_API_KEY_FILE": str(key_file)}
    result = run_cli("inventory", env=env)
    assert result.code == ExitCode.N8N
    assert str(key_file) in _one_line_error(result.stderr)


def test_missing_scope_names_the_scope(n8n_server: LocalN8n, run_cli: Any) -> None:
    key = n8n_server.create_api_key(["workflow:list"])
    result = run_cli(
        "inventory", env={"KEYTURN_N8N_URL": n8n_server.url, "KEYTURN_N8N_API_KEY": key}
    )
    assert result.code == ExitCode.N8N
    line = _one_line_error(result.stderr)
    assert "credential:list" in line and "403" in line


def test_n8n_not_running(run_cli: Any) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run_cli("inventory", env={"KEYTURN_N8N_URL": url, "KEYTURN_N8N_API_KEY": "k" * 20})
    assert result.code == ExitCode.N8N
    line = _one_line_error(result.stderr)
    assert url in line and "KEYTURN_N8N_URL" in line


def test_url_that_is_not_n8n(run_cli: Any, provider: Any) -> None:
    result = run_cli(
        "inventory", env={"KEYTURN_N8N_URL": provider.url, "KEYTURN_N8N_API_KEY": "k" * 20}
    )
    assert result.code == ExitCode.N8N
    _one_line_error(result.stderr)


def test_no_configuration_at_all(run_cli: Any) -> None:
    result = run_cli("inventory")
    assert result.code == ExitCode.USAGE
    line = _one_line_error(result.stderr)
    assert "KEYTURN_N8N_URL" in line and "keyturn.toml" in line


def test_unknown_instance(run_cli: Any, tmp_path: Path) -> None:
    (tmp_path / "keyturn.toml").write_text(
        '[instances.prod]\nurl = "http://127.0.0.1:1"\napi_key_env = "PROD_KEY"\n'
    )
    result = run_cli("inventory", "--instance", "staging")
    assert result.code == ExitCode.USAGE
    line = _one_line_error(result.stderr)
    assert "'staging'" in line and "prod" in line


def test_malformed_toml(run_cli: Any, tmp_path: Path) -> None:
    (tmp_path / "keyturn.toml").write_text("[instances.prod\nurl = \n")
    result = run_cli("inventory", "--instance", "prod")
    assert result.code == ExitCode.USAGE
    line = _one_line_error(result.stderr)
    assert "keyturn.toml is not valid TOML" in line


def test_unknown_setting_in_toml(run_cli: Any, tmp_path: Path) -> None:
    (tmp_path / "keyturn.toml").write_text(
        '[instances.prod]\nurl = "http://127.0.0.1:1"\napi_key = "inline"\n'
    )
    result = run_cli("inventory", "--instance", "prod")
    assert result.code == ExitCode.USAGE
    assert "instances.prod.api_key" in _one_line_error(result.stderr)


def test_named_instance_from_toml_works(n8n_server: LocalN8n, run_cli: Any, tmp_path: Path) -> None:
    (tmp_path / "keyturn.toml").write_text(
        f'default_instance = "local"\n[instances.local]\nurl = "{n8n_server.url}/api/v1/"\n'
        'api_key_env = "LOCAL_N8N_KEY"\n'
    )
    result = run_cli("inventory", "--json", env={"LOCAL_N8N_KEY": n8n_server.api_key})
    assert result.code == 0, result.stderr
    assert '"name": "local"' in result.stdout


def test_api_key_is_not_a_command_line_option(run_cli: Any) -> None:
    result = run_cli("inventory", "--api-key", "secret-on-argv")
    assert result.code == ExitCode.USAGE
    assert "No such option" in result.stderr


def test_invalid_environment_variable_is_named(run_cli: Any) -> None:
    env = {"KEYTURN_N8N_URL": "http://127.0.0.1:9", "KEYTURN_N8N_API_KEY": "k" * 20}
    result = run_cli("inventory", env={**env, "KEYTURN_N8N_TIMEOUT": "soon"})
    assert result.code == ExitCode.USAGE
    assert "KEYTURN_N8N_TIMEOUT" in _one_line_error(result.stderr)


def test_ctrl_c_is_one_line_and_exit_130(tmp_path: Path) -> None:
    """Ctrl-C while keyturn waits on n8n: exit 130, no traceback."""
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("KEYTURN_")},
            "KEYTURN_N8N_URL": f"http://127.0.0.1:{silent.getsockname()[1]}",
            "KEYTURN_N8N_API_KEY": "k" * 20,
            "HOME": str(tmp_path),
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "keyturn", "inventory"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        silent.settimeout(60)
        connection, _ = silent.accept()  # keyturn is now waiting for n8n's answer
        with connection:
            wait_until(lambda: connection.recv(65536, socket.MSG_PEEK), timeout=30)
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=30)
    assert process.returncode == ExitCode.INTERRUPTED, stderr
    assert set(stderr.strip().splitlines()) <= {"keyturn: interrupted"}, stderr
