"""Leases: the instance's identity, and telling a live owner from a crashed one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from keyturn.journal.leases import LEASE_SECONDS, PROCESS_OWNER, Lease, instance_identity

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "url",
    [
        "https://n8n.example.com",
        "HTTPS://N8N.Example.COM:443/",
        "https://n8n.example.com:443",
    ],
)
def test_one_instance_whatever_its_url_looks_like(url: str) -> None:
    assert instance_identity(url) == "https://n8n.example.com"


def test_other_ports_and_paths_are_other_instances() -> None:
    assert instance_identity("http://127.0.0.1:5678") != instance_identity("http://127.0.0.1:5679")
    assert instance_identity("https://x.example/n8n/") == "https://x.example/n8n"


def dead_pid() -> int:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)  # fmt: skip
    return int(finished.stdout)


def test_a_fresh_lease_of_a_dead_process_here_is_not_alive() -> None:
    owner = PROCESS_OWNER.replace(f" pid {os.getpid()} ", f" pid {dead_pid()} ")
    assert not Lease("r", owner, NOW, NOW).alive()
    assert Lease("r", PROCESS_OWNER, NOW, NOW).alive()  # this process runs


def test_another_machine_with_the_same_hostname_is_trusted_by_its_heartbeat() -> None:
    """Two hosts (or containers) named alike: a pid missing here says nothing about theirs."""
    owner = f"{socket.gethostname()} pid {dead_pid()} space 00000000/1 started x"
    assert Lease("r", owner, NOW, NOW).alive()
    assert not Lease("r", owner, NOW, NOW + timedelta(seconds=LEASE_SECONDS + 1)).alive()


def test_age_is_judged_by_the_time_the_database_gave() -> None:
    lease = Lease("r", "elsewhere pid 1 space x/1 started y", NOW, NOW + timedelta(seconds=5))
    assert lease.age() == 5 and lease.alive()  # this host's clock plays no part
