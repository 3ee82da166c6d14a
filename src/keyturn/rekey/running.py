"""Is n8n still using its database? A rekey under a running n8n (main or worker) would mix keys.

Three kinds of evidence, each named in the refusal:
- a process on this machine holding the SQLite file open (read from /proc, by inode: a
  process in a container names the file by its own path);
- `--n8n-url` answering;
- the database itself: other sessions on the PostgreSQL database (n8n's main, workers and
  webhook processes each keep a pool), and executions in the states `running` or `new`.
The last two can also be other tools (a backup, psql): `--assume-stopped` accepts them, never
the first two.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keyturn.core.errors import ExitCode, KeyturnError
from keyturn.rekey.database import N8nDatabase


class N8nRunning(KeyturnError):
    exit_code = ExitCode.BUSY


@dataclass(frozen=True)
class Evidence:
    what: str
    certain: bool  # never overridden by --assume-stopped


def processes_holding(path: Path) -> list[str]:
    """'pid N (command)' for each process holding `path` (or its -wal/-journal) open. Files are
    compared by device and inode: a process in a container sees its own path for them."""
    wanted = set()
    for suffix in ("", "-wal", "-journal", "-shm"):
        with contextlib.suppress(OSError):
            info = os.stat(f"{path}{suffix}")
            wanted.add((info.st_dev, info.st_ino))
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        if _holds(entry, wanted):
            found.append(f"pid {entry.name} ({_command(entry)})")
    return found


def _holds(process: Path, wanted: set[tuple[int, int]]) -> bool:
    try:
        descriptors = list((process / "fd").iterdir())
    except OSError:  # gone, or another user's process
        return False
    for descriptor in descriptors:
        with contextlib.suppress(OSError):
            info = os.stat(descriptor)
            if (info.st_dev, info.st_ino) in wanted:
                return True
    return False


def _command(process: Path) -> str:
    try:
        raw = (process / "cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()[:80]


def n8n_answer(url: str) -> Evidence | None:
    """n8n's URL answering (certain), or something there that may not be n8n (a proxy's 5xx,
    a TLS failure: not certain); None when nothing answers."""
    target = f"{url.rstrip('/')}/healthz"
    try:
        status = httpx.get(target, timeout=3).status_code
    except (httpx.ConnectError, httpx.TimeoutException) as exc:
        if "SSL" in str(exc) or "certificate" in str(exc).lower():
            return Evidence(f"something answers on {url} (its TLS could not be checked)", False)
        return None
    except httpx.HTTPError:
        return Evidence(f"something answers on {url}", False)
    if status >= 500:
        return Evidence(f"{url} answers {status} (a proxy in front of a stopped n8n?)", False)
    return Evidence(f"n8n answers on {url}", True)


def postgres_sessions(connection: Connection) -> list[str]:
    rows = connection.execute(
        sa.text(
            "SELECT pid, usename, application_name, client_addr FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    )
    return [
        f"pid {row.pid} ({row.usename}@{row.client_addr or 'local socket'}"
        + (f", {row.application_name}" if row.application_name else "")
        + ")"
        for row in rows
    ]


def running_executions(connection: Connection, db: N8nDatabase) -> tuple[int, Any]:
    """(how many, the latest start) of executions n8n holds as running or new. n8n finishes
    or stops them when it shuts down cleanly, and marks a crash's leftovers at its next start:
    rows in these states mean n8n runs, or died without a clean stop."""
    table = db.table(connection, "execution_entity")
    if table is None or "status" not in table.c:
        return 0, None
    query = sa.select(sa.func.count(), sa.func.max(table.c.createdAt)).where(
        table.c.status.in_(("running", "new"))
    )
    count, latest = connection.execute(query).one()
    return int(count), latest


def outside_evidence(db: N8nDatabase, n8n_url: str | None) -> list[Evidence]:
    """What this machine shows, before keyturn opens the database."""
    found: list[Evidence] = []
    if db.target.sqlite_path is not None:
        path = db.target.sqlite_path
        found += [Evidence(f"{p} holds {path} open", True) for p in processes_holding(path)]
    answer = n8n_answer(n8n_url) if n8n_url else None
    if answer is not None:
        found.append(answer)
    return found


def database_evidence(db: N8nDatabase, connection: Connection) -> list[Evidence]:
    """What the database shows: other sessions, recent executions."""
    found: list[Evidence] = []
    if connection.dialect.name == "postgresql":
        sessions = postgres_sessions(connection)
        if sessions:
            listed = ", ".join(sessions[:5])
            found.append(Evidence(f"other sessions on the database: {listed}", False))
    count, latest = running_executions(connection, db)
    if count:
        what = f"{count} execution(s) are running or queued (the latest from {latest})"
        found.append(Evidence(what, False))
    return found


def refuse_if_running(found: list[Evidence], assume_stopped: bool) -> None:
    blocking = [item for item in found if item.certain or not assume_stopped]
    if not blocking:
        return
    raise N8nRunning(
        "n8n looks like it is still using this database: "
        + "; ".join(item.what for item in blocking)
        + ".",
        "Stop n8n and every worker and webhook process first (docker compose stop n8n "
        "n8n-worker; kubectl scale deployment n8n --replicas=0), then run keyturn rekey again"
        + (
            "."
            if all(item.certain for item in blocking)
            else "; --assume-stopped accepts database evidence that is not n8n's."
        ),
    )
