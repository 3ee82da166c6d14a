"""Start-up cost of keyturn's commands: wall time and `python -X importtime`, and which heavy
libraries each command loads.

    python benchmarks/startup.py                      # this checkout
    python benchmarks/startup.py --against OTHER/src  # and another source tree, with the ratio

`keyturn scan FILE` runs in pre-commit hooks on every commit, and `keyturn inventory` should not
pay for AWS or Vault code it does not use. `--against` takes the `src` folder of another
checkout (e.g. `git worktree add /tmp/old REV`), run with this virtualenv's libraries.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("boto3", "botocore", "hvac", "pydantic", "httpx", "sqlalchemy", "alembic", "tenacity")
RUNS = 10


def commands(workdir: Path) -> dict[str, list[str]]:
    workflow = workdir / "workflow.json"
    workflow.write_text('{"name": "x", "nodes": []}')
    return {"--help": ["--help"], "scan FILE": ["scan", str(workflow)], "inventory": ["inventory"]}


def environment(source: Path | None) -> dict[str, str]:
    env = {
        **os.environ,
        # inventory against a closed port, one attempt: what is measured is start-up, not n8n
        "KEYTURN_N8N_URL": "http://127.0.0.1:9",
        "KEYTURN_N8N_API_KEY": "k" * 40,
        "KEYTURN_N8N_MAX_ATTEMPTS": "1",
    }
    if source is not None:
        env["PYTHONPATH"] = str(source)
    return env


def wall_times(args: list[str], envs: list[dict[str, str]]) -> list[float]:
    """Median wall seconds of each environment's run, the runs interleaved (fair under load)."""
    walls: list[list[float]] = [[] for _ in envs]
    for _ in range(RUNS):
        for index, env in enumerate(envs):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "keyturn", *args], env=env, capture_output=True)
            walls[index].append(time.perf_counter() - started)
    return [statistics.median(runs) for runs in walls]


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
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for name, args in commands(Path(folder)).items():
            envs = [environment(None)]
            if options.against:
                envs.append(environment(options.against))
            walls = wall_times(args, envs)
            seconds, heavy = imports(args, envs[0])
            line = f"{name:10} {walls[0] * 1000:5.0f} ms wall, {seconds * 1000:4.0f} ms imports"
            line += f"; loads {', '.join(heavy) or 'none of ' + '/'.join(HEAVY[:4])}"
            if options.against:
                _, other_heavy = imports(args, envs[1])
                line += (
                    f" | other: {walls[1] * 1000:5.0f} ms ({walls[1] / walls[0]:.2f}x);"
                    f" loads {', '.join(other_heavy) or '-'}"
                )
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
