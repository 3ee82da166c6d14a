"""Scanner benchmark: keyturn scan against other scanners on a realistic n8n corpus.

Builds a corpus (default 100 MB, see scan_corpus.py) with its ground truth, then measures in
the same run, for each scanner: MB/s, recall and precision (a finding counts when it points at
the file and line of a planted secret). Scanners:

- keyturn (`keyturn scan --format json`, the real CLI, process start and the JSON report
  included, median of 3), and its scan engine alone, in-process;
- kingfisher (PyPI `kingfisher-bin`, Rust; run with --no-validate: no network);
- detect-secrets (PyPI; on a sample of the corpus, it is slow).

The other scanners are installed into a cache folder (~/.cache/keyturn/bench-scanners).
Usage: python benchmarks/scan.py [--megabytes 100] [--sample-megabytes 5]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _realworld import require_realworld
from scan_corpus import Corpus, build_corpus

TOOLS_VENV = Path.home() / ".cache" / "keyturn" / "bench-scanners"
TOOL_PACKAGES = ["detect-secrets==1.5.0", "kingfisher-bin==2.14.0"]
SECRET_RULES = {"KT001", "KT002", "KT003", "KT004", "KT005", "KT009"}


def tools_bin() -> Path:
    python = TOOLS_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TOOLS_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *TOOL_PACKAGES], check=True)
    return TOOLS_VENV / "bin"


Run = tuple[float, set[tuple[str, int]]]  # (seconds the scanner ran, (file, line) found)


def timed_run(command: list[str], cwd: Path | None = None) -> tuple[float, str]:
    """Run a scanner; the time covers the scanner's process only, not reading its report."""
    started = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
    seconds = time.perf_counter() - started
    if out.returncode not in (0, 1, 200, 205):
        raise RuntimeError(f"{command[0]} failed ({out.returncode}): {out.stderr[-500:]}")
    return seconds, out.stdout


def run_keyturn(target: Path) -> Run:
    command = [sys.executable, "-m", "keyturn", "scan", str(target), "--format", "json"]
    seconds, stdout = timed_run(command)
    document = json.loads(stdout)
    return seconds, {
        (f["location"]["path"], f["location"]["line"])
        for f in document["findings"]
        if f["rule_id"] in SECRET_RULES
    }


def run_keyturn_engine(target: Path) -> Run:
    """The scan engine in this process: no interpreter start, no report to write."""
    from keyturn.scan.engine import ScanOptions, run_scan

    started = time.perf_counter()
    result = run_scan([target], None, ScanOptions())
    seconds = time.perf_counter() - started
    return seconds, {
        (f.location.path, f.location.line or 0)
        for f in result.findings
        if f.rule.id in SECRET_RULES
    }


def run_kingfisher(bin_dir: Path, target: Path) -> Run:
    command = [str(bin_dir / "kingfisher"), "scan", str(target), "--format", "json",
               "--no-validate", "--no-update-check"]  # fmt: skip
    seconds, stdout = timed_run(command)
    document = json.loads(stdout.splitlines()[0])
    return seconds, {
        (str(Path(f["finding"]["path"]).resolve()), int(f["finding"]["line"]))
        for f in document["findings"]
    }


def run_detect_secrets(bin_dir: Path, target: Path) -> Run:
    command = [str(bin_dir / "detect-secrets"), "scan", "--all-files", str(target)]
    seconds, stdout = timed_run(command, cwd=target)
    document = json.loads(stdout)
    return seconds, {
        (str((target / name).resolve()), int(result["line_number"]))
        for name, results in document["results"].items()
        for result in results
    }


def measure(
    name: str,
    run: Callable[[], Run],
    truth: set[tuple[str, int]],
    megabytes: float,
    repeat: int,
) -> dict[str, Any]:
    times, found = [], set()
    for _ in range(repeat):
        seconds, found = run()
        times.append(seconds)
    seconds = statistics.median(times)
    hits = len(found & truth)
    return {
        "scanner": name,
        "megabytes": round(megabytes, 1),
        "seconds": round(seconds, 2),
        "mb_per_s": round(megabytes / seconds, 1),
        "recall": round(hits / len(truth), 3) if truth else None,
        "precision": round(hits / len(found), 3) if found else None,
        "findings": len(found),
        "planted": len(truth),
    }


def sample_of(
    corpus: Corpus, megabytes: float, folder: Path
) -> tuple[Path, set[tuple[str, int]], float]:
    """Copy whole team folders until `megabytes`; their ground truth rebased."""
    folder.mkdir()
    size, truth = 0, set()
    for team in sorted(p for p in corpus.root.iterdir() if p.is_dir()):
        if size >= megabytes * 1e6:
            break
        shutil.copytree(team, folder / team.name)
        size += sum(p.stat().st_size for p in team.rglob("*") if p.is_file())
        for t in corpus.truths:
            if Path(t.path).is_relative_to(team):
                rebased = folder / team.name / Path(t.path).relative_to(team)
                truth.add((str(rebased.resolve()), t.line))
    return folder, truth, size / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=100)
    parser.add_argument("--sample-megabytes", type=float, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    require_realworld()
    work = Path(tempfile.mkdtemp(prefix="keyturn-scan-bench-")).resolve()
    try:
        corpus = build_corpus(work / "corpus", int(args.megabytes * 1e6))
        truth = {(str(Path(t.path).resolve()), t.line) for t in corpus.truths}
        megabytes = corpus.bytes / 1e6
        print(
            f"corpus: {corpus.files} files, {megabytes:.1f} MB, {len(truth)} planted secrets",
            file=sys.stderr,
        )
        bin_dir = tools_bin()
        rows = [
            measure(
                "keyturn (CLI)", lambda: run_keyturn(corpus.root), truth, megabytes, args.repeat
            ),
            measure(
                "keyturn (engine, in-process)",
                lambda: run_keyturn_engine(corpus.root),
                truth,
                megabytes,
                args.repeat,
            ),
            measure(
                "kingfisher 2.14.0",
                lambda: run_kingfisher(bin_dir, corpus.root),
                truth,
                megabytes,
                1,
            ),
        ]
        sample, sample_truth, sample_mb = sample_of(corpus, args.sample_megabytes, work / "sample")
        rows.append(
            measure("keyturn (sample)", lambda: run_keyturn(sample), sample_truth, sample_mb, 1)
        )
        rows.append(
            measure(
                "detect-secrets 1.5.0 (sample)",
                lambda: run_detect_secrets(bin_dir, sample),
                sample_truth,
                sample_mb,
                1,
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(rows, indent=2))
    print("\n| scanner | corpus | MB/s | recall | precision | findings / planted |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['scanner']} | {row['megabytes']} MB | {row['mb_per_s']} | {row['recall']} | "
            f"{row['precision']} | {row['findings']} / {row['planted']} |"
        )


if __name__ == "__main__":
    main()
