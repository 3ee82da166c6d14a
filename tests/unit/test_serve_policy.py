"""When `keyturn serve` rotates a credential (serve/policy.py): max_age, schedule windows,
blackouts, jitter and back-off, all as functions of an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyturn.core.config import RotationProfile
from keyturn.core.errors import ConfigError
from keyturn.serve.policy import Policy

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # a Monday


def policy(**fields: object) -> Policy:
    return Policy.of(RotationProfile.model_validate(fields), 'rotation."X"')


def test_max_age_alone_is_due_when_the_secret_is_older() -> None:
    p = policy(max_age="90d", jitter="0s")
    assert p.rotates
    assert p.due_at(T0 - timedelta(days=89), T0) == T0 + timedelta(days=1)
    due = p.due_at(T0 - timedelta(days=91), T0)
    assert due is not None and due < T0
    assert p.next_start("c1", due, T0) == T0  # overdue: start now


def test_unknown_age_is_due_now() -> None:
    assert policy(max_age="1d").due_at(None, T0) == T0


def test_no_policy_rotates_nothing() -> None:
    p = policy(remind_after="80d")
    assert not p.rotates and p.due_at(T0 - timedelta(days=400), T0) is None
    assert p.describe() == "remind after 80d"


def test_a_schedule_makes_it_due_at_each_occurrence_after_the_last_rotation() -> None:
    p = policy(schedule="0 3 * * 1", window="2h", jitter="0s")
    last = datetime(2026, 11, 23, 3, 5, tzinfo=UTC)  # rotated in last Monday's window
    due = p.due_at(last, T0)
    assert due == datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    # It is Monday noon: this week's window (03:00-05:00) is gone; next Monday it is.
    assert p.next_start("c1", due, T0) == datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    inside = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)
    assert p.next_start("c1", due, inside) == inside


def test_max_age_with_a_schedule_waits_for_a_window() -> None:
    p = policy(max_age="7d", schedule="0 2 * * *", window="1h", jitter="0s")
    due = p.due_at(T0 - timedelta(days=8), T0)
    assert due is not None and due < T0
    assert p.next_start("c1", due, T0) == datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def test_a_window_end_is_exclusive() -> None:
    p = policy(schedule="0 2 * * *", window="1h", jitter="0s")
    end = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    assert p.next_start("c", end - timedelta(days=5), end) == end + timedelta(hours=23)


def test_jitter_spreads_credentials_inside_the_window_and_is_stable() -> None:
    p = policy(schedule="0 2 * * *", window="1h", jitter="30m")
    opened = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    starts = {p.next_start(f"cred-{n}", opened, opened) for n in range(50)}
    assert len(starts) > 40  # not all in one second
    for start in starts:
        assert start is not None and opened <= start < opened + timedelta(minutes=30)
    assert p.next_start("cred-7", opened, opened) == p.next_start("cred-7", opened, opened)


def test_jitter_without_a_schedule_delays_from_the_due_time_only() -> None:
    p = policy(max_age="1d", jitter="10m")
    due = T0 - timedelta(hours=1)
    assert p.next_start("c", due, T0) == T0  # long overdue: the offset has passed
    fresh = p.next_start("c", T0, T0)
    assert fresh is not None and T0 <= fresh < T0 + timedelta(minutes=10)


def test_a_recurring_blackout_pushes_the_start_past_it() -> None:
    # Weekend freeze from Friday 18:00 for 62 hours (to Monday 08:00).
    p = policy(max_age="1d", jitter="0s", blackout=["0 18 * * 5 for 62h"])
    saturday = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    assert p.next_start("c", saturday, saturday) == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    thursday = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    assert p.next_start("c", thursday, thursday) == thursday


def test_a_blackout_over_a_window_skips_to_the_next_window() -> None:
    p = policy(
        schedule="0 2 * * *",
        window="1h",
        jitter="0s",
        blackout=["2026-12-01T00:00Z/2026-12-03T00:00Z"],
    )
    start = p.next_start("c", datetime(2026, 11, 30, 23, 0, tzinfo=UTC), T0)
    assert start == datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


def test_a_blackout_that_never_ends_gives_no_start() -> None:
    p = policy(max_age="1d", jitter="0s", blackout=["* * * * * for 2m"])
    assert p.next_start("c", T0, T0) is None


def test_back_off_doubles_and_is_capped() -> None:
    p = policy(max_age="1d", retry_backoff="5m")
    waits = [(p.retry_at(n, T0) - T0).total_seconds() for n in (1, 2, 3, 10)]
    assert waits == [300, 600, 1200, 6 * 3600]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"schedule": "every monday"}, 'rotation."X".schedule'),
        ({"schedule": "0 3 * * 1 2026"}, "not a cron expression"),
        ({"window": "1h"}, "window needs a schedule"),
        ({"max_age": "soon"}, 'rotation."X".max_age'),
        ({"max_age": "1d", "blackout": ["friday evening"]}, "not an ISO 8601 time"),
        ({"max_age": "1d", "blackout": ["2026-12-02T00:00Z/2026-12-01T00:00Z"]}, "END after"),
        ({"max_age": "1d", "blackout": ["0 18 * * 5 for ever"]}, "not a duration"),
        ({"schedule": "0 3 30 2 *"}, "ever occurs"),  # 30 February
        ({"max_age": "3000000d"}, "longer than a century"),
        ({"max_age": "1d", "blackout": ["* * * * * for 3000000d"]}, "longer than a century"),
        ({"max_age": "1d", "blackout": ["2026-12-01T00:00Z/9999-12-31T00:00Z"]}, "millennium"),
    ],
)
def test_bad_settings_are_one_line_errors_naming_the_setting(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        policy(**fields)
    assert message in str(caught.value.message) + str(caught.value.hint)
    assert "\n" not in caught.value.message


@settings(max_examples=200, deadline=None)
@given(
    minutes=st.integers(min_value=0, max_value=60 * 24 * 30),
    window=st.integers(min_value=1, max_value=300),
    jitter=st.integers(min_value=0, max_value=120),
    key=st.text(min_size=1, max_size=20),
)
def test_a_start_is_never_outside_a_window_or_inside_a_blackout(
    minutes: int, window: int, jitter: int, key: str
) -> None:
    p = policy(
        schedule="30 */6 * * *",
        window=f"{window}m",
        jitter=f"{jitter}m",
        blackout=["0 0 * * 6 for 36h"],
    )
    now = T0 + timedelta(minutes=minutes)
    start = p.next_start(key, now - timedelta(days=1), now)
    assert start is not None and start >= now
    opened = start.replace(minute=30, second=0, microsecond=0)
    if opened > start:
        opened -= timedelta(hours=1)
    opened = opened.replace(hour=opened.hour - opened.hour % 6)
    assert opened <= start < opened + timedelta(minutes=window)
    assert all(b.end_of_cover(start) is None for b in p.blackouts)


def test_a_policy_whose_windows_all_fall_in_blackouts_refuses_to_start() -> None:
    from pydantic import SecretStr

    from keyturn.core.config import FileConfig, N8nConnection, Settings
    from keyturn.serve.scheduler import _policies

    # Monday 03:00 always falls in the weekend freeze from Friday 18:00 for 62 hours.
    section = {"schedule": "0 3 * * 1", "window": "2h", "blackout": ["0 18 * * 5 for 62h"]}
    connection = N8nConnection(name="x", url="http://n8n", api_key=SecretStr("k"), key_source="t")
    settings = Settings(connection, FileConfig.model_validate({"rotation": {"X": section}}))
    with pytest.raises(ConfigError, match="never be rotated"):
        _policies(settings, T0)
