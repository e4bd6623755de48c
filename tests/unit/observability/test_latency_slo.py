"""Latency objectives over a sliding window, fed explicit samples on an injected clock.

Each test names a way the verdict could be wrong: a quantile off by one rank, old
requests kept past the window, memory growing with routes nobody set an objective for,
a "met" claimed with no data at all.
"""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from kernel.settings import MetricsSettings
from observability.latency_slo import LatencyWindow, quantile_label
from observability.metrics import Metrics

pytestmark = pytest.mark.unit


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _window(clock: _Clock, *, max_samples: int = 10_000) -> LatencyWindow:
    return LatencyWindow(
        {"/ask": {"p95": 2.0, "p99": 5.0}}, 300, max_samples=max_samples, clock=clock
    )


def test_quantile_labels_are_exact() -> None:
    assert quantile_label("p95") == "0.95"
    assert quantile_label("p99") == "0.99"
    assert quantile_label("p99.9") == "0.999"


def test_nearest_rank_quantiles_and_verdicts() -> None:
    clock = _Clock()
    window = _window(clock)
    # 100 requests: 1..94 fast, then six slow ones of 3, 3, 3, 3, 3 and 6 seconds.
    for seconds in [0.1] * 94 + [3.0] * 5 + [6.0]:
        window.observe("/ask", seconds)
    report = window.report()["/ask"]
    assert report["p95"].samples == 100
    assert report["p95"].observed == 3.0  # the 95th of 100 sorted
    assert report["p95"].met is False
    assert report["p99"].observed == 3.0  # the 99th of 100
    assert report["p99"].met is True


def test_a_route_without_data_has_no_verdict() -> None:
    report = _window(_Clock()).report()["/ask"]["p95"]
    assert (report.observed, report.met, report.samples, report.objective) == (None, None, 0, 2.0)


def test_samples_older_than_the_window_are_forgotten() -> None:
    clock = _Clock()
    window = _window(clock)
    for _ in range(10):
        window.observe("/ask", 9.0)
    clock.now += 301
    window.observe("/ask", 0.2)
    report = window.report()["/ask"]["p99"]
    assert (report.samples, report.observed, report.met) == (1, 0.2, True)
    clock.now += 301
    assert window.report()["/ask"]["p99"].samples == 0


def test_memory_is_bounded_per_route_and_to_routes_with_objectives() -> None:
    clock = _Clock()
    window = _window(clock, max_samples=50)
    for n in range(500):
        window.observe("/ask", float(n))
        window.observe("/documents/{document_id}", 1.0)
    report = window.report()
    assert set(report) == {"/ask"}
    assert report["/ask"]["p95"].samples == 50
    # Only the newest 50 (450..499) remain.
    assert report["/ask"]["p95"].observed == 497.0


def test_the_collector_exposes_objective_observed_and_met() -> None:
    clock = _Clock()
    window = _window(clock)
    metrics = Metrics()
    metrics.register(window)

    def samples() -> dict[tuple[str, str], float]:
        payload, _ = metrics.render()
        return {
            (s.name, s.labels["quantile"]): s.value
            for f in text_string_to_metric_families(payload.decode())
            if f.name.startswith("ragline_latency_")
            for s in f.samples
            if s.labels.get("route") == "/ask"
        }

    # No data: the objective is shown, observed and met are absent.
    assert samples() == {
        ("ragline_latency_sla_seconds", "0.95"): 2.0,
        ("ragline_latency_sla_seconds", "0.99"): 5.0,
    }
    for _ in range(20):
        window.observe("/ask", 2.5)
    assert samples() == {
        ("ragline_latency_sla_seconds", "0.95"): 2.0,
        ("ragline_latency_sla_seconds", "0.99"): 5.0,
        ("ragline_latency_observed_seconds", "0.95"): 2.5,
        ("ragline_latency_observed_seconds", "0.99"): 2.5,
        ("ragline_latency_sla_met", "0.95"): 0.0,
        ("ragline_latency_sla_met", "0.99"): 1.0,
    }


def test_settings_defaults_and_refusals() -> None:
    settings = MetricsSettings()
    assert settings.public is False
    assert settings.slos == {"/ask": {"p95": 2.0, "p99": 5.0}}
    assert settings.window_s == 300
    assert settings.worker_port is None
    refused: list[dict[str, dict[str, float]]] = [
        {"/ask": {"95": 2.0}},
        {"/ask": {"p100": 2.0}},
        {"/ask": {"p95": 0.0}},
        {"ask": {}},
    ]
    for slos in refused:
        with pytest.raises(ValueError, match="latency"):
            MetricsSettings(slos=slos)


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from kernel.settings import Settings

    monkeypatch.setenv("RAGLINE_METRICS__PUBLIC", "true")
    monkeypatch.setenv("RAGLINE_METRICS__SLOS", '{"/search": {"p99": 1.5}}')
    monkeypatch.setenv("RAGLINE_METRICS__WINDOW_S", "600")
    metrics = Settings().metrics
    assert metrics.public is True
    assert (metrics.slos, metrics.window_s) == ({"/search": {"p99": 1.5}}, 600)
