"""keyturn scan against hand-labelled ground truth on the real community workflow exports.

realworld_labels.json labels every literal in an authentication position of the real exports
($KEYTURN_REALWORLD_DIR, else ../shared/realworld-workflows: see _realworld.py) as `secret`,
`placeholder` or `not_secret`, each with a one-word reason; realworld_candidates.py lists those
positions. This runs keyturn's scan engine in-process on the exports and matches each finding of
a secret rule to a labelled literal:

- by file and JSON pointer: the finding's pointer is the literal's, or one of its parents (a
  JSON text, a URL or a Code node's source judged as a whole); among several literals there, the
  one whose text contains the finding's value (compared by SHA-256, the finding's value_digest);
- else by file and value: a labelled literal in that file whose text contains the value;
- else by file and line of the value.

It reports the labelled secrets, those found and recall; the findings, true positives and
precision; and lists misses and false positives by file, node, name, shape and label reason,
never a value nor a preview of one. A finding that matches no labelled literal (a place the
labels do not cover) is listed apart and counted against precision. Labels whose literal is gone
and literals without a label are reported too: the labels file then needs a look.

Usage: python benchmarks/realworld_truth.py [--json] [--labels FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _realworld import realworld_dir, require_realworld
from realworld_candidates import Candidate, all_candidates

LABELS = Path(__file__).resolve().parent / "realworld_labels.json"
SECRET_RULES = {"KT001", "KT002", "KT003", "KT004", "KT005", "KT009"}
_PREVIEW_LENGTH = re.compile(r"\((\d+) chars\)$")


@dataclass
class Labelled:
    label: dict[str, Any]
    candidate: Candidate
    findings: list[Any] = field(default_factory=list)


@dataclass
class Matched:
    finding: Any
    file: str
    how: str  # pointer, value, line or "" (no labelled literal)
    labelled: Labelled | None = None


def load_labels(path: Path = LABELS) -> list[dict[str, Any]]:
    document = json.loads(path.read_text())
    labels: list[dict[str, Any]] = document["labels"]
    return labels


def label_key(label: dict[str, Any]) -> tuple[str, str, str, str]:
    return (label["file"], label["pointer"], label["name"], label["fingerprint"])


def contains_value(text: str, digest: bytes, length: int | None) -> bool:
    """Whether `text` holds, somewhere, the string whose SHA-256 is `digest`."""
    if not digest:
        return False
    if hashlib.sha256(text.encode()).digest() == digest:
        return True
    sizes = [length] if length else range(1, len(text))
    for size in sizes:
        for start in range(0, len(text) - size + 1):
            if hashlib.sha256(text[start : start + size].encode()).digest() == digest:
                return True
    return False


def _finding_length(finding: Any) -> int | None:
    match = _PREVIEW_LENGTH.search(finding.preview or "")
    return int(match.group(1)) if match else None


class _Lines:
    """Line numbers of literals in the raw files, found the way keyturn finds them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.raw: dict[str, str] = {}

    def lines_of(self, file: str, value: str) -> set[int]:
        if file not in self.raw:
            self.raw[file] = (self.root / file).read_text(errors="replace")
        text, needle = self.raw[file], json.dumps(value, ensure_ascii=False)[1:-1]
        lines, start = set(), text.find(needle)
        while start >= 0:
            lines.add(text.count("\n", 0, start) + 1)
            start = text.find(needle, start + 1)
        return lines


def match_findings(findings: list[Any], labelled: list[Labelled], root: Path) -> list[Matched]:
    by_file: dict[str, list[Labelled]] = {}
    for item in labelled:
        by_file.setdefault(item.candidate.file, []).append(item)
    lines = _Lines(root)
    matched: list[Matched] = []
    resolved_root = root.resolve()
    for finding in findings:
        location = finding.location
        try:
            file = str(Path(location.path).resolve().relative_to(resolved_root))
        except ValueError:
            file = location.path
        pool = by_file.get(file, [])
        length = _finding_length(finding)
        digest = finding.value_digest

        def holds(item: Labelled, digest: bytes = digest, length: int | None = length) -> bool:
            return contains_value(item.candidate.value, digest, length)

        chosen: Labelled | None = None
        how = ""
        if location.pointer:
            at = [
                item
                for item in pool
                if item.candidate.pointer == location.pointer
                or item.candidate.pointer.startswith(location.pointer + "/")
            ]
            with_value = [item for item in at if holds(item)]
            if with_value or len(at) == 1:
                chosen, how = _first_free(with_value or at), "pointer"
        if chosen is None:
            with_value = [item for item in pool if holds(item)]
            if with_value:
                chosen, how = _first_free(with_value), "value"
        if chosen is None and location.line:
            on_line = [
                item for item in pool if location.line in lines.lines_of(file, item.candidate.value)
            ]
            if on_line:
                chosen, how = _first_free(on_line), "line"
        if chosen is not None:
            chosen.findings.append(finding)
        matched.append(Matched(finding, file, how, chosen))
    return matched


def _first_free(items: list[Labelled]) -> Labelled:
    """The first literal no finding has matched yet (two findings, two places), else the first."""
    return next((item for item in items if not item.findings), items[0])


