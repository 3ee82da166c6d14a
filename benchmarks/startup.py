"""Start-up cost of keyturn's commands: wall and CPU time, `python -X importtime`, and which heavy
libraries each command loads.

    python benchmarks/startup.py                      # this checkout
    python benchmarks/startup.py --against OTHER/src  # and another source tree, with the ratio
    python benchmarks/startup.py --runs 30            # more runs (default 10)

`keyturn scan FILE` runs in pre-commit hooks on every commit: on one small workflow it should
finish in under 0.15 s (issue 13), through the console script as through `python -m keyturn`;
the last line says whether it does. `keyturn inventory` should not pay for AWS or Vault code it
does not use. `--against` takes the `src` folder of another checkout (e.g. `git worktree add
/tmp/old REV`), run with this virtualenv's libraries. The runs of the trees are interleaved, so
that a busy machine slows both alike; CPU time (user + system) moves less than wall time when
other processes compete for the cores.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HEAVY = ("boto3", "botocore", "hvac", "pydantic", "httpx", "sqlalchemy", "alembic", "tenacity",
         "typer", "rich")  # fmt: skip
TARGET_SECONDS = 0.15  # `keyturn scan FILE` on one small workflow (issue 13)
CONSOLE = "console script"
REFERENCE = "python -c pass"  # the interpreter alone: how fast the machine is right now


def small_workflow() -> dict[str, object]:
    """One small exported workflow with two findings (a typed-in header, a password in a URL)."""
    return {
        "name": "Sync",
        "connections": {},
        "nodes": [
            {
                "name": "Call",
                "type": "n8n-nodes-base.httpRequest",
                "parameters": {
                    "url": "postgres://app:Zq8r2LmX4pT7vN1k@db.example.com/app",
                    "headerParameters": {
                        "parameters": [{"name": "X-Auth", "value": "Zq8r2LmX4pT7vN1kW9yB"}]
                    },
                },
            }
        ],
    }


def commands(workdir: Path) -> dict[str, list[str]]:
    workflow = workdir / "workflow.json"
    workflow.write_text(json.dumps(small_workflow(), indent=2))
    scan = ["scan", str(workflow)]
    return {
        REFERENCE: ["-c", "pass"],
        "--help": ["--help"],
        "scan FILE": scan,
        "scan FILE --json": [*scan, "--json"],
        "scan FILE --format sarif": [*scan, "--format", "sarif"],
        f"scan FILE ({CONSOLE})": scan,
        "inventory": ["inventory"],
    }


def environment(source: Path | None) -> dict[str, str]:
    env = {
        # As installed: pip writes each module's bytecode when it installs keyturn; without it
        # (PYTHONDONTWRITEBYTECODE) every run would time Python compiling keyturn's source.
        **{name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"},
        # inventory against a closed port, one attempt: what is measured is start-up, not n8n
        "KEYTURN_N8N_URL": "http://127.0.0.1:9",
        "KEYTURN_N8N_API_KEY": "k" * 40,
        "KEYTURN_N8N_MAX_ATTEMPTS": "1",
    }
    if source is not None:
        env["PYTHONPATH"] = str(source)
    return env


def launcher(name: str) -> list[str]:
    """The console script next to this Python (what pre-commit runs), or `python -m keyturn`."""
    if name == REFERENCE:
        return [sys.executable]
    if name.endswith(f"({CONSOLE})"):
        return [str(Path(sys.executable).parent / "keyturn")]
    return [sys.executable, "-m", "keyturn"]


@dataclass
class Times:
    wall: list[float]
    cpu: list[float]  # user + system of the process

    def line(self) -> str:
        wall = sorted(self.wall)
        return (
            f"{statistics.median(wall) * 1000:5.0f} ms wall "
            f"[{wall[0] * 1000:.0f}-{wall[-1] * 1000:.0f}], "
            f"{statistics.median(self.cpu) * 1000:4.0f} ms CPU"
        )


def timings(command: list[str], envs: list[dict[str, str]], runs: int) -> list[Times]:
    """Each environment's runs, interleaved (fair under load), after one uncounted run each
    (it writes the bytecode if none was)."""
    for env in envs:
        subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times = [Times([], []) for _ in envs]
    for _ in range(runs):
        for env, measured in zip(envs, times, strict=True):
            started = time.perf_counter()
            process = subprocess.Popen(
                command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            _, _, usage = os.wait4(process.pid, 0)
            measured.wall.append(time.perf_counter() - started)
            measured.cpu.append(usage.ru_utime + usage.ru_stime)
    return times


def imports(args: list[str], env: dict[str, str]) -> tuple[float, list[str]]:
    """(import seconds, heavy libraries loaded) from `python -X importtime`."""
    traced = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "keyturn", *args],
        env=env,
        capture_output=True,
        text=True,
    )
    cumulative: dict[str, int] = {}
    for line in traced.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            _, total, name = line.split("|")
            if total.strip().isdigit():
                cumulative[name.strip()] = int(total)
    top_level = sum(us for name, us in cumulative.items() if "." not in name)
    return top_level / 1e6, [m for m in HEAVY if m in cumulative]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, help="the src folder of another checkout")
    parser.add_argument("--runs", type=int, default=10, help="runs of each command (10)")
    options = parser.parse_args()
    single_file: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        for name, args in commands(Path(folder)).items():
            envs = [environment(None)]
            if options.against:
                envs.append(environment(options.against))
            times = timings([*launcher(name), *args], envs, options.runs)
            if name == REFERENCE:
                print(f"{name:34} {times[0].line()}", flush=True)
                continue
            seconds, heavy = imports(args, envs[0])
            line = f"{name:34} {times[0].line()}, {seconds * 1000:4.0f} ms imports"
            line += f"; loads {', '.join(heavy) or 'none of ' + '/'.join(HEAVY[:4])}"
            if options.against:
                _, other_heavy = imports(args, envs[1])
                ratio = statistics.median(times[1].wall) / statistics.median(times[0].wall)
                line += (
                    f" | other: {times[1].line()} ({ratio:.2f}x);"
                    f" loads {', '.join(other_heavy) or '-'}"
                )
            print(line, flush=True)
            if name.startswith("scan FILE"):
                single_file.append(statistics.median(times[0].wall))
    slowest = max(single_file)
    verdict = "met" if slowest < TARGET_SECONDS else "NOT met"
    target = f"target < {TARGET_SECONDS * 1000:.0f} ms: {verdict}"
    print(
        f"single small file: slowest median {slowest * 1000:.0f} ms ({target}); "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
