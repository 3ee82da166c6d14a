"""What a scan reports: findings (with a redacted preview and a fingerprint) and skipped files."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from keyturn.detect.rules import Rule, rule_by_id
from keyturn.detect.values import Hit, preview

if TYPE_CHECKING:
    import hashlib


# NamedTuples, not dataclasses: a pre-commit hook's scan of one file pays for every class it
# defines, and a dataclass costs five times as much to define (docs/benchmarks.md).
class Location(NamedTuple):
    path: str  # a file, or n8n://INSTANCE/workflows/ID for a live workflow
    line: int | None = None
    pointer: str | None = None  # JSON pointer inside the file or workflow
    workflow: str | None = None
    node: str | None = None


class Finding(NamedTuple):
    rule: Rule
    location: Location
    field: str
    detail: str
    preview: str
    fingerprint: str  # where the finding is, never what: safe in a published report
    # SHA-256 of the value, in memory only: a baseline keys it with its salt (keyed_fingerprint)
    value_digest: bytes = b""

    def __repr__(self) -> str:  # without the value's digest
        return (
            f"Finding(rule={self.rule.id}, location={self.location!r}, field={self.field!r}, "
            f"detail={self.detail!r}, preview={self.preview!r}, fingerprint={self.fingerprint!r})"
        )

    @classmethod
    def from_hit(cls, hit: Hit, location: Location) -> Finding:
        return cls(
            rule=hit.rule,
            location=location,
            field=hit.field,
            detail=hit.detail,
            preview=preview(hit.value),
            fingerprint=place_fingerprint(hit.rule.id, location, hit.field),
            value_digest=_sha256(hit.value.encode()).digest(),
        )

    @property
    def message(self) -> str:
        where = f" in node {self.location.node!r}" if self.location.node else ""
        return f"{self.rule.description} ({self.detail}{where}: {self.preview})"

    @property
    def _place(self) -> str:
        return f"{self.rule.id}|{self.location.path}|{_place(self.location, self.field)}"

    def keyed_fingerprint(self, key: bytes) -> str:
        """The place and the value, as HMAC-SHA256 under a baseline's random salt: changes when
        the secret changes, and matches no table computed in advance nor another repository's."""
        import hashlib
        import hmac  # only baselines need it

        material = f"{self._place}|".encode() + self.value_digest
        return hmac.new(key, material, hashlib.sha256).hexdigest()[:32]

    def unkeyed_fingerprint(self) -> str:
        """What baselines of format v1 recorded (SHA-256 of the place and of the value's
        SHA-256), only to match them: never written out again."""
        material = f"{self._place}|{self.value_digest.hex()}"
        return _sha256(material.encode()).hexdigest()[:32]


def place_fingerprint(rule_id: str, location: Location, field_name: str) -> str:
    """Stable across runs and machines (SARIF tracks an alert by it); derived from the rule and
    the place only, so a published report cannot confirm a guess of the secret."""
    material = f"{rule_id}|{location.path}|{_place(location, field_name)}"
    return _sha256(material.encode()).hexdigest()[:32]


def _sha256(data: bytes) -> hashlib._Hash:
    import hashlib  # here: the scan of a file without findings need not load OpenSSL's

    return hashlib.sha256(data)


def _place(location: Location, field_name: str) -> str:
    return location.pointer or f"{location.line}:{field_name}"


class Skipped(NamedTuple):
    path: str
    reason: str


class ScanResult:
    """What a scan found, skipped and read: merged from its worker processes."""

    def __init__(
        self,
        findings: list[Finding] | None = None,
        skipped: list[Skipped] | None = None,
        *,
        files_scanned: int = 0,
        bytes_scanned: int = 0,
        workflows_scanned: int = 0,
        seconds: float = 0.0,
        baselined: int = 0,
    ) -> None:
        self.findings: list[Finding] = [] if findings is None else findings
        self.skipped: list[Skipped] = [] if skipped is None else skipped
        self.files_scanned = files_scanned
        self.bytes_scanned = bytes_scanned
        self.workflows_scanned = workflows_scanned
        self.seconds = seconds
        self.baselined = baselined

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # Worker processes send their results back: findings as flat tuples of strings pickle
        # four times faster than nested NamedTuples (0.05 s instead of 0.2 s per 20,000).
        rows = [(f.rule.id, *f.location, *f[2:]) for f in self.findings]
        counts = (self.files_scanned, self.bytes_scanned, self.workflows_scanned)
        return _unpickled, (rows, self.skipped, counts, self.seconds, self.baselined)

    def merge(self, other: ScanResult) -> None:
        self.findings.extend(other.findings)
        self.skipped.extend(other.skipped)
        self.files_scanned += other.files_scanned
        self.bytes_scanned += other.bytes_scanned
        self.workflows_scanned += other.workflows_scanned


def _unpickled(
    rows: list[tuple[Any, ...]],
    skipped: list[Skipped],
    counts: tuple[int, int, int],
    seconds: float,
    baselined: int,
) -> ScanResult:
    findings = [
        Finding(rule_by_id(rule_id), Location(path, line, pointer, workflow, node), *rest)
        for rule_id, path, line, pointer, workflow, node, *rest in rows
    ]
    files, size, workflows = counts
    return ScanResult(
        findings,
        skipped,
        files_scanned=files,
        bytes_scanned=size,
        workflows_scanned=workflows,
        seconds=seconds,
        baselined=baselined,
    )
