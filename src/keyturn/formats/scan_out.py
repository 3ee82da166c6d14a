"""Scan reports: a table (Rich on a terminal), a JSON document (keyturn.scan/v1) or SARIF 2.1.0.

Rich is imported only to draw the table: `keyturn scan --format json` loads none of it.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from keyturn import __version__
from keyturn.core import jsonio
from keyturn.detect.findings import Finding, ScanResult
from keyturn.detect.rules import ALL_RULES, Severity

if TYPE_CHECKING:
    from rich.console import Console

SCHEMA_ID = "keyturn.scan/v1"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
_SARIF_LEVEL = {Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note"}
_SECURITY_SEVERITY = {Severity.HIGH: "8.0", Severity.MEDIUM: "5.0", Severity.LOW: "2.0"}
_STYLE = {Severity.HIGH: "bold red", Severity.MEDIUM: "yellow", Severity.LOW: "dim"}


def _where(finding: Finding) -> str:
    location = finding.location
    text = location.path + (f":{location.line}" if location.line else "")
    inside = " > ".join(part for part in (location.workflow, location.node) if part)
    return f"{text} ({inside})" if inside else text


def _table_rows(result: ScanResult) -> list[list[tuple[str, str]]]:
    """Each line of the table as (text, style) parts: per finding its severity, rule and
    where, then what and a redacted preview; the skipped files; the summary."""
    rows: list[list[tuple[str, str]]] = []
    for finding in result.findings:
        severity = finding.rule.severity
        rows.append(
            [
                (f"{severity.label:<7}", _STYLE[severity]),
                (f"{finding.rule.id} {finding.rule.name}  ", "bold"),
                (_where(finding), "cyan"),
            ]
        )
        rows.append([(f"        {finding.detail}: {finding.preview}", "")])
    for skipped in result.skipped:
        rows.append([(f"skipped {skipped.path}: {skipped.reason}", "dim")])
    rows.append([(summary_line(result), "")])
    return rows


def table_lines(result: ScanResult) -> list[str]:
    """The table's lines without styles, as they are (not escaped: see `render_table`)."""
    return ["".join(text for text, _ in row) for row in _table_rows(result)]


def render_table(result: ScanResult, console: Console) -> None:
    """The table on a Rich console, one `print` per line.

    Paths, workflow and node names and previews are the scanned files' data: plain text, with
    control characters shown as escapes.
    """
    from rich.text import Text

    from keyturn.formats.safe_text import plain

    for row in _table_rows(result):
        parts = [plain(text, style) for text, style in row]
        console.print(parts[0] if len(parts) == 1 else Text.assemble(*parts))


def summary_line(result: ScanResult) -> str:
    counts = {severity: 0 for severity in Severity}
    for finding in result.findings:
        counts[finding.rule.severity] += 1
    by_severity = ", ".join(f"{counts[s]} {s.label}" for s in reversed(Severity))
    scanned = f"{result.files_scanned} files ({result.bytes_scanned / 1e6:.1f} MB)"
    if result.workflows_scanned:
        scanned += f", {result.workflows_scanned} live workflows"
    baselined = f", {result.baselined} in the baseline" if result.baselined else ""
    return (
        f"{len(result.findings)} findings ({by_severity}){baselined} in {scanned}, "
        f"{len(result.skipped)} skipped, {result.seconds:.2f}s"
    )


def _now() -> str:
    from datetime import UTC, datetime  # here: the table (a pre-commit hook's output) has no date

    return datetime.now(UTC).isoformat()


def json_document(result: ScanResult) -> dict[str, Any]:
    label = {severity: severity.label for severity in Severity}  # once, not per finding
    counts = Counter(f.rule.severity for f in result.findings)
    return {
        "schema": SCHEMA_ID,
        "generated_at": _now(),
        "summary": {
            "findings": len(result.findings),
            "by_severity": {label[s]: counts[s] for s in Severity},
            "baselined": result.baselined,
            "files_scanned": result.files_scanned,
            "bytes_scanned": result.bytes_scanned,
            "workflows_scanned": result.workflows_scanned,
            "skipped": len(result.skipped),
            "seconds": round(result.seconds, 3),
        },
        "findings": [
            {
                "rule_id": f.rule.id,
                "rule": f.rule.name,
                "severity": label[f.rule.severity],
                "message": f.message,
                "remediation": f.rule.remediation,
                "field": f.field,
                "detail": f.detail,
                "preview": f.preview,
                "fingerprint": f.fingerprint,
                "location": {
                    "path": f.location.path,
                    "line": f.location.line,
                    "pointer": f.location.pointer,
                    "workflow": f.location.workflow,
                    "node": f.location.node,
                },
            }
            for f in result.findings
        ],
        "skipped": [{"path": s.path, "reason": s.reason} for s in result.skipped],
    }


def sarif_document(result: ScanResult) -> dict[str, Any]:
    rule_index = {rule.id: index for index, rule in enumerate(ALL_RULES)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "keyturn",
                        "version": __version__,
                        "informationUri": "https://github.com/keyturn/keyturn",
                        "rules": [_sarif_rule(rule) for rule in ALL_RULES],
                    }
                },
                "results": [_sarif_result(f, rule_index[f.rule.id]) for f in result.findings],
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [
                            {
                                "level": "note",
                                "message": {"text": f"skipped: {s.reason}"},
                                "locations": [_physical(s.path, None)],
                            }
                            for s in result.skipped
                        ],
                    }
                ],
            }
        ],
    }


def _sarif_rule(rule: Any) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.name.replace("-", " ")},
        "fullDescription": {"text": rule.description},
        "help": {"text": rule.remediation},
        "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
        "properties": {
            "security-severity": _SECURITY_SEVERITY[rule.severity],
            "tags": ["security", "secrets", "n8n"],
        },
    }


def _uri(path: str) -> str:
    """A SARIF artifact URI: relative paths stay relative (code-scanning UIs need that)."""
    if path.startswith("n8n://"):
        return quote(path, safe=":/")
    if os.path.isabs(path):
        return Path(path).as_uri()
    return quote(PurePath(path).as_posix().removeprefix("./"))


def _physical(path: str, line: int | None) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": _uri(path)}}
    if line:
        location["region"] = {"startLine": line}
    return {"physicalLocation": location}


def _sarif_result(finding: Finding, index: int) -> dict[str, Any]:
    location = _physical(finding.location.path, finding.location.line)
    logical = [part for part in (finding.location.workflow, finding.location.node) if part]
    if logical or finding.location.pointer:
        location["logicalLocations"] = [
            {
                "fullyQualifiedName": " > ".join(logical) or (finding.location.pointer or ""),
                "kind": "object",
                **({"decoratedName": finding.location.pointer} if finding.location.pointer else {}),
            }
        ]
    return {
        "ruleId": finding.rule.id,
        "ruleIndex": index,
        "level": _SARIF_LEVEL[finding.rule.severity],
        "message": {"text": finding.message},
        "locations": [location],
        "partialFingerprints": {"keyturn/v2": finding.fingerprint},  # v2: the place only
    }


def dumps(document: dict[str, Any], *, large: bool = False) -> bytes:
    """The report as UTF-8 bytes: written as they are (a large report is not decoded only to be
    encoded again). orjson after a large scan: tens of thousands of findings in milliseconds."""
    return jsonio.dumps(document, indent=True, large=large, newline=True)
