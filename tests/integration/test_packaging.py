"""The package as users get it: `python -m build`, then the wheel in a fresh virtualenv.

The wheel leaves the sandbox out and installs with its real dependencies (from the pip cache or
PyPI); the sdist holds the whole checkout. Slow (15 to 25 s): the build runs in an isolated
environment and the fresh virtualenv installs keyturn's dependencies.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

# n8n: it needs the package registry, so it stays out of the fast subset (-m 'not n8n').
pytestmark = [pytest.mark.slow, pytest.mark.n8n]

ROOT = Path(__file__).resolve().parents[2]
VERSION = "0.1.0"
# Not copied into the build's source tree: what no sdist should see anyway.
NEVER_COPIED = {"__pycache__", "node_modules", ".git", ".venv", "build", "dist"}


@dataclass(frozen=True)
class Dists:
    wheel: Path
    sdist: Path


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str


def _ignore(folder: str, names: list[str]) -> Iterable[str]:
    at_root = Path(folder) == ROOT
    return [
        name
        for name in names
        if name in NEVER_COPIED
        or name.endswith((".egg-info", ".pyc"))
        or (at_root and name.startswith(".") and name not in {".ci", ".pre-commit-hooks.yaml"})
    ]


def _env() -> dict[str, str]:
    """The environment without this test run's Python or keyturn settings."""
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    return {
        key: value
        for key, value in os.environ.items()
        if key not in drop and not key.startswith("KEYTURN_")
    }


def _run(
    args: list[str | Path],
    cwd: Path,
    *,
    check: bool = True,
    extra_env: dict[str, str] | None = None,
) -> Run:
    done = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env={**_env(), **(extra_env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    result = Run(done.returncode, done.stdout, done.stderr)
    if check and done.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, args))} exited {done.returncode}\n"
            f"--- stdout ---\n{done.stdout[-3000:]}\n--- stderr ---\n{done.stderr[-3000:]}"
        )
    return result


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    """`python -m build` on a copy of the checkout (it writes no egg-info into the real one)."""
    work = tmp_path_factory.mktemp("packaging")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=_ignore)
    _run([sys.executable, "-m", "build", "--outdir", work / "dist", source], cwd=work)
    wheels = sorted((work / "dist").glob("*.whl"))
    sdists = sorted((work / "dist").glob("*.tar.gz"))
    assert [path.name for path in wheels] == [f"keyturn-{VERSION}-py3-none-any.whl"]
    assert [path.name for path in sdists] == [f"keyturn-{VERSION}.tar.gz"]
    return Dists(wheel=wheels[0], sdist=sdists[0])


