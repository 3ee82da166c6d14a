"""What the dashboard shows: plain data, built by the scheduler's state (state.py) and rendered
by web.py. Nothing here is ever a secret: names, ids, ages, states and redacted messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# A credential's health, as the monitor last saw it.
HEALTHY = "healthy"
FAILING = "failing"
UNKNOWN = "unknown"  # not checked yet, or nothing can check it

# Where a credential stands with its rotation policy.
OK = "ok"  # not due
DUE = "due"  # due, waiting for its window (or its jittered start)
BLOCKED = "blocked"  # due, but cannot be rotated unattended (the reason is in `detail`)
RETRYING = "retrying"  # a rotation failed (rolled back); retried at `next_attempt`
NEEDS_ATTENTION = "needs_attention"  # failed `max_attempts` times: no more retries
ROTATING = "rotating"  # a rotation is in flight
NO_POLICY = "no_policy"  # no max_age or schedule: only its health and reminders


@dataclass(frozen=True)
class CredentialRow:
    credential_id: str
    name: str
    type: str
    age_seconds: float | None  # since its secret last changed (keyturn's rotation or n8n's)
    last_rotated: datetime | None
    policy: str  # human text: "max_age 90d", "schedule 0 3 * * 1 (window 2h)", "remind after 80d"
    next_rotation: datetime | None  # when it will next be rotated, if keyturn rotates it
    health: str  # HEALTHY, FAILING or UNKNOWN
    health_detail: str  # why (redacted): "n8n credential test: success", "3 runs refused the key"
    health_checked_at: datetime | None
    state: str  # OK, DUE, BLOCKED, RETRYING, NEEDS_ATTENTION, ROTATING or NO_POLICY
    detail: str  # why, for BLOCKED, RETRYING and NEEDS_ATTENTION (redacted)
    next_attempt: datetime | None  # for RETRYING
    last_rotation_status: str | None  # completed, rolled_back, failed... (the journal's words)


@dataclass(frozen=True)
class InFlight:
    rotation_id: str
    credential_id: str
    credential_name: str
    step: str
    started_at: datetime
    owner: str | None  # host and process of the lease, if alive


@dataclass(frozen=True)
class TimelineEvent:
    at: datetime
    credential_id: str
    credential_name: str
    step: str
    outcome: str
    detail: str  # redacted


@dataclass(frozen=True)
class FailureGroup:
    """Failed executions of one credential and cause, from doctor's classification."""

    cause: str  # doctor's Cause value: auth_refused, rate_limited, oauth_expired...
    credential_id: str | None
    credential_name: str | None
    count: int
    last_at: datetime | None
    command: str | None  # what to run about it, if anything


@dataclass(frozen=True)
class DashboardView:
    instance: str  # the n8n instance's name
    generated_at: datetime
    leader: bool  # whether this replica runs the scheduler
    leader_holder: str | None  # which replica does (host and process), if known
    last_evaluation: datetime | None
    credentials: list[CredentialRow] = field(default_factory=list)
    in_flight: list[InFlight] = field(default_factory=list)
    timeline: list[TimelineEvent] = field(default_factory=list)
    failures: list[FailureGroup] = field(default_factory=list)