def run_keyturn(root: Path) -> tuple[float, list[Any]]:
    import time

    from keyturn.scan.engine import ScanOptions, run_scan

    started = time.perf_counter()
    result = run_scan([root], None, ScanOptions())
    seconds = time.perf_counter() - started
    return seconds, [f for f in result.findings if f.rule.id in SECRET_RULES]


def evaluate(labels_path: Path = LABELS) -> dict[str, Any]:
    """The whole measurement, as a JSON-able report (no value, no preview)."""
    root = realworld_dir()
    labels = load_labels(labels_path)
    candidates = {c.key: c for c in all_candidates(root)}
    labelled: list[Labelled] = []
    stale: list[dict[str, Any]] = []
    for label in labels:
        candidate = candidates.get(label_key(label))
        if candidate is None:
            stale.append(label)
        else:
            labelled.append(Labelled(label, candidate))
    known = {label_key(label) for label in labels}
    unlabelled = [c.public() for key, c in candidates.items() if key not in known]

    seconds, findings = run_keyturn(root)
    matched = match_findings(findings, labelled, root)

    secrets = [item for item in labelled if item.label["label"] == "secret"]
    found = [item for item in secrets if item.findings]
    true_positives = [m for m in matched if m.labelled and m.labelled.label["label"] == "secret"]
    false_positives = [m for m in matched if m.labelled and m.labelled.label["label"] != "secret"]
    outside = [m for m in matched if m.labelled is None]

    def describe_label(item: Labelled) -> dict[str, Any]:
        label = item.label
        return {k: label[k] for k in ("file", "node", "pointer", "name", "shape", "reason")} | {
            "kind": item.candidate.kind,
            "label": label["label"],
        }

    def describe_finding(m: Matched) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": m.finding.rule.id,
            "file": m.file,
            "node": m.finding.location.node,
            "pointer": m.finding.location.pointer,
            "line": m.finding.location.line,
            "field": m.finding.field,
            "matched_by": m.how or None,
        }
        if m.labelled is not None:
            out |= {
                "name": m.labelled.label["name"],
                "shape": m.labelled.label["shape"],
                "label": m.labelled.label["label"],
                "reason": m.labelled.label["reason"],
            }
        return out

    counts = Counter(item.label["label"] for item in labelled)
    return {
        "source": str(root),
        "candidates": len(candidates),
        "labels": dict(sorted(counts.items())),
        "reasons": dict(Counter(item.label["reason"] for item in labelled).most_common()),
        "scan_seconds": round(seconds, 3),
        "secrets": len(secrets),
        "found": len(found),
        "recall": round(len(found) / len(secrets), 3) if secrets else None,
        "findings": len(findings),
        "true_positives": len(true_positives),
        "precision": round(len(true_positives) / len(findings), 3) if findings else None,
        "misses": [describe_label(item) for item in secrets if not item.findings],
        "false_positives": [describe_finding(m) for m in false_positives],
        "outside_labels": [describe_finding(m) for m in outside],
        "true_positive_findings": [describe_finding(m) for m in true_positives],
        "stale_labels": [
            {k: label[k] for k in ("file", "node", "pointer", "name", "fingerprint")}
            for label in stale
        ],
        "unlabelled_candidates": unlabelled,
    }


def print_report(report: dict[str, Any]) -> None:
    def short(path: str) -> str:
        return path.rsplit("/", 1)[-1]

    labels = ", ".join(f"{n} {label}" for label, n in report["labels"].items())
    print(f"real-world truth: {report['candidates']} literals in authentication positions "
          f"({labels})")  # fmt: skip
    top = ", ".join(f"{r} {n}" for r, n in list(report["reasons"].items())[:10])
    print(f"  top reasons: {top}")
    recall = "n/a" if report["recall"] is None else f"{report['recall']:.3f}"
    precision = "n/a" if report["precision"] is None else f"{report['precision']:.3f}"
    print(f"keyturn scan ({report['scan_seconds']} s): labelled secrets {report['secrets']}, "
          f"found {report['found']}, recall {recall}; findings {report['findings']}, "
          f"true positives {report['true_positives']}, precision {precision}")  # fmt: skip
    sections = [
        ("missed secrets", report["misses"]),
        ("false positives (labelled placeholder or not_secret)", report["false_positives"]),
        ("findings outside the labelled positions (counted against precision)",
         report["outside_labels"]),
    ]  # fmt: skip
    for title, rows in sections:
        print(f"\n{title}: {len(rows)}")
        for row in rows:
            where = f"{short(row['file'])} | node {row.get('node')!r}"
            if "rule" in row:
                what = (f"{row['rule']} {row.get('name', row.get('field'))!r} "
                        f"{row.get('shape', '')} {row.get('label', '')}/{row.get('reason', '')} "
                        f"line {row['line']}")  # fmt: skip
            else:
                what = f"{row['name']!r} {row['kind']} {row['shape']} ({row['reason']})"
            print(f"  {where} | {what}")
    if report["stale_labels"] or report["unlabelled_candidates"]:
        print(f"\nlabels file out of date: {len(report['stale_labels'])} labels match no literal, "
              f"{len(report['unlabelled_candidates'])} literals have no label "
              "(see --json)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="the whole report as JSON")
    parser.add_argument("--labels", type=Path, default=LABELS)
    args = parser.parse_args()
    require_realworld()
    report = evaluate(args.labels)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print_report(report)


if __name__ == "__main__":
    main()
