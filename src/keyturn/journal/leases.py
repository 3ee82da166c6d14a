"""Leases on credentials: one rotation per credential of one n8n instance, whoever runs it.

A rotation holds its credential's lock row as a lease: the owner (host, process, when it
started) and a heartbeat it refreshes while it works. A lease whose heartbeat is older than
LEASE_SECONDS belongs to a process that crashed or was killed; `keyturn resume` or `rollback`
may then claim it. A live lease is never taken: a second rotation refuses at once, naming the
owner. The lock is keyed by the instance's identity (its normalised URL), so two names for
one n8n (an environment variable and a keyturn.toml instance) share one lock.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Engine, func, update
from sqlalchemy.exc import SQLAlchemyError

from keyturn.journal.models import CredentialLock

log = logging.getLogger(__name__)

LEASE_SECONDS = 30.0  # a heartbeat older than this: the owner is gone
HEARTBEAT_SECONDS = 5.0
_STARTED = datetime.now(UTC)


def _process_space() -> str:
    """This boot of this machine and this pid namespace: two hosts (or containers) may share a
    hostname, never both of these. Empty where /proc does not tell."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return ""
    return f"{boot[:8]}/{namespace}"


_SPACE = _process_space()
# Who holds a lease: host and pid, where that pid lives, and when the process started.
PROCESS_OWNER = (
    f"{socket.gethostname()} pid {os.getpid()} space {_SPACE or '?'} "
    f"started {_STARTED:%Y-%m-%dT%H:%M:%SZ}"
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def instance_identity(url: str) -> str:
    """The identity of an n8n instance: its base URL with the scheme and host in lower case and
    a default port dropped (`HTTPS://N8N.example.com:443/` -> `https://n8n.example.com`)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # IPv6
    port = parts.port
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), "", ""))


def clock(engine: Engine) -> Any:
    """What a heartbeat is stamped with: the database's clock where several hosts share the
    journal (PostgreSQL), so no two machines' clocks are ever compared; else this machine's."""
    return func.now() if engine.dialect.name == "postgresql" else datetime.now(UTC)


@dataclass(frozen=True)
class Lease:
    rotation_id: str
    owner: str | None
    heartbeat_at: datetime | None
    seen_at: datetime | None = None  # the database's time when the lease was read

    def age(self, now: datetime | None = None) -> float | None:
        """Seconds since the last heartbeat (None: keyturn 0.1 kept no heartbeat)."""
        if self.heartbeat_at is None:
            return None
        beat = self.heartbeat_at
        beat = beat if beat.tzinfo else beat.replace(tzinfo=UTC)
        reference = now or self.seen_at or datetime.now(UTC)
        reference = reference if reference.tzinfo else reference.replace(tzinfo=UTC)
        return (reference - beat).total_seconds()

    def alive(self, now: datetime | None = None) -> bool:
        """A fresh heartbeat from a process that still runs (checked when it runs here)."""
        age = self.age(now)
        return age is not None and age < LEASE_SECONDS and not self._owner_gone_here()

    def _owner_gone_here(self) -> bool:
        """The owner ran in this machine's boot and pid namespace, and its process is gone
        (a SIGKILL leaves a fresh heartbeat). Anywhere else, only the heartbeat tells."""
        host, _, rest = (self.owner or "").partition(" pid ")
        fields = rest.split(" ")
        pid = fields[0]
        space = fields[2] if len(fields) > 2 and fields[1] == "space" else ""
        if host != socket.gethostname() or not pid.isdigit() or not _SPACE or space != _SPACE:
            return False
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False  # it runs, as another user
        return False

    @property
    def mine(self) -> bool:
        return self.owner == PROCESS_OWNER

    def describe(self, now: datetime | None = None) -> str:
        age = self.age(now)
        owner = self.owner or "an older keyturn"
        if age is None:
            return f"{owner} (no heartbeat)"
        state = "alive" if self.alive(now) else "stale: crashed or killed?"
        return f"{owner} (last heartbeat {age:.0f}s ago, {state})"

    @classmethod
    def of(cls, lock: CredentialLock, seen_at: datetime | None = None) -> Lease:
        return cls(lock.rotation_id, lock.owner, lock.heartbeat_at, seen_at)


def beat(engine: Engine, rotation_id: str) -> bool:
    """Refresh this process's lease on a rotation; False when it is no longer ours."""
    with engine.begin() as connection:
        result = connection.execute(
            update(CredentialLock)
            .where(CredentialLock.rotation_id == rotation_id)
            .where(CredentialLock.owner == PROCESS_OWNER)
            .values(heartbeat_at=clock(engine))
        )
    return bool(result.rowcount)


@contextmanager
def kept_alive(engine: Engine, rotation_id: str) -> Iterator[None]:
    """Keep the lease fresh from a background thread while the block runs (a grace period,
    a slow provider), so no other process takes it for a crashed one."""
    stop = threading.Event()

    def keep() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            try:
                if not beat(engine, rotation_id):
                    log.warning("rotation %s: this process no longer holds its lease", rotation_id)
            except SQLAlchemyError as exc:  # a locked or dropped database: try again next beat
                log.warning("rotation %s: heartbeat failed (%s)", rotation_id, type(exc).__name__)

    thread = threading.Thread(target=keep, name=f"keyturn-lease-{rotation_id[:8]}", daemon=True)
    beat(engine, rotation_id)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=HEARTBEAT_SECONDS)
