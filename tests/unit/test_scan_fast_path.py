"""`keyturn scan FILE` without typer (cli/scan_run.py): it loads no heavy library, and prints
the same bytes, with the same exit code, as the typer app does for the same command."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from keyturn.cli.output import console_width, plain_text
from keyturn.cli.scan_run import ScanRequest, parse

HEAVY = ("typer", "click", "rich", "pydantic", "httpx", "boto3", "botocore", "hvac",
         "multiprocessing", "concurrent")  # fmt: skip

# Runs `keyturn ARGS` through keyturn.cli.main: MODE "typer" takes the fast path away, so that
# the typer app runs the command; the top-level packages loaded are written to RECORD.
RUNNER = """
import sys
import keyturn.cli
import keyturn.cli.scan_run

mode, record, *args = sys.argv[1:]
if mode == "typer":
    keyturn.cli.scan_run.run_without_typer = lambda args: None
sys.argv = ["keyturn", *args]
try:
    keyturn.cli.main()
finally:
    with open(record, "w") as handle:
        handle.write(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
"""


def _workflow(name: str, node: str) -> str:
    return json.dumps(
        {
            "name": name,
            "connections": {},
            "nodes": [
                {
                    "name": node,
                    "type": "n8n-nodes-base.httpRequest",
                    "parameters": {
                        "url": "postgres://app:Zq8r2LmX4pT7vN1k@db.example.com/app",
                        "headerParameters": {
                            "parameters": [{"name": "X-Auth", "value": "Zq8r2LmX4pT7vN1kW9yB"}]
                        },
                    },
                },
                {
                    "name": "Code",
                    "type": "n8n-nodes-base.code",
                    "parameters": {"jsCode": "const key = $env.PARTNER_KEY;\nreturn [];"},
                },
            ],
        },
        indent=2,
    )


@pytest.fixture
def files(tmp_path: Path) -> Path:
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "wf.json").write_text(_workflow("Sync", "Call"))
    (folder / "long.json").write_text(
        _workflow("A workflow whose name is long enough to wrap", "Nœud \x1b[31m [b]日本[/b]")
    )
    (folder / "clean.env").write_text("N8N_PORT=5678\n")
    return folder


class Run(NamedTuple):
    code: int
    stdout: bytes
    stderr: bytes
    packages: list[str]  # the top-level packages loaded


def run(mode: str, folder: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    """`keyturn ARGS` in `folder`; `mode` "typer" runs it through the typer app."""
    record = folder.parent / f"modules-{mode}.txt"
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KEYTURN_", "FORCE_COLOR", "TTY_", "COLUMNS"))
    }
    completed = subprocess.run(
        [sys.executable, "-c", RUNNER, mode, str(record), *args],
        cwd=folder,
        env={**environment, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
    )
    packages = record.read_text().split()
    return Run(completed.returncode, completed.stdout, completed.stderr, packages)


_VARYING = re.compile(rb'("generated_at": )"[^"]*"|("seconds": )[0-9.]+|(, )[0-9]+\.[0-9]{2}s\n')


def _same_run(output: bytes) -> bytes:
    """The report without the time it was made and the seconds it took."""
    return _VARYING.sub(lambda m: (m.group(1) or m.group(2) or m.group(3)) + b"X", output)


@pytest.mark.parametrize("output_format", ["json", "sarif", "table"])
def test_a_scan_of_one_file_loads_no_heavy_library(files: Path, output_format: str) -> None:
    fast = run("fast", files, "scan", "wf.json", "--format", output_format)
    assert fast.code == 1, fast.stderr
    assert b"KT001" in fast.stdout and fast.stderr == b""
    assert [name for name in HEAVY if name in fast.packages] == []


CASES = [
    ["wf.json"],
    ["wf.json", "--format", "table"],
    ["wf.json", "--json"],
    ["wf.json", "--format=json"],
    ["wf.json", "--format", "sarif"],
    ["--fail-on", "high", "wf.json", "--json"],
    ["wf.json", "--fail-on", "low", "--format", "sarif"],
    ["wf.json", "--fail-on", "HIGH"],
    ["clean.env"],
    ["clean.env", "--json"],
    [".", "--format", "sarif"],  # a folder
    ["long.json"],  # wider than 80 columns, escapes and wide characters: Rich draws it
    ["wf.json", "missing.json"],
    ["wf.json", "--format", "xml"],
    ["wf.json", "--fail-on", "severe"],
    ["wf.json", "--baseline", "no-such-baseline.json"],
    ["wf.json", "--max-file-size", "0", "--json"],
    # Report and baseline files that cannot be: one line, exit 2, on both paths.
    ["wf.json", "--output", "no-such-folder/report.json", "--json"],
    ["wf.json", "--output=", "--json"],
    ["wf.json", "--output", "."],
    ["wf.json", "--baseline", ""],
    ["wf.json", "--baseline", "no-such-folder/b.json", "--update-baseline"],
]


@pytest.mark.parametrize("args", CASES, ids=" ".join)
def test_the_fast_path_prints_what_the_typer_app_prints(files: Path, args: list[str]) -> None:
    fast = run("fast", files, "scan", *args)
    typer = run("typer", files, "scan", *args)
    assert "typer" not in fast.packages and "typer" in typer.packages  # the paths meant
    assert fast.code == typer.code
    assert _same_run(fast.stdout) == _same_run(typer.stdout)
    assert fast.stderr == typer.stderr


@pytest.mark.parametrize(
    "args",
    [["--output", "no-such-folder/report.json"], ["--output="], ["--baseline", ""]],
    ids=" ".join,
)
def test_a_report_or_baseline_that_cannot_be_is_a_usage_error(files: Path, args: list[str]) -> None:
    result = run("fast", files, "scan", "wf.json", *args)
    assert result.code == 2
    assert result.stderr.count(b"\n") <= 2 and b"Traceback" not in result.stderr
    assert b"internal error" not in result.stderr


def test_a_narrow_console_and_a_report_file_match_too(files: Path) -> None:
    for args, env in [
        (["long.json"], {"COLUMNS": "200"}),
        (["wf.json"], {"COLUMNS": "30"}),
        (["wf.json", "--output", "report.txt"], None),
        (["wf.json", "--format", "sarif", "--output", "report.sarif"], None),
    ]:
        fast = run("fast", files, "scan", *args, env=env)
        report = (files / args[-1]).read_bytes() if "--output" in args else b""
        typer = run("typer", files, "scan", *args, env=env)
        assert "typer" not in fast.packages
        assert fast.code == typer.code and _same_run(fast.stdout) == _same_run(typer.stdout)
        assert _same_run(fast.stderr) == _same_run(typer.stderr)
        if report:
            assert _same_run(report) == _same_run((files / args[-1]).read_bytes())


def test_what_the_fast_path_leaves_to_typer() -> None:
    assert parse(["scan", "wf.json", "--format=sarif", "--fail-on", "low"]) == ScanRequest(
        [Path("wf.json")], fmt="sarif", fail_on="low"
    )
    assert parse(["scan", "--json", "a", "b/", "--workers", "2"]) == ScanRequest(
        [Path("a"), Path("b")], fmt="json", workers=2
    )
    for args in [
        [],
        ["--help"],
        ["scan"],  # the live instance
        ["scan", "--help"],
        ["scan", "wf.json", "--live"],
        ["scan", "wf.json", "--old-secret", "env:OLD"],
        ["scan", "wf.json", "--instance", "prod"],
        ["scan", "wf.json", "-i", "prod"],
        ["-v", "scan", "wf.json"],
        ["scan", "wf.json", "--format"],
        ["scan", "wf.json", "--format", "--json"],
        ["scan", "wf.json", "--json=yes"],
        ["scan", "wf.json", "--workers", "-1"],
        ["scan", "wf.json", "--max-file-size", "1e3"],
        ["scan", "wf.json", "--", "-x.json"],
        ["scan", "-"],
        ["inventory"],
    ]:
        assert parse(args) is None, args


@pytest.mark.parametrize("columns", [None, "0", "30", "80", "200"])
def test_console_width_is_the_width_rich_wraps_at(
    monkeypatch: pytest.MonkeyPatch, columns: str | None
) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    stream = io.StringIO()
    assert console_width(stream) == Console(file=stream).width
    assert console_width(stream, 200) == Console(file=stream, width=200).width == 200
    monkeypatch.setenv("FORCE_COLOR", "1")  # Rich writes colours: not plain text
    assert console_width(stream) is None


@settings(max_examples=500, deadline=None)
@given(
    line=st.text(alphabet=st.sampled_from(" \tab-.:/…é日\x1b["), max_size=90)
    | st.sampled_from(["", "x" * 40, "        literal value in 'X-Auth': Zq8r…yB (20 chars)"]),
    width=st.integers(min_value=1, max_value=40),
)
def test_plain_text_is_what_rich_prints_or_nothing(line: str, width: int) -> None:
    stream = io.StringIO()
    Console(file=stream, width=width).print(Text(line))
    plain = plain_text([line], width, _Utf8())
    assert plain is None or plain == stream.getvalue()
    if not set(line) & set("\té日\x1b"):  # one cell each: keyturn writes it without Rich
        assert plain is not None


class _Utf8(io.StringIO):
    """A stream that says it is UTF-8, as sys.stdout does."""

    @property
    def encoding(self) -> str:
        return "utf-8"


# A C locale without Python's UTF-8 mode: stdout is ASCII with `surrogateescape`, and open()
# writes ASCII, strictly.
C_LOCALE = {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0", "PYTHONIOENCODING": ""}
NARROW = {
    "latin-1": {"PYTHONIOENCODING": "latin-1"},
    "ascii": {"PYTHONIOENCODING": "ascii"},
    "C locale": C_LOCALE,
}


@pytest.mark.parametrize("narrow", NARROW, ids=str)
@pytest.mark.parametrize("mode", ["fast", "typer"])
def test_an_output_encoding_without_the_characters_gets_escapes(
    files: Path, narrow: str, mode: str
) -> None:
    """A finding's preview holds `…` and a workflow may be named in any script: where stdout
    cannot encode them, they come out escaped, with the scan's own exit code (1: findings),
    not an internal error (70)."""
    result = run(mode, files, "scan", "long.json", env=NARROW[narrow])
    assert (result.code, result.stderr) == (1, b""), result.stderr
    assert b"\\u2026" in result.stdout and b"\\u65e5\\u672c" in result.stdout  # …, 日本
    result.stdout.decode("latin-1" if narrow == "latin-1" else "ascii")  # all it can hold


@pytest.mark.parametrize("mode", ["fast", "typer"])
def test_reports_are_utf_8_whatever_the_locale(files: Path, mode: str) -> None:
    """A table written to a file, and a JSON report on stdout, are UTF-8 under a C locale."""
    table = run(mode, files, "scan", "long.json", "--output", "report.txt", env=C_LOCALE)
    assert table.code == 1, table.stderr
    assert "Nœud" in (files / "report.txt").read_text(encoding="utf-8")
    report = run(mode, files, "scan", "long.json", "--format", "json", env=C_LOCALE)
    assert report.code == 1, report.stderr
    assert "…" in json.loads(report.stdout.decode("utf-8"))["findings"][0]["preview"]
