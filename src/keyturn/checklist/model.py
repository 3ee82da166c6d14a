"""A checklist: one box per item of the production checklist, each `ok` or not, with its
evidence in one line (and the places it names, one per line)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from keyturn.core.redact import redact

BOXES = (
    "proven",
    "no_cache",
    "reexecuted",
    "no_hardcoded",
    "old_secret_gone",
    "stores_updated",
    "quiet",
)


@dataclass(frozen=True)
class Box:
    id: str
    ok: bool
    evidence: str
    items: tuple[str, ...] = ()  # what the evidence names: workflows, nodes, files, executions

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ok": self.ok,
            "evidence": redact(self.evidence),
            "items": [redact(item) for item in self.items],
        }


@dataclass
class Checklist:
    credential: dict[str, Any]
    rotation: dict[str, Any]
    since: str
    checks: list[Box] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(box.ok for box in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {
            "credential": self.credential,
            "rotation": self.rotation,
            "since": self.since,
            "ok": self.ok,
            "checks": [box.to_json() for box in self.checks],
        }
