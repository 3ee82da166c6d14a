"""Where the benchmarks find the 395 real community workflow exports.

`$KEYTURN_REALWORLD_DIR`, else `../shared/realworld-workflows` beside the repository: the rule
of tests/helpers.py (`realworld_dir`), which skips where a benchmark stops with one line.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ENV = "KEYTURN_REALWORLD_DIR"


class RealworldMissing(Exception):
    """The folder of exports is absent or holds no export."""


def realworld_dir() -> Path:
    configured = os.environ.get(ENV)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "shared" / "realworld-workflows"


def realworld_files() -> list[Path]:
    """Every export (every file but the README), sorted; RealworldMissing if there is none."""
    root = realworld_dir()
    if not root.is_dir():
        raise RealworldMissing(
            f"no real-world workflow exports at {root}: set {ENV} to their folder "
            "or put shared/realworld-workflows beside the repository"
        )
    files = sorted(path for path in root.rglob("*") if path.is_file() and path.suffix != ".md")
    if not files:
        raise RealworldMissing(f"no workflow export in {root} ({ENV})")
    return files


def require_realworld() -> None:
    """For a benchmark's main(): without the exports, one line on stderr and exit code 1."""
    try:
        realworld_files()
    except RealworldMissing as exc:
        sys.exit(f"{Path(sys.argv[0]).name}: error: {exc}")