@pytest.fixture(scope="module")
def keyturn_bin(dists: Dists, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `keyturn` of the wheel installed, with its dependencies, into a fresh virtualenv."""
    venv = tmp_path_factory.mktemp("wheel-venv")
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=venv)
    python = venv / "bin" / "python"
    # This run's pip installs into the new environment (no ensurepip there: faster).
    pip: list[str | Path] = [sys.executable, "-m", "pip", "--python", python, "install", "--quiet"]
    _run([*pip, dists.wheel], cwd=venv)
    return venv / "bin" / "keyturn"


def test_wheel_has_no_sandbox_and_declares_extras(dists: Dists) -> None:
    with zipfile.ZipFile(dists.wheel) as wheel:
        names = wheel.namelist()
        metadata = wheel.read(f"keyturn-{VERSION}.dist-info/METADATA").decode()
    assert not [name for name in names if name.startswith("keyturn/sandbox/")]
    assert "keyturn/cli/sandbox.py" in names  # the command that explains where the sandbox is
    for data in ("keyturn/py.typed", "keyturn/data/n8n_scopes.json"):
        assert data in names
    assert f"keyturn-{VERSION}.dist-info/licenses/LICENSE" in names
    assert not [name for name in names if name.endswith(".pyc") or "/tests/" in name]

    assert "License-Expression: MIT" in metadata.splitlines()
    requires = [
        line.removeprefix("Requires-Dist: ")
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist: ")
    ]
    unconditional = [req for req in requires if "extra ==" not in req]
    assert not [req for req in unconditional if req.startswith(("boto3", "hvac", "psycopg"))]
    extras = {
        line.removeprefix("Provides-Extra: ")
        for line in metadata.splitlines()
        if line.startswith("Provides-Extra: ")
    }
    assert {"aws", "vault", "postgres", "all", "dev"} <= extras


def test_sdist_has_the_whole_checkout(dists: Dists) -> None:
    prefix = f"keyturn-{VERSION}/"
    with tarfile.open(dists.sdist) as sdist:
        names = {name.removeprefix(prefix) for name in sdist.getnames()}
    for path in (
        "LICENSE",
        "CHANGELOG.md",
        "README.md",
        "Makefile",
        "pyproject.toml",
        "src/keyturn/sandbox/run.py",
        "src/keyturn/sandbox/install.py",
        "src/keyturn/cli/sandbox.py",
        "tests/conftest.py",
        "tests/integration/test_packaging.py",
        "docs/install.md",
        ".ci/run",
    ):
        assert path in names, f"{path} is missing from the sdist"
    assert not [name for name in names if name.endswith(".pyc") or "__pycache__" in name]


def test_wheel_installs_and_runs(keyturn_bin: Path, tmp_path: Path) -> None:
    version = _run([keyturn_bin, "--version"], cwd=tmp_path)
    assert version.stdout.strip() == f"keyturn {VERSION}"

    help_text = _run([keyturn_bin, "--help"], cwd=tmp_path).stdout
    for word in ("inventory", "rotate", "scan", "doctor", "sandbox", "--install-completion"):
        assert word in help_text

    leaky = tmp_path / "app.env"
    token = "ghp_" + "aBcDeFgHiJkLmNoPqRsTuVwXyZ" + "0123456789"
    leaky.write_text(f"LOG_LEVEL=info\nGITHUB_TOKEN={token}\n")
    scan = _run([keyturn_bin, "scan", leaky], cwd=tmp_path, check=False)
    assert scan.code == 1, scan.stderr  # findings
    assert "known-token-format" in scan.stdout and "app.env:2" in scan.stdout
    assert token not in scan.stdout + scan.stderr


def test_wheel_opens_a_new_journal(keyturn_bin: Path, tmp_path: Path) -> None:
    """`history` creates the SQLite journal (its migrations ship in the wheel); no n8n call."""
    state = tmp_path / "state"
    env = {
        "KEYTURN_STATE_DIR": str(state),
        "KEYTURN_N8N_URL": "http://127.0.0.1:9",
        "KEYTURN_N8N_API_KEY": "unused",
    }
    result = _run([keyturn_bin, "history"], cwd=tmp_path, extra_env=env)
    assert "No rotation recorded." in result.stdout
    assert (state / "keyturn.db").is_file()


def test_sandbox_from_the_wheel_is_one_clear_line(keyturn_bin: Path, tmp_path: Path) -> None:
    result = _run([keyturn_bin, "sandbox"], cwd=tmp_path, check=False)
    assert result.code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("keyturn: error: The sandbox is not part of this installation")
    assert "make demo" in lines[0]
    assert result.stdout == ""


def test_missing_extras_are_named(keyturn_bin: Path, tmp_path: Path) -> None:
    """boto3 and hvac are extras now: without them, keyturn names the extra to install."""
    script = (
        "from keyturn.core.config import FileConfig\n"
        "from keyturn.core.errors import MissingExtra\n"
        "from keyturn.locations.registry import build_store\n"
        "from keyturn.providers.registry import build_provider\n"
        "calls = [\n"
        "    lambda: build_provider('iam', FileConfig(providers={'iam': {'type': 'aws_iam'}})),\n"
        "    lambda: build_store('vault:secret/app#key'),\n"
        "]\n"
        "for call in calls:\n"
        "    try:\n"
        "        call()\n"
        "    except MissingExtra as exc:\n"
        "        print(exc)\n"
    )
    python = keyturn_bin.with_name("python")
    out = _run([python, "-c", script], cwd=tmp_path).stdout.splitlines()
    assert len(out) == 2, out
    assert "'boto3'" in out[0] and "pip install 'keyturn[aws]'" in out[0]
    assert "'hvac'" in out[1] and "pip install 'keyturn[vault]'" in out[1]
