"""`keyturn scan` of files without typer: what the typer command (cli/scan.py) and the fast path
share, and the fast path itself.

`keyturn scan FILE` runs in pre-commit hooks on every commit, where typer, Rich and the n8n
client would take longer to import than the scan takes. So `keyturn.cli.main` first asks
`run_without_typer`, which runs a scan of files whose options it understands fully (PATH...,
--format, --json, --fail-on, --output, --baseline, --update-baseline, --max-file-size,
--workers) and leaves anything else (--help, --live, --old-secret, --instance, global options,
an option it does not know, no PATH, KEYTURN_LOG_LEVEL or shell completion in the environment)
to the typer app. Both paths run the same code below, so they print the same bytes and exit
with the same codes (tests/unit/test_scan_fast_path.py).
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TextIO

from keyturn.cli.output import console_width, plain_text, write_lines
from keyturn.core import jsonio
from keyturn.core.errors import ConfigError, ExitCode
from keyturn.core.memory import cyclic_gc_paused

if TYPE_CHECKING:
    from keyturn.detect.findings import ScanResult
    from keyturn.detect.rules import Severity
    from keyturn.n8n.client import N8nClient
    from keyturn.scan.engine import ScanOptions

_VALUE_OPTIONS = frozenset(
    {"--format", "--fail-on", "--output", "--baseline", "--max-file-size", "--workers"}
)
_FLAGS = frozenset({"--json", "--update-baseline"})
_SPINNER_BYTES = 8 * 1024 * 1024  # files smaller than this together are scanned in a blink
_TABLE_FILE_WIDTH = 200  # columns of a table written with --output


class ScanRequest(NamedTuple):
    """The options of a scan, as the command line gave them."""

    paths: list[Path]
    fmt: str = "table"
    fail_on: str = "medium"
    output: Path | None = None
    baseline: Path | None = None
    update_baseline: bool = False
    max_file_size: int = 64  # MB
    workers: int = 0

    def threshold(self) -> Severity:
        """Refuse contradictory or unknown options and missing paths; the --fail-on severity."""
        from keyturn.detect.rules import Severity

        if self.fmt not in ("table", "json", "sarif"):
            raise ConfigError("--format takes table, json or sarif.", None)
        try:
            threshold = Severity.parse(self.fail_on)
        except KeyError:
            raise ConfigError("--fail-on takes low, medium or high.", None) from None
        if self.update_baseline and self.baseline is None:
            raise ConfigError("--update-baseline needs --baseline FILE.", None)
        for path in self.paths:
            if not path.exists() and not path.is_symlink():
                raise ConfigError(f"{path} does not exist.", "Check the PATH arguments.")
        for option, given in (("--output", self.output), ("--baseline", self.baseline)):
            if given is not None:
                _check_file_option(option, given)
        return threshold

    def scan_options(self, old_secrets: tuple[str, ...] = ()) -> ScanOptions:
        from keyturn.scan.engine import ScanOptions

        return ScanOptions(
            old_secrets=old_secrets,
            max_file_bytes=self.max_file_size * 1024 * 1024,
            workers=self.workers,
        )


def _check_file_option(option: str, path: Path) -> None:
    """Before a long scan: a report or baseline file must be a file in an existing folder."""
    if str(path) in ("", ".") or path.is_dir():
        raise ConfigError(f"{option} {str(path)!r} is a folder, not a file.", "Give a file name.")
    if not path.parent.is_dir():
        raise ConfigError(
            f"{option} {path}: the folder {path.parent} does not exist.", "Create it first."
        )


@contextmanager
def _file_errors(option: str, path: Path) -> Iterator[None]:
    """A report or baseline file that cannot be written or read: one line, exit 2."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(
            f"{option} {path}: {reason}.", "Check the path and its permissions."
        ) from None


def run_without_typer(args: list[str]) -> int | None:
    """The exit code of `keyturn ARGS` when it is a scan of files this module runs itself;
    None when the typer app must run it."""
    request = parse(args)
    if request is None:
        return None
    try:
        threshold = request.threshold()
        result = scan_files_and_instance(request.paths, None, request.scan_options())
        return finish(request, result, threshold)
    except KeyboardInterrupt:  # as typer does: exit 130, no message
        return int(ExitCode.INTERRUPTED)
    except OSError as exc:  # as typer does: a closed pipe (`| head`) ends quietly, with 1
        if exc.errno != errno.EPIPE:
            raise
        devnull = os.open(os.devnull, os.O_WRONLY)
        for stream in (sys.stdout, sys.stderr):
            os.dup2(devnull, stream.fileno())
        return 1


