"""`keyturn serve`'s refusals and exit codes, as a user meets them (docs/exit-codes.md): one
line, a documented code, nothing started."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from keyturn.core.errors import ExitCode
from tests.integration.test_serve_process import free_port


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    # An n8n that is not there: serve must refuse before it would need one, or say it is away.
    return {
        "KEYTURN_N8N_URL": f"http://127.0.0.1:{free_port()}",
        "KEYTURN_N8N_API_KEY": "k",
        "KEYTURN_STATE_DIR": str(tmp_path / "state"),
        **extra,
    }


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("keyturn: ")]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_any_address_but_loopback_needs_a_token(run_cli: Any, tmp_path: Path) -> None:
    result = run_cli("serve", "--listen", "0.0.0.0:0", "--once", env=_env(tmp_path))
    assert result.code == ExitCode.USAGE
    assert "not a loopback address, and no token is set" in _one_line(result.stderr)


def test_a_short_token_is_refused(run_cli: Any, tmp_path: Path) -> None:
    (tmp_path / "keyturn.toml").write_text('[serve]\ntoken_env = "DASH_TOKEN"\n')
    result = run_cli("serve", "--once", env=_env(tmp_path, DASH_TOKEN="short-token"))
    assert result.code == ExitCode.USAGE
    line = _one_line(result.stderr)
    assert "at least 32" in line and "short-token" not in result.stderr


def test_a_port_in_use_is_one_line(run_cli: Any, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--listen", f"127.0.0.1:{port}", "--once", env=_env(tmp_path))
    assert result.code == ExitCode.USAGE
    assert "cannot listen on" in _one_line(result.stderr)


def test_a_bad_schedule_is_refused_before_anything_runs(run_cli: Any, tmp_path: Path) -> None:
    (tmp_path / "keyturn.toml").write_text('[rotation."X"]\nschedule = "0 3 30 2 *"\n')
    result = run_cli("serve", "--once", env=_env(tmp_path))
    assert result.code == ExitCode.USAGE
    assert 'rotation."X".schedule' in _one_line(result.stderr)


def test_once_with_n8n_away_exits_3(run_cli: Any, tmp_path: Path) -> None:
    result = run_cli("serve", "--once", "--listen", "127.0.0.1:0", env=_env(tmp_path))
    assert result.code == ExitCode.N8N, result.stderr
    assert "evaluation.failed" in result.stderr and "Traceback" not in result.stderr
