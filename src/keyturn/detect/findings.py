"""What a scan reports: findings (with a redacted preview and a fingerprint) and skipped files."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from keyturn.detect.rules import Rule
from keyturn.detect.values import Hit, preview


@dataclass(frozen=True)
class Location:
    path: str  # a file, or n8n://INSTANCE/workflows/ID for a live workflow
    line: int | None = None
    pointer: str | None = None  # JSON pointer inside the file or workflow
    workflow: str | None = None
    node: str | None = None


@dataclass(frozen=True)
class Finding:
    rule: Rule
    location: Location
    field: str
    detail: str
    preview: str
    fingerprint: str

    @classmethod
    def from_hit(cls, hit: Hit, location: Location) -> Finding:
        return cls(
            rule=hit.rule,
            location=location,
            field=hit.field,
            detail=hit.detail,
            preview=preview(hit.value),
            fingerprint=fingerprint(hit.rule.id, location, hit.field, hit.value),
        )

    @property
    def message(self) -> str:
        where = f" in node {self.location.node!r}" if self.location.node else ""
        return f"{self.rule.description} ({self.detail}{where}: {self.preview})"


def fingerprint(rule_id: str, location: Location, field_name: str, value: str) -> str:
    """Stable across runs and machines; changes when the secret or its place changes."""
    value_hash = hashlib.sha256(value.encode()).hexdigest()
    place = location.pointer or f"{location.line}:{field_name}"
    material = f"{rule_id}|{location.path}|{place}|{value_hash}"
    return hashlib.sha256(material.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


@dataclass
class ScanResult:
    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    files_scanned: int = 0
    bytes_scanned: int = 0
    workflows_scanned: int = 0
    seconds: float = 0.0
    baselined: int = 0

    def merge(self, other: ScanResult) -> None:
        self.findings.extend(other.findings)
        self.skipped.extend(other.skipped)
        self.files_scanned += other.files_scanned
        self.bytes_scanned += other.bytes_scanned
        self.workflows_scanned += other.workflows_scanned
