"""The CLI's last line of defence: an unexpected error is one redacted line and exit 70."""

from __future__ import annotations

import sys

import pytest

import keyturn.cli as cli
import keyturn.cli.app as cli_app
import keyturn.cli.scan_run as scan_run
from keyturn.core.errors import ExitCode
from keyturn.core.redact import register_secret


def _broken(*args: object) -> None:
    raise RuntimeError("boom with sk-internal-secret-123 inside")


@pytest.mark.parametrize(
    ("argv", "module", "name"),
    [
        (["keyturn", "inventory"], cli_app, "app"),  # a command of the typer app
        (["keyturn", "scan", "wf.json"], scan_run, "run_without_typer"),  # the fast path
    ],
)
def test_internal_error_is_one_redacted_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    module: object,
    name: str,
) -> None:
    register_secret("sk-internal-secret-123")
    monkeypatch.setattr(module, name, _broken)
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as info:
        cli.main()
    assert info.value.code == ExitCode.INTERNAL
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("keyturn: internal error: RuntimeError")
    assert "sk-internal-secret-123" not in err and "Traceback" not in err
