"""The dashboard's HTML: Jinja2 templates (autoescaped) fed with view.py's data.

Every value a template prints goes through `_finalize`, which shows control characters and
bidirectional overrides as escapes (as the CLI does): a credential named with U+202E cannot
make its row read backwards. Nothing here ever marks data safe.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from itertools import pairwise
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from keyturn.checklist import Checklist
from keyturn.core.durations import aware
from keyturn.formats.safe_text import visible
from keyturn.serve import view as v

# label, tone (the badge's colour family; the label carries the meaning)
STATES: dict[str, tuple[str, str]] = {
    v.NEEDS_ATTENTION: ("needs attention", "bad"),
    v.RETRYING: ("retrying", "warn"),
    v.BLOCKED: ("blocked", "warn"),
    v.ROTATING: ("rotating", "info"),
    v.DUE: ("due", "info"),
    v.OK: ("ok", "ok"),
    v.NO_POLICY: ("no policy", "idle"),
}
HEALTH: dict[str, tuple[str, str]] = {
    v.FAILING: ("failing", "bad"),
    v.UNKNOWN: ("unknown", "idle"),
    v.HEALTHY: ("healthy", "ok"),
}
_STATUS_TONES = {
    "completed": "ok",
    "succeeded": "ok",
    "success": "ok",
    "ok": "ok",
    "passed": "ok",
    "rolled_back": "warn",
    "in_progress": "info",
    "started": "info",
    "failed": "bad",
    "error": "bad",
}
_URGENCY = {state: rank for rank, state in enumerate(STATES)}
_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
NO_VALUE = "\u2014"  # an em dash where there is nothing to show
# What the summary line counts, most urgent first: (label, tone) by state, or FAILING health.
_SUMMARY = {
    v.NEEDS_ATTENTION: ("need attention", "bad"),
    v.FAILING: ("failing health", "bad"),
    v.RETRYING: ("retrying", "warn"),
    v.BLOCKED: ("blocked", "warn"),
    v.ROTATING: ("rotating", "info"),
}


@dataclass(frozen=True)
class Badge:
    label: str
    tone: str
    css: str  # a class naming what it is (state-retrying, health-failing), from keyturn's words


def state_badge(state: str) -> Badge:
    label, tone = STATES.get(state, (state, "idle"))
    return Badge(label, tone, f"state-{state}" if state in STATES else "state-other")


def health_badge(health: str) -> Badge:
    label, tone = HEALTH.get(health, (health, "idle"))
    return Badge(label, tone, f"health-{health}" if health in HEALTH else "health-other")


def status_badge(status: str) -> Badge:
    return Badge(status.replace("_", " "), _STATUS_TONES.get(status, "idle"), "status")


def utc(moment: datetime) -> datetime:
    return aware(moment).astimezone(UTC)


def iso(moment: datetime) -> str:
    """For <time datetime=...>: 2025-01-02T03:04:05Z."""
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def short_time(moment: datetime) -> str:
    """What a person reads: 2025-01-02 03:04Z."""
    return utc(moment).strftime("%Y-%m-%d %H:%MZ")


def human_age(seconds: float | None) -> str:
    """The two largest units: 12d 4h, 3h 5m, 45s (a zero second unit dropped: 12d, not 12d 0h)."""
    if seconds is None:
        return NO_VALUE
    rest = max(0, int(seconds))
    for (unit, size), (small_unit, small_size) in pairwise(_UNITS):
        if rest >= size:
            big, small = rest // size, rest % size // small_size
            return f"{big}{unit} {small}{small_unit}" if small else f"{big}{unit}"
    return f"{rest}s"


def relative(moment: datetime, now: datetime) -> str:
    """`in 3d 2h` or `5m ago`, from the view's own time."""
    seconds = (utc(moment) - utc(now)).total_seconds()
    if abs(seconds) < 1:
        return "now"
    age = human_age(abs(seconds))
    return f"in {age}" if seconds > 0 else f"{age} ago"


def path_segment(text: str) -> str:
    return quote(text, safe="")


def credentials_by_urgency(rows: list[v.CredentialRow]) -> list[v.CredentialRow]:
    """Those that need a person first; the view's order otherwise."""

    def rank(row: v.CredentialRow) -> tuple[int, int]:
        return (_URGENCY.get(row.state, len(_URGENCY)), row.health != v.FAILING)

    return sorted(rows, key=rank)


def newest_first(events: list[v.TimelineEvent]) -> list[v.TimelineEvent]:
    return sorted(events, key=lambda event: utc(event.at), reverse=True)


def failures_by_cause(groups: list[v.FailureGroup]) -> list[tuple[str, int, list[v.FailureGroup]]]:
    """(cause, runs, groups), the cause with the most failed runs first."""
    causes: dict[str, list[v.FailureGroup]] = {}
    for group in groups:
        causes.setdefault(group.cause, []).append(group)
    totals = [(cause, sum(g.count for g in items), items) for cause, items in causes.items()]
    return sorted(totals, key=lambda total: -total[1])


@dataclass(frozen=True)
class Summary:
    label: str
    tone: str
    count: int


def summary(data: v.DashboardView) -> list[Summary]:
    """What needs a look, most urgent first (none: all is calm)."""
    counts = dict.fromkeys(_SUMMARY, 0)
    for row in data.credentials:
        if row.state in counts:
            counts[row.state] += 1
        if row.health == v.FAILING:
            counts[v.FAILING] += 1
    return [Summary(*_SUMMARY[key], count) for key, count in counts.items() if count]


def _finalize(value: Any) -> Any:
    if value is None:
        return NO_VALUE
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible(value)  # never Markup: autoescape still escapes the result
    return value


def stylesheet() -> bytes:
    return (resources.files("keyturn.serve") / "static" / "dashboard.css").read_bytes()


class Pages:
    """The templates, with the helpers they call."""

    def __init__(self) -> None:
        self.env = Environment(
            loader=PackageLoader("keyturn.serve", "templates"),
            autoescape=True,  # every template, whatever its name
            undefined=StrictUndefined,
            finalize=_finalize,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        css_version = hashlib.sha256(stylesheet()).hexdigest()[:12]
        self.env.globals.update(
            css_url=f"/static/dashboard.css?v={css_version}",
            state_badge=state_badge,
            health_badge=health_badge,
            status_badge=status_badge,
            iso=iso,
            short_time=short_time,
            human_age=human_age,
            relative=relative,
            path_segment=path_segment,
            NO_VALUE=NO_VALUE,
            ROTATING=v.ROTATING,
            FAILING=v.FAILING,
        )

    def render(self, name: str, **context: Any) -> str:
        return self.env.get_template(name).render(**context)

    def dashboard(
        self, data: v.DashboardView, *, flash: str | None, csrf: str | None, signed_in: bool
    ) -> str:
        return self.render(
            "dashboard.html",
            view=data,
            credentials=credentials_by_urgency(data.credentials),
            timeline=newest_first(data.timeline),
            failures=failures_by_cause(data.failures),
            summary=summary(data),
            flash=flash,
            csrf=csrf,
            signed_in=signed_in,
            title=data.instance,
        )

    def login(self, *, error: str | None) -> str:
        return self.render("login.html", error=error, title="Sign in")

    def message(self, title: str, line: str) -> str:
        return self.render("message.html", title=title, line=line)

    def checklist(self, result: Checklist) -> str:
        document = result.to_json()  # redacted: evidence and items can name what holds a secret
        name = document["credential"]["name"]
        return self.render("checklist.html", result=document, title=f"Checklist of {name}")
