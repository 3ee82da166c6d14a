"""The CLI's last line of defence: an unexpected error is one redacted line and exit 70."""

from __future__ import annotations

import pytest

import keyturn.cli as cli
from keyturn.core.errors import ExitCode
from keyturn.core.redact import register_secret


def test_internal_error_is_one_redacted_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    register_secret("sk-internal-secret-123")

    def broken() -> None:
        raise RuntimeError("boom with sk-internal-secret-123 inside")

    monkeypatch.setattr(cli, "app", broken)
    with pytest.raises(SystemExit) as info:
        cli.main()
    assert info.value.code == ExitCode.INTERNAL
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("keyturn: internal error: RuntimeError")
    assert "sk-internal-secret-123" not in err and "Traceback" not in err
