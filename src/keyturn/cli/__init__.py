"""keyturn's command line: parse, build the pieces, call one core function, render.

Exit codes (docs/exit-codes.md): 0 ok, 1 findings, 2 usage or configuration error, 3 n8n
unreachable or refused, 4 not found or ambiguous, 5 provider error, 6 rotation failed,
7 the credential is being rotated by another process.

This package imports nothing heavy: `main` runs a scan of files itself (cli/scan_run.py: the
pre-commit hook's `keyturn scan FILE` loads neither typer nor Rich) and hands every other
command to the typer app (cli/app.py), whose commands each live in their own module and
import what they need when they run.
"""

from __future__ import annotations

import io
import os
import signal
import sys
import threading

from keyturn.cli.output import print_error, stderr_console
from keyturn.core.errors import ExitCode, KeyturnError

INTERRUPT_GRACE = 10.0  # seconds the unwinding after Ctrl-C may take before keyturn exits


def _on_interrupt(signum: int, frame: object) -> None:
    """Ctrl-C: unwind as usual (journal and leases stay consistent), but never hang in it: a
    KeyboardInterrupt that lands while a library holds a lock can deadlock its cleanup."""
    watchdog = threading.Timer(INTERRUPT_GRACE, _exit_interrupted)
    watchdog.daemon = True
    watchdog.start()
    raise KeyboardInterrupt


def _exit_interrupted() -> None:
    sys.stderr.write("keyturn: interrupted\n")
    sys.stderr.flush()
    os._exit(int(ExitCode.INTERRUPTED))


def main() -> None:
    """The `keyturn` console script: one-line errors with documented exit codes."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _on_interrupt)
    _tolerate_narrow_encodings()
    try:
        _run(sys.argv[1:])
    except KeyturnError as exc:
        print_error(exc)
        sys.exit(int(exc.exit_code))
    except KeyboardInterrupt:
        stderr_console().print("keyturn: interrupted")
        sys.exit(int(ExitCode.INTERRUPTED))
    except Exception as exc:  # a bug: one redacted line, the traceback only in debug logs
        import logging

        from keyturn.core.redact import redact

        logging.getLogger("keyturn").debug("internal error", exc_info=True)
        print(
            f"keyturn: internal error: {type(exc).__name__}: {redact(str(exc))}. "
            "Run again with -vv for the traceback, and please report it.",
            file=sys.stderr,
        )
        sys.exit(int(ExitCode.INTERNAL))


def _tolerate_narrow_encodings() -> None:
    """An output whose encoding lacks a character keyturn prints (the `…` of a finding's
    preview, a workflow named in any script) gets it written as an escape (`\\u2026`), not an
    internal error: with PYTHONIOENCODING=latin-1, or a C locale without Python's UTF-8 mode
    (its `surrogateescape` fails on such a character too), a scan with a finding exited 70.
    JSON and SARIF documents are written as UTF-8 bytes (core/jsonio.write_stdout)."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors in _FAILING_ERRORS:
            stream.reconfigure(errors="backslashreplace")


_FAILING_ERRORS = ("strict", "surrogateescape")


def _run(args: list[str]) -> None:
    from keyturn.cli.scan_run import run_without_typer

    code = run_without_typer(args)
    if code is not None:
        sys.exit(code)
    from keyturn.cli import app

    app.app()
