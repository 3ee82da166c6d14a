"""Install an n8n, and the Node it needs, into a cache folder outside any repo.

Used by the sandbox, the test harness and the benchmarks. Installs once (about 7 minutes on two
cores) and reuses the cache when present. `python -m keyturn.sandbox.install [VERSION ...]`
installs the given versions (default: the pinned one) and prints their folders.

Which versions install from the registry, and what each needs (see docs/compatibility.md):
- 2.x wants Node 24 (`node@24` from npm); 1.x wants Node 22.
- Many versions (1.x, 2.7, 2.30...) take `xlsx` from a tarball host outside the registry
  (through n8n-nodes-base): an npm `overrides` entry then pins the registry's last `xlsx`
  (0.18.5) instead. Which versions do is read from the registry before installing.
- 2.41.3 does not install (its `@n8n/agents@0.26.2` is not on the registry); 2.41.1 does.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from keyturn.core.errors import KeyturnError

N8N_VERSION = "2.40.7"  # the pinned n8n: the sandbox, the generated tables, the full suite
MATRIX_VERSIONS = ("1.123.81", "2.7.5", "2.41.1")  # the other n8n the test suite proves
_MARKER = ".installed"


def node_package(version: str) -> str:
    """The npm package that brings the Node this n8n needs."""
    return "node@22" if version.startswith("1.") else "node@24"


def _overrides(version: str) -> dict[str, str]:
    """npm overrides this n8n needs: `xlsx` from the registry when n8n-nodes-base wants it
    from a tarball URL (a host these machines cannot reach)."""
    nodes_base = _npm_view(f"n8n@{version}", "dependencies.n8n-nodes-base")
    wanted = _npm_view(f"n8n-nodes-base@{nodes_base}", "dependencies.xlsx") if nodes_base else ""
    return {"xlsx": "0.18.5"} if wanted.startswith(("http://", "https://")) else {}


def _npm_view(package: str, field: str) -> str:
    command = ["npm", "view", package, field]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    if result.returncode != 0:
        raise KeyturnError(
            f"Cannot read {package} from the npm registry ({' '.join(command)} exited "
            f"{result.returncode}): {result.stderr.strip()[-300:]}",
            "The npm registry must be reachable to install n8n.",
        )
    return result.stdout.strip()


def cache_dir(version: str = N8N_VERSION) -> Path:
    """Where the n8n of `version` lives: `$KEYTURN_N8N_CACHE` (the pinned version only), else
    ~/.cache/keyturn/n8n-VERSION."""
    explicit = os.environ.get("KEYTURN_N8N_CACHE")
    if explicit and version == N8N_VERSION:
        return Path(explicit)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "keyturn" / f"n8n-{version}"


def node_bin_dir(folder: Path) -> Path:
    return folder / "node_modules" / ".bin"


def is_installed(folder: Path) -> bool:
    return (folder / _MARKER).is_file() and (node_bin_dir(folder) / "n8n").exists()


def ensure_n8n(version: str = N8N_VERSION, *, quiet: bool = False) -> Path:
    """Install n8n `version` into its cache folder unless it is there already; return the folder.

    One process installs a version at a time (a lock beside the folder): another that wants
    the same version waits for it, then finds it installed.
    """
    folder = cache_dir(version)
    if is_installed(folder):
        return folder
    with _install_lock(folder):
        if not is_installed(folder):
            _install(version, folder, quiet)
    return folder


@contextlib.contextmanager
def _install_lock(folder: Path) -> Iterator[None]:
    folder.parent.mkdir(parents=True, exist_ok=True)
    with (folder.parent / f"{folder.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or the process dies
        yield


def install_in_background(versions: list[str]) -> list[str]:
    """Start installing each missing version in its own detached process (output in the
    cache beside it); `ensure_n8n` later waits for them. Returns the versions started."""
    started = []
    for version in versions:
        folder = cache_dir(version)
        if is_installed(folder):
            continue
        folder.parent.mkdir(parents=True, exist_ok=True)
        with (folder.parent / f"{folder.name}.out").open("wb") as out:
            subprocess.Popen(  # niced: it must not slow the tests it overlaps
                ["nice", "-n", "10", sys.executable, "-m", "keyturn.sandbox.install", version],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started.append(version)
    return started


def _install(version: str, folder: Path, quiet: bool) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, object] = {"name": "keyturn-n8n-cache", "private": True}
    overrides = _overrides(version)
    if overrides:
        manifest["overrides"] = overrides
    (folder / "package.json").write_text(json.dumps(manifest))
    log_path = folder / "install.log"
    if not quiet:
        print(
            f"Installing {node_package(version)} and n8n {version} into {folder} "
            "(once, about 7 minutes)...",
            file=sys.stderr,
        )
    npm = ["npm", "install", "--no-audit", "--no-fund", "--save-exact"]
    _run([*npm, node_package(version)], folder, log_path)
    # --ignore-scripts: a kafka dependency would download binaries from the internet.
    _run([*npm, "--ignore-scripts", f"n8n@{version}"], folder, log_path)
    # The SQLite driver must then be compiled from source.
    env = {**os.environ, "PATH": f"{node_bin_dir(folder)}{os.pathsep}{os.environ['PATH']}"}
    _run(["npm", "rebuild", "sqlite3"], folder, log_path, env)
    (folder / _MARKER).write_text(version + "\n")


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
    """`install [VERSION ...]`: install now; `install --matrix-in-background`: start the test
    matrix's installs detached (`make test` does, so they overlap the pinned install and the
    first tests)."""
    if sys.argv[1:] == ["--matrix-in-background"]:
        started = install_in_background(list(MATRIX_VERSIONS))
        print(f"installing n8n {', '.join(started)} in the background" if started else "")
        return
    for version in sys.argv[1:] or [N8N_VERSION]:
        print(ensure_n8n(version))


if __name__ == "__main__":
    main()