def parse(args: list[str]) -> ScanRequest | None:
    """`scan PATH... [OPTIONS]` as typer parses it, or None for anything it would parse
    differently or that needs more than files (the live instance, --old-secret, --help...)."""
    if args[:1] != ["scan"] or _typer_settings_in_environment():
        return None
    paths: list[str] = []
    values: dict[str, str] = {}
    flags: set[str] = set()
    rest = iter(args[1:])
    for arg in rest:
        if not arg.startswith("-"):
            paths.append(arg)
            continue
        name, equals, value = arg.partition("=")
        if name in _FLAGS and not equals:
            flags.add(name)
        elif name in _VALUE_OPTIONS:
            value = value if equals else next(rest, "-")
            if value.startswith("-"):  # typer reads it as the value or complains: its job
                return None
            values[name] = value  # the last one wins, as in typer
        else:
            return None
    max_file_size = values.get("--max-file-size", "64")
    workers = values.get("--workers", "0")
    if not paths or not _is_count(max_file_size) or not _is_count(workers):
        return None
    output, baseline = values.get("--output"), values.get("--baseline")
    if any(_unreadable(path) for path in [*paths, output, baseline] if path):
        return None  # typer refuses an unreadable path, with its own message
    return ScanRequest(
        paths=[Path(path) for path in paths],
        fmt="json" if "--json" in flags else values.get("--format", "table"),
        fail_on=values.get("--fail-on", "medium"),
        output=None if output is None else Path(output),
        baseline=None if baseline is None else Path(baseline),
        update_baseline="--update-baseline" in flags,
        max_file_size=int(max_file_size),
        workers=int(workers),
    )


def _is_count(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _typer_settings_in_environment() -> bool:
    """Shell completion (`_KEYTURN_COMPLETE`...) and logging settings are typer's path's."""
    return "KEYTURN_LOG_LEVEL" in os.environ or any(
        name.startswith("_") and name.endswith("_COMPLETE") for name in os.environ
    )


def _unreadable(path: str) -> bool:
    """An existing path typer refuses as not readable (or one os.stat cannot take at all)."""
    try:
        os.stat(path)
    except OSError:
        return False
    except ValueError:  # a NUL in the path
        return True
    return not os.access(path, os.R_OK)


def scan_files_and_instance(
    paths: list[Path], client: N8nClient | None, options: ScanOptions
) -> ScanResult:
    """The scan, with a spinner on stderr when that is a terminal and the scan may take a
    while (the live instance, a folder, large files)."""
    from keyturn.scan.engine import run_scan

    if not _worth_a_spinner(paths, client):
        return run_scan(paths, client, options)
    from keyturn.cli.output import progress

    with progress() as spinner:
        spinner.add_task("Scanning", total=None)
        return run_scan(paths, client, options)


def _worth_a_spinner(paths: list[Path], client: N8nClient | None) -> bool:
    if not sys.stderr.isatty():
        return False
    if client is not None:
        return True
    total = 0
    for path in paths:
        try:
            status = path.stat()
        except OSError:
            continue
        if not stat.S_ISREG(status.st_mode):
            return True
        total += status.st_size
    return total > _SPINNER_BYTES


def finish(request: ScanRequest, result: ScanResult, threshold: Severity) -> int:
    """Record or apply the baseline, print the report; the exit code."""
    if request.update_baseline and request.baseline is not None:
        from keyturn.scan.baseline import write_baseline

        with _file_errors("--baseline", request.baseline):
            write_baseline(request.baseline, result)
        write_lines(
            [f"Baseline {request.baseline}: {len(result.findings)} findings recorded."], sys.stderr
        )
        return 0
    if request.baseline is not None:
        from keyturn.scan.baseline import apply_baseline, load_baseline

        with _file_errors("--baseline", request.baseline):
            baseline = load_baseline(request.baseline)
        apply_baseline(result, baseline)
    _emit(result, request.fmt, request.output)
    if any(finding.rule.severity >= threshold for finding in result.findings):
        return int(ExitCode.FINDINGS)
    return 0


def _emit(result: ScanResult, fmt: str, output: Path | None) -> None:
    from keyturn.formats.scan_out import summary_line

    with cyclic_gc_paused():  # a dict or a line per finding
        _emit_report(result, fmt, output)
    if output:  # the report is in the file; what it found, on stderr
        write_lines([summary_line(result)], sys.stderr)


def _emit_report(result: ScanResult, fmt: str, output: Path | None) -> None:
    from keyturn.formats.scan_out import dumps, json_document, sarif_document

    if fmt == "table":
        _emit_table(result, output)
    else:
        document = sarif_document(result) if fmt == "sarif" else json_document(result)
        # orjson for a report of many findings, even from a scan that read no JSON
        report = dumps(_redacted(document), large=len(result.findings) > 1000)
        if output:
            with _file_errors("--output", output):
                output.write_bytes(report)
        else:
            jsonio.write_stdout(report)


def _emit_table(result: ScanResult, output: Path | None) -> None:
    from keyturn.formats.scan_out import render_table, table_lines

    stream: TextIO = sys.stdout
    if output:
        with _file_errors("--output", output):
            stream = output.open("w", encoding="utf-8")
    try:
        width = console_width(stream, _TABLE_FILE_WIDTH if output else None)
        text = plain_text(table_lines(result), width, stream)
        if text is not None:
            stream.write(text)
            return
        from rich.console import Console

        render_table(result, Console(file=stream, width=_TABLE_FILE_WIDTH) if output else Console())
    finally:
        if output:
            stream.close()


def _redacted(document: dict[str, Any]) -> Any:
    """`redact_document`, where a secret can have been registered: only keyturn.core.redact
    registers secrets, so if nothing imported it (a scan of files, no --old-secret) there is
    none to hide, and the fast path need not import it."""
    redact = sys.modules.get("keyturn.core.redact")
    return document if redact is None else redact.redact_document(document)
