"""Durations as keyturn writes them everywhere: `0s`, `90s`, `5m`, `1h`, `1h30m`, `2d`."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from keyturn.core.errors import ConfigError

_PART = re.compile(r"(\d+)([smhd])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str, setting: str = "duration") -> float:
    """Seconds in `text`; a ConfigError naming `setting` when it is not a duration."""
    cleaned = text.strip().lower()
    if not cleaned or _PART.sub("", cleaned):
        raise ConfigError(
            f"{setting} {text!r} is not a duration.", "Write it like 0s, 90s, 5m, 1h or 1h30m."
        )
    return float(sum(int(n) * _SECONDS[unit] for n, unit in _PART.findall(cleaned)))


def format_duration(seconds: float) -> str:
    """Seconds as keyturn writes a duration (90 -> 1m30s)."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def aware(moment: datetime) -> datetime:
    """`moment` with UTC as its timezone when it has none, so that it compares with aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
