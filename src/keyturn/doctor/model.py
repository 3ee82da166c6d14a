"""What doctor works with: causes, classified failures, diagnoses and the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from keyturn.n8n.models import Credential, Workflow


class Cause(StrEnum):
    AUTH_REFUSED = "auth_refused"
    RATE_LIMITED = "rate_limited"
    OAUTH_EXPIRED = "oauth_expired"
    CREDENTIAL_MISSING = "credential_missing"
    CREDENTIAL_NOT_SET = "credential_not_set"
    NETWORK = "network"
    NOT_CREDENTIAL = "not_credential"
    UNCLASSIFIED = "unclassified"


CREDENTIAL_CAUSES = frozenset(
    {Cause.AUTH_REFUSED, Cause.RATE_LIMITED, Cause.OAUTH_EXPIRED, Cause.CREDENTIAL_MISSING,
     Cause.CREDENTIAL_NOT_SET}
)  # fmt: skip


@dataclass
class FailedRun:
    """One failed execution, classified."""

    execution_id: str
    workflow_id: str | None
    started_at: datetime | None
    node_name: str | None
    node_type: str | None
    credential_id: str | None
    credential_name: str | None
    credential_type: str | None
    cause: Cause
    message: str
    http_code: str | None
    env_variables: list[str] = field(default_factory=list)


def first_failure(runs: list[FailedRun]) -> datetime | None:
    """When the earliest of `runs` started (None when none has a start time)."""
    return min((run.started_at for run in runs if run.started_at), default=None)


@dataclass
class Diagnosis:
    """What went wrong with one credential (or one $env variable), and what to run."""

    key: str
    credential_id: str | None
    credential_name: str | None
    credential_type: str | None
    cause: Cause
    failures: list[FailedRun]
    conclusion: str
    evidence: list[str]
    command: str | None

    @property
    def first_failure(self) -> datetime | None:
        return first_failure(self.failures)

    @property
    def last_failure(self) -> datetime | None:
        return max((run.started_at for run in self.failures if run.started_at), default=None)


@dataclass
class RetryOutcome:
    execution_id: str
    new_execution_id: str | None
    status: str


@dataclass
class DoctorReport:
    since: datetime
    generated_at: datetime
    failed: int
    by_cause: dict[str, int]
    diagnoses: list[Diagnosis]
    other_failures: list[FailedRun]
    retried: list[RetryOutcome] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.failed == 0


@dataclass
class Evidence:
    """What doctor knows beyond the executions themselves."""

    credentials: dict[str, Credential]
    rotations: dict[str, list[Any]]  # credential id -> rotations in the journal
    workflows: dict[str, Workflow]
    last_success: dict[str, datetime]  # workflow id -> last successful run before failures
