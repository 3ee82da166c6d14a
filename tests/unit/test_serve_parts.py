"""The pieces of `keyturn serve` that need no n8n: the scheduler's lease, the metrics, the
event log (journal/serve_state.py, serve/metrics.py, serve/logs.py)."""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, update

from keyturn.core.redact import RedactingFilter, forget_secrets, register_secret
from keyturn.journal.engine import make_engine
from keyturn.journal.migrate import upgrade
from keyturn.journal.models import ServeLeader
from keyturn.journal.serve_state import lead, leadership, resign
from keyturn.serve import view as v
from keyturn.serve.logs import EventFormatter
from keyturn.serve.metrics import render
from keyturn.serve.scheduler import event
from keyturn.serve.settings import parse_listen

INSTANCE = "http://127.0.0.1:5678"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'journal.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def test_one_replica_leads_and_another_takes_over_when_it_stops_beating(engine: Engine) -> None:
    assert lead(engine, INSTANCE, "a", ttl=30).leader
    b = lead(engine, INSTANCE, "b", ttl=30)
    assert not b.leader and b.holder == "a"
    assert lead(engine, INSTANCE, "a", ttl=30).leader  # renewing keeps it
    # a's lease expired a second ago (it was killed): b takes over.
    with engine.begin() as connection:
        expired = datetime.now(UTC) - timedelta(seconds=1)
        connection.execute(update(ServeLeader).values(expires_at=expired))
    assert lead(engine, INSTANCE, "b", ttl=30).leader
    assert not lead(engine, INSTANCE, "a", ttl=30).leader  # a, back, is a follower now


def test_a_replica_with_a_shorter_interval_cannot_take_a_live_lease(engine: Engine) -> None:
    assert lead(engine, INSTANCE, "slow", ttl=60).leader  # beats every 20 s, lives 60 s
    with engine.begin() as connection:
        ten_seconds_ago = datetime.now(UTC) - timedelta(seconds=10)
        connection.execute(update(ServeLeader).values(heartbeat_at=ten_seconds_ago))
    assert not lead(engine, INSTANCE, "fast", ttl=3).leader  # its own 3 s do not count


def test_a_clean_stop_hands_the_lease_over_at_once(engine: Engine) -> None:
    assert lead(engine, INSTANCE, "a", ttl=3600).leader
    resign(engine, INSTANCE, "a")
    assert lead(engine, INSTANCE, "b", ttl=3600).leader


def test_each_instance_has_its_own_leader(engine: Engine) -> None:
    assert lead(engine, INSTANCE, "a", ttl=30).leader
    assert lead(engine, "http://other:5678", "b", ttl=30).leader
    assert leadership(engine, INSTANCE, "b").holder == "a"


