"""When a credential is rotated: its policy from `[rotation."..."]`, as pure functions of time.

- `max_age`: due when the secret is older (its age counts from the last rotation keyturn
  completed, else n8n's updatedAt: rotation/schedule.py).
- `schedule` (cron, UTC) and `window`: each occurrence opens a window of that length. Alone,
  the schedule makes the credential due at each occurrence after its last rotation (AWS
  Secrets Manager's and Vault's model); with `max_age`, it only says when a due credential may
  be rotated. Either way a rotation starts only inside a window.
- `blackout`: never inside one ("0 18 * * 5 for 62h", or "START/END" in ISO 8601).
- `jitter`: each credential starts at its own offset (from a hash of its id) into the window,
  or after its due time, so many credentials do not rotate in the same second.

Everything takes `now`: tests inject the clock, and a clock that jumps only moves `now`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from croniter import CroniterError, croniter

from keyturn.core.config import RotationProfile
from keyturn.core.durations import format_duration, parse_duration
from keyturn.core.errors import ConfigError

DEFAULT_WINDOW = 3600.0
DEFAULT_JITTER = 600.0
MAX_BACKOFF = 6 * 3600.0
_SEARCH_STEPS = 2000  # windows and blackouts looked through before giving up (years of them)
MAX_DURATION = 100 * 365 * 86400.0


@dataclass(frozen=True)
class Blackout:
    """A period when nothing is rotated: every occurrence of a cron expression for a duration,
    or one interval."""

    schedule: str | None
    duration: float
    start: datetime | None = None
    end: datetime | None = None

    def end_of_cover(self, moment: datetime) -> datetime | None:
        """When the blackout covering `moment` ends, or None if it does not cover it."""
        if self.schedule is None:
            assert self.start is not None and self.end is not None
            return self.end if self.start <= moment < self.end else None
        began = _previous(self.schedule, moment)
        finished = began + timedelta(seconds=self.duration)
        return finished if moment < finished else None

    @classmethod
    def parse(cls, text: str, setting: str) -> Blackout:
        if " for " in text:
            schedule, _, duration = text.rpartition(" for ")
            _check_cron(schedule.strip(), setting)
            return cls(schedule.strip(), _seconds(duration, setting))
        start_text, separator, end_text = text.partition("/")
        start, end = _instant(start_text, setting), _instant(end_text, setting)
        if not separator or end <= start:
            raise ConfigError(
                f"{setting} {text!r} is not a blackout period.",
                'Write "CRON for DURATION" ("0 18 * * 5 for 62h") or "START/END" '
                '("2026-12-24T00:00Z/2026-12-27T00:00Z"), END after START.',
            )
        return cls(None, (end - start).total_seconds(), start, end)


@dataclass(frozen=True)
class Policy:
    max_age: float | None
    schedule: str | None
    window: float
    blackouts: tuple[Blackout, ...]
    jitter: float
    remind_after: float | None
    max_attempts: int
    retry_backoff: float
    health_interval: float | None

    @property
    def rotates(self) -> bool:
        """Whether keyturn rotates it unattended (else only its health and a reminder)."""
        return self.max_age is not None or self.schedule is not None

    @classmethod
    def of(cls, profile: RotationProfile, where: str) -> Policy:
        """The policy of a `[rotation."..."]` section; a ConfigError naming the bad setting."""

        def seconds(value: str | None, name: str) -> float | None:
            return None if value is None else _seconds(value, f"{where}.{name}")

        if profile.schedule is not None:
            _check_cron(profile.schedule, f"{where}.schedule")
        elif profile.window is not None:
            raise ConfigError(
                f"{where}.window needs a schedule: a window opens at each of its occurrences.",
                'Add schedule = "0 3 * * *" (cron, UTC), or drop window.',
            )
        window = seconds(profile.window, "window") or DEFAULT_WINDOW
        jitter = seconds(profile.jitter, "jitter")
        return cls(
            max_age=seconds(profile.max_age, "max_age"),
            schedule=profile.schedule,
            window=window,
            blackouts=tuple(Blackout.parse(b, f"{where}.blackout") for b in profile.blackout),
            jitter=DEFAULT_JITTER if jitter is None else jitter,
            remind_after=seconds(profile.remind_after, "remind_after"),
            max_attempts=profile.max_attempts,
            retry_backoff=seconds(profile.retry_backoff, "retry_backoff") or 0.0,
            health_interval=seconds(profile.health_interval, "health_interval"),
        )

    def describe(self) -> str:
        parts = []
        if self.max_age is not None:
            parts.append(f"max_age {format_duration(self.max_age)}")
        if self.schedule is not None:
            parts.append(f"schedule {self.schedule} (window {format_duration(self.window)})")
        if self.blackouts:
            parts.append(f"{len(self.blackouts)} blackout(s)")
        if self.remind_after is not None:
            parts.append(f"remind after {format_duration(self.remind_after)}")
        return "; ".join(parts) or "none"

    # -- when ------------------------------------------------------------------------------

    def due_at(self, last_rotated: datetime | None, now: datetime) -> datetime | None:
        """When the credential is (or was) due; None if keyturn does not rotate it. Never
        rotated and of unknown age: due now."""
        if not self.rotates:
            return None
        if last_rotated is None:
            return now
        if self.max_age is not None:
            return last_rotated + timedelta(seconds=self.max_age)
        assert self.schedule is not None
        return _next(self.schedule, last_rotated)

    def next_start(self, key: str, due: datetime, now: datetime) -> datetime | None:
        """The first moment, not before `due` nor `now`, when a rotation of the credential
        `key` may start: inside a window (with a schedule), past its jitter, outside every
        blackout. None if none within years (a blackout that never ends)."""
        offset = timedelta(seconds=self._offset(key))
        moment = max(due, now)
        if self.schedule is None:
            moment = max(moment, due + offset)
        for _ in range(_SEARCH_STEPS):
            if self.schedule is not None:
                opened = self._window_start(moment)
                if opened is None:
                    moment = _next(self.schedule, moment)
                    continue
                moment = max(moment, opened + offset)
                if moment >= opened + timedelta(seconds=self.window):
                    moment = _next(self.schedule, opened)
                    continue
            ends = [end for b in self.blackouts if (end := b.end_of_cover(moment)) is not None]
            if not ends:
                return moment
            moment = max(ends)
        return None

    def retry_at(self, failures: int, now: datetime) -> datetime:
        """When to try again after `failures` failed rotations: the back-off doubles."""
        wait = min(self.retry_backoff * 2 ** max(failures - 1, 0), MAX_BACKOFF)
        return now + timedelta(seconds=wait)

    def _window_start(self, moment: datetime) -> datetime | None:
        """The occurrence whose window holds `moment`, if any."""
        assert self.schedule is not None
        opened = _previous(self.schedule, moment)
        return opened if moment < opened + timedelta(seconds=self.window) else None

    def _offset(self, key: str) -> float:
        span = self.jitter if self.schedule is None else min(self.jitter, self.window / 2)
        if span < 1:
            return 0.0
        digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
        return float(digest % int(span))


def _check_cron(expression: str, setting: str) -> None:
    """Five fields that croniter reads and that occur (30 February never does)."""
    valid = len(expression.split()) == 5 and croniter.is_valid(expression)
    if valid:
        try:
            moment = datetime(2026, 1, 1, tzinfo=UTC)
            _next(expression, moment), _previous(expression, moment)
        except (CroniterError, ValueError, OverflowError):
            valid = False
    if not valid:
        raise ConfigError(
            f"{setting} {expression!r} is not a cron expression that ever occurs.",
            'Write five fields in UTC: minute hour day-of-month month day-of-week ("0 3 * * 1").',
        )


def _seconds(text: str, setting: str) -> float:
    """A duration of at most a century (longer ones overflow date arithmetic, and mean never)."""
    seconds = parse_duration(text, setting)
    if seconds > MAX_DURATION:
        raise ConfigError(f"{setting} {text!r} is longer than a century.", "Write a shorter one.")
    return seconds


def _next(expression: str, moment: datetime) -> datetime:
    found: datetime = croniter(expression, moment.astimezone(UTC)).get_next(datetime)
    return found


def _previous(expression: str, moment: datetime) -> datetime:
    """The last occurrence at or before `moment`."""
    later = moment.astimezone(UTC) + timedelta(seconds=1)
    found: datetime = croniter(expression, later).get_prev(datetime)
    return found


def _instant(text: str, setting: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"{setting}: {text.strip()!r} is not an ISO 8601 time.", "2026-12-24T00:00Z, say."
        ) from None
    if not 1970 <= moment.year <= 2999:
        raise ConfigError(f"{setting}: {text.strip()!r} is not a time of this millennium.", None)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
