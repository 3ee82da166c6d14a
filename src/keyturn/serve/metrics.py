"""`/metrics`: Prometheus text, built at each scrape from the scheduler's latest view.

Every replica serves the same numbers: they come from the journal (shared) and n8n, not from
counters in one process. Label values are credential names and ids (never a secret);
prometheus_client escapes them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from keyturn.serve import view as v

LABELS = ["credential", "credential_id"]


def render(view: v.DashboardView, rotations: Mapping[tuple[str, str], int]) -> tuple[bytes, str]:
    """The exposition (body, content type). `rotations`: (credential id, outcome) -> count."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ServeCollector(view, rotations))
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _ServeCollector(Collector):
    def __init__(self, view: v.DashboardView, rotations: Mapping[tuple[str, str], int]) -> None:
        self.view = view
        self.rotations = rotations

    def collect(self) -> Iterator[Metric]:
        names = {row.credential_id: row.name for row in self.view.credentials}
        total = CounterMetricFamily(
            "keyturn_rotations",
            "Rotations recorded in the journal, by credential and outcome.",
            labels=[*LABELS, "outcome"],
        )
        for (credential_id, outcome), count in sorted(self.rotations.items()):
            total.add_metric([names.get(credential_id, ""), credential_id, outcome], count)
        yield total
        age = _gauge("keyturn_credential_age_seconds", "Seconds since the secret last changed.")
        healthy = _gauge(
            "keyturn_credential_healthy",
            "1 when the last health check passed, 0 when it failed, NaN when unknown.",
        )
        due = _gauge("keyturn_rotation_due", "1 when the credential is due for rotation.")
        attention = _gauge(
            "keyturn_credential_needs_attention",
            "1 when rotations failed max_attempts times (no more retries) or it is blocked.",
        )
        for row in self.view.credentials:
            labels = [row.name, row.credential_id]
            if row.age_seconds is not None:
                age.add_metric(labels, row.age_seconds)
            healthy.add_metric(labels, _health_value(row.health))
            due.add_metric(labels, float(row.state in (v.DUE, v.BLOCKED, v.RETRYING)))
            attention.add_metric(labels, float(row.state in (v.NEEDS_ATTENTION, v.BLOCKED)))
        yield from (age, healthy, due, attention)
        leader = GaugeMetricFamily(
            "keyturn_scheduler_leader", "1 on the replica that runs the scheduler."
        )
        leader.add_metric([], float(self.view.leader))
        yield leader
        if self.view.last_evaluation is not None:
            evaluated = GaugeMetricFamily(
                "keyturn_last_evaluation_timestamp_seconds",
                "When the scheduler last evaluated every policy (Unix time).",
            )
            evaluated.add_metric([], self.view.last_evaluation.timestamp())
            yield evaluated


def _gauge(name: str, documentation: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=LABELS)


def _health_value(health: str) -> float:
    if health == v.HEALTHY:
        return 1.0
    if health == v.FAILING:
        return 0.0
    return math.nan