def test_replicas_racing_for_a_free_lease_elect_exactly_one(engine: Engine) -> None:
    won: list[str] = []
    barrier = threading.Barrier(8)

    def race(name: str) -> None:
        barrier.wait()
        if lead(engine, INSTANCE, name, ttl=30).leader:
            won.append(name)

    threads = [threading.Thread(target=race, args=(f"r{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1


HOSTILE = 'Partner "API" \\ <b>x</b>\nnext line 🔑\u202e'


def _view(**fields: object) -> v.DashboardView:
    now = datetime(2026, 11, 29, 12, tzinfo=UTC)
    rows = [
        v.CredentialRow("c1", HOSTILE, "httpHeaderAuth", 86400.0, now, "max_age 90d", None,
                        v.HEALTHY, "", now, v.OK, "", None, "completed"),
        v.CredentialRow("c2", "Stripe", "stripeApi", None, None, "none", None, v.UNKNOWN, "",
                        None, v.NEEDS_ATTENTION, "boom", None, None),
        v.CredentialRow("c3", "Slack", "slackApi", 10.0, now, "max_age 1d", None, v.FAILING,
                        "refused", now, v.DUE, "", None, None),
    ]  # fmt: skip
    base = {"instance": "prod", "generated_at": now, "leader": True, "leader_holder": "h",
            "last_evaluation": now, "credentials": rows}  # fmt: skip
    return v.DashboardView(**{**base, **fields})  # type: ignore[arg-type]


def _samples(body: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_parse_and_carry_every_credential() -> None:
    body, content_type = render(_view(), {("c1", "completed"): 3, ("c1", "rolled_back"): 1})
    assert content_type.startswith("text/plain")
    samples = _samples(body)
    c1 = (("credential", HOSTILE), ("credential_id", "c1"))
    assert samples[("keyturn_rotations_total", (*c1, ("outcome", "completed")))] == 3
    assert samples[("keyturn_rotations_total", (*c1, ("outcome", "rolled_back")))] == 1
    assert samples[("keyturn_credential_age_seconds", c1)] == 86400
    assert samples[("keyturn_credential_healthy", c1)] == 1
    c2 = (("credential", "Stripe"), ("credential_id", "c2"))
    assert math.isnan(samples[("keyturn_credential_healthy", c2)])
    assert samples[("keyturn_credential_needs_attention", c2)] == 1
    assert ("keyturn_credential_age_seconds", c2) not in samples  # unknown age: no sample
    c3 = (("credential", "Slack"), ("credential_id", "c3"))
    assert samples[("keyturn_credential_healthy", c3)] == 0
    assert samples[("keyturn_rotation_due", c3)] == 1
    assert samples[("keyturn_scheduler_leader", ())] == 1
    assert samples[("keyturn_last_evaluation_timestamp_seconds", ())] == pytest.approx(
        datetime(2026, 11, 29, 12, tzinfo=UTC).timestamp()
    )


def test_a_follower_says_so_and_before_any_evaluation_there_is_no_timestamp() -> None:
    samples = _samples(render(_view(leader=False, last_evaluation=None), {})[0])
    assert samples[("keyturn_scheduler_leader", ())] == 0
    assert not [key for key in samples if key[0].startswith("keyturn_last_evaluation")]


def _formatted(json_lines: bool, caplog: pytest.LogCaptureFixture) -> str:
    record = caplog.records[-1]
    RedactingFilter().filter(record)
    return EventFormatter(json_lines).format(record)


def test_events_are_one_json_object_per_line_without_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "sk_live_" + "Zq8+/=&%Xa91bC7dE2fG"
    register_secret(secret)
    try:
        with caplog.at_level(logging.INFO, logger="keyturn.serve"):
            event("rotation.failed", credential=HOSTILE, error=f"provider said {secret}!")
        line = _formatted(True, caplog)
        assert "\n" not in line
        document = json.loads(line)
        assert document["event"] == "rotation.failed" and document["credential"] == HOSTILE
        assert secret not in line and "sk_live_" not in document["error"]
        text = _formatted(False, caplog)
        assert "\n" not in text and secret not in text
        assert text.split(" ")[2] == "rotation.failed"
    finally:
        forget_secrets()


ALL = "0.0.0.0"  # noqa: S104 (parsed, never bound here)


@pytest.mark.parametrize(
    ("text", "host", "port", "loopback"),
    [
        ("127.0.0.1:9464", "127.0.0.1", 9464, True),
        ("[::1]:80", "::1", 80, True),
        ("localhost:1", "localhost", 1, True),
        ("0.0.0.0:9464", ALL, 9464, False),
        (":9464", ALL, 9464, False),
        ("n8n.internal:9464", "n8n.internal", 9464, False),
    ],
)
def test_listen_addresses(text: str, host: str, port: int, loopback: bool) -> None:
    listen = parse_listen(text)
    assert (listen.host, listen.port, listen.loopback) == (host, port, loopback)


@pytest.mark.parametrize("text", ["9464", "127.0.0.1:", "127.0.0.1:99999", "host:http"])
def test_a_bad_listen_address_is_a_one_line_error(text: str) -> None:
    from keyturn.core.errors import ConfigError

    with pytest.raises(ConfigError, match="HOST:PORT"):
        parse_listen(text)


@pytest.mark.parametrize(
    ("setting", "value"),
    [("interval", "0s"), ("interval", "2d"), ("health_interval", "1s"), ("failures_since", "1y")],
)
def test_serve_durations_out_of_range_are_refused(setting: str, value: str) -> None:
    from keyturn.core.errors import ConfigError
    from keyturn.serve.settings import serve_settings

    with pytest.raises(ConfigError, match=f"serve.{setting}"):
        serve_settings({setting: value})
