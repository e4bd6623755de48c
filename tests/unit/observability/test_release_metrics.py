"""Answers per release as series: what the dashboard's per-release panels are drawn from.

The ways it could mislead: a candidate's answers counted as the current's, one
outcome under another, two releases' counts merged, counts shared between two apps.
"""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from observability.metrics import Metrics
from observability.release_metrics import ReleaseMetrics

pytestmark = pytest.mark.unit

NAME = "ragline_release_answers_total"


def _answers(metrics: Metrics) -> dict[tuple[str, str, str], float]:
    payload, _ = metrics.render()
    return {
        (s.labels["release"], s.labels["arm"], s.labels["outcome"]): s.value
        for family in text_string_to_metric_families(payload.decode())
        for s in family.samples
        if s.name == NAME
    }


def test_each_release_arm_and_outcome_is_its_own_series() -> None:
    metrics = Metrics()
    observer = ReleaseMetrics(metrics)
    for _ in range(3):
        observer.answered("rel-2", "candidate", "answered")
    observer.answered("rel-2", "candidate", "error")
    observer.answered("rel-1", "current", "answered")
    observer.answered("baseline", "current", "degraded")
    assert _answers(metrics) == {
        ("rel-2", "candidate", "answered"): 3,
        ("rel-2", "candidate", "error"): 1,
        ("rel-1", "current", "answered"): 1,
        ("baseline", "current", "degraded"): 1,
    }


def test_two_apps_count_their_own_release_answers() -> None:
    first, second = Metrics(), Metrics()
    ReleaseMetrics(first).answered("rel-1", "candidate", "answered")
    assert _answers(first) == {("rel-1", "candidate", "answered"): 1}
    assert _answers(second) == {}
