"""Leases on credentials: one rotation per credential of one n8n instance, whoever runs it.

A rotation holds its credential's lock row as a lease: the owner (host, process, when it
started) and a heartbeat it refreshes while it works. A lease whose heartbeat is older than
LEASE_SECONDS belongs to a process that crashed or was killed; `keyturn resume` or `rollback`
may then claim it. A live lease is never taken: a second rotation refuses at once, naming the
owner. The lock is keyed by the instance's identity (its normalised URL), so two names for
one n8n (an environment variable and a keyturn.toml instance) share one lock.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Engine, update

from keyturn.journal.models import CredentialLock

LEASE_SECONDS = 30.0  # a heartbeat older than this: the owner is gone
HEARTBEAT_SECONDS = 5.0
_STARTED = datetime.now(UTC)
# Who holds a lease: host and pid, and when the process started (a pid is reused in time).
PROCESS_OWNER = f"{socket.gethostname()} pid {os.getpid()} started {_STARTED:%Y-%m-%dT%H:%M:%SZ}"
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


@dataclass(frozen=True)
class Lease:
    rotation_id: str
    owner: str | None
    heartbeat_at: datetime | None

    def age(self, now: datetime | None = None) -> float | None:
        """Seconds since the last heartbeat (None: keyturn 0.1 kept no heartbeat)."""
        if self.heartbeat_at is None:
            return None
        beat = self.heartbeat_at
        beat = beat if beat.tzinfo else beat.replace(tzinfo=UTC)
        return ((now or datetime.now(UTC)) - beat).total_seconds()

    def alive(self, now: datetime | None = None) -> bool:
        """A fresh heartbeat from a process that still runs (checked when it runs here)."""
        age = self.age(now)
        return age is not None and age < LEASE_SECONDS and not self._owner_gone_here()

    def _owner_gone_here(self) -> bool:
        """The owner ran on this host and its process is gone (SIGKILL leaves a fresh beat)."""
        host, _, rest = (self.owner or "").partition(" pid ")
        pid = rest.split(" ", 1)[0]
        if host != socket.gethostname() or not pid.isdigit():
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
    def of(cls, lock: CredentialLock) -> Lease:
        return cls(lock.rotation_id, lock.owner, lock.heartbeat_at)


def beat(engine: Engine, rotation_id: str) -> bool:
    """Refresh this process's lease on a rotation; False when it is no longer ours."""
    with engine.begin() as connection:
        result = connection.execute(
            update(CredentialLock)
            .where(CredentialLock.rotation_id == rotation_id)
            .where(CredentialLock.owner == PROCESS_OWNER)
            .values(heartbeat_at=datetime.now(UTC))
        )
    return bool(result.rowcount)


@contextmanager
def kept_alive(engine: Engine, rotation_id: str) -> Iterator[None]:
    """Keep the lease fresh from a background thread while the block runs (a grace period,
    a slow provider), so no other process takes it for a crashed one."""
    stop = threading.Event()

    def keep() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            beat(engine, rotation_id)

    thread = threading.Thread(target=keep, name=f"keyturn-lease-{rotation_id[:8]}", daemon=True)
    beat(engine, rotation_id)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=HEARTBEAT_SECONDS)
