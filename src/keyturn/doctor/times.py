"""How doctor writes moments and spans in its evidence and commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from keyturn.core.durations import aware


def maybe_aware(moment: datetime | None) -> datetime | None:
    return aware(moment) if moment is not None else None


def after(moment: datetime | None, reference: datetime) -> bool:
    return moment is not None and moment > reference


def fmt(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "?"


def ago(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds}s"
    return f"{seconds // 60}m" if seconds < 7200 else f"{seconds // 3600}h"


def since_hint(first: datetime | None) -> str:
    """A `--since` that reaches back to `first`, with a few minutes to spare."""
    if first is None:
        return "1h"
    minutes = int((datetime.now(UTC) - first).total_seconds() // 60) + 5
    return f"{minutes}m" if minutes < 120 else f"{minutes // 60 + 1}h"
