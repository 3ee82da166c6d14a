"""Install the pinned n8n, and the Node 24 it needs, into a cache folder outside any repo.

Used by the sandbox, the test harness and the benchmarks. Installs once (about 7 minutes on two
cores) and reuses the cache when present. `python -m keyturn.sandbox.install` prints the folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from keyturn.core.errors import KeyturnError

N8N_VERSION = "2.40.7"  # 2.41.x does not install from the registry; PATCH exists since 2.3.0
NODE_PACKAGE = "node@24"
_MARKER = ".installed"


def cache_dir(version: str = N8N_VERSION) -> Path:
    """Where the n8n of `version` lives: `$KEYTURN_N8N_CACHE`, else ~/.cache/keyturn/n8n-VERSION."""
    explicit = os.environ.get("KEYTURN_N8N_CACHE")
    if explicit:
        return Path(explicit)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "keyturn" / f"n8n-{version}"


def node_bin_dir(folder: Path) -> Path:
    return folder / "node_modules" / ".bin"


def is_installed(folder: Path) -> bool:
    return (folder / _MARKER).is_file() and (node_bin_dir(folder) / "n8n").exists()


def ensure_n8n(version: str = N8N_VERSION, *, quiet: bool = False) -> Path:
    """Install n8n `version` into its cache folder unless it is there already; return the folder."""
    folder = cache_dir(version)
    if is_installed(folder):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    package_json = folder / "package.json"
    if not package_json.exists():
        package_json.write_text(json.dumps({"name": "keyturn-n8n-cache", "private": True}))
    log_path = folder / "install.log"
    if not quiet:
        print(
            f"Installing Node 24 and n8n {version} into {folder} (once, about 7 minutes)...",
            file=sys.stderr,
        )
    npm = ["npm", "install", "--no-audit", "--no-fund", "--save-exact"]
    # n8n 2.x needs Node >= 24; the npm package `node` ships the binary.
    _run([*npm, NODE_PACKAGE], folder, log_path)
    # --ignore-scripts: a kafka dependency would download binaries from the internet.
    _run([*npm, "--ignore-scripts", f"n8n@{version}"], folder, log_path)
    # The SQLite driver must then be compiled from source.
    env = {**os.environ, "PATH": f"{node_bin_dir(folder)}{os.pathsep}{os.environ['PATH']}"}
    _run(["npm", "rebuild", "sqlite3"], folder, log_path, env)
    (folder / _MARKER).write_text(version + "\n")
    return folder


def _run(
    command: list[str], folder: Path, log_path: Path, env: dict[str, str] | None = None
) -> None:
    with log_path.open("a") as log:
        log.write(f"$ {' '.join(command)}\n")
        log.flush()
        result = subprocess.run(command, cwd=folder, stdout=log, stderr=subprocess.STDOUT, env=env)
    if result.returncode != 0:
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-15:])
        raise KeyturnError(
            f"Installing n8n failed: {' '.join(command)} exited {result.returncode}.\n{tail}",
            f"See {log_path}; the npm registry must be reachable.",
        )


def main() -> None:
    print(ensure_n8n())


if __name__ == "__main__":
    main()
