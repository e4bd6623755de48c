"""Latency objectives per route, judged on this process's recent requests.

Prometheus histograms answer "what was p95 over any range" at query time, but a
service should also say, on its own, whether it meets its objectives now: `GET /slo`
and the ``ragline_latency_*`` gauges read a sliding window of the latest requests.
Memory is bounded: only routes with an objective are kept, each trimmed to the window
and to at most ``max_samples`` of its newest requests.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from prometheus_client.core import GaugeMetricFamily, Metric

__all__ = ["LatencyWindow", "QuantileReport", "quantile_label"]

DEFAULT_MAX_SAMPLES = 10_000


def quantile_label(name: str) -> str:
    """``p95`` -> ``0.95``, ``p99.9`` -> ``0.999`` (exact: no float rounding in the label)."""
    return str(Decimal(name.removeprefix("p")) / 100)


def _nearest_rank(ordered: list[float], q: float) -> float:
    """The smallest sample at or above a share ``q`` of them (no interpolation: a real latency)."""
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class QuantileReport:
    objective: float
    # None (and met None) while the window holds no request of the route.
    observed: float | None
    met: bool | None
    samples: int


class LatencyWindow:
    """The recent latencies of the routes that have objectives; also a scrape-time collector.

    Thread-safe: the API records from its event loop while a scrape reads from a
    worker thread.
    """

    def __init__(
        self,
        objectives: Mapping[str, Mapping[str, float]],
        window_s: float,
        *,
        max_samples: int = DEFAULT_MAX_SAMPLES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if window_s <= 0 or max_samples < 1:
            raise ValueError("window_s must be above 0 and max_samples at least 1")
        self._objectives = {route: dict(qs) for route, qs in objectives.items()}
        self._window_s = window_s
        self._clock = clock
        self._samples: dict[str, deque[tuple[float, float]]] = {
            route: deque(maxlen=max_samples) for route in self._objectives
        }
        self._lock = threading.Lock()

    def observe(self, route: str, seconds: float) -> None:
        """Record one request of ``route`` (a template); routes without objectives are ignored."""
        samples = self._samples.get(route)
        if samples is None:
            return
        now = self._clock()
        with self._lock:
            samples.append((now, seconds))
            self._trim(samples, now)

    def report(self) -> dict[str, dict[str, QuantileReport]]:
        """Per route and quantile name (``p95``): the objective, what was observed, whether met."""
        now = self._clock()
        with self._lock:
            recent = {}
            for route, samples in self._samples.items():
                self._trim(samples, now)
                recent[route] = sorted(s for _, s in samples)
        out: dict[str, dict[str, QuantileReport]] = {}
        for route, objectives in self._objectives.items():
            ordered = recent[route]
            out[route] = {}
            for name, objective in objectives.items():
                observed = _nearest_rank(ordered, float(quantile_label(name))) if ordered else None
                out[route][name] = QuantileReport(
                    objective=objective,
                    observed=observed,
                    met=None if observed is None else observed <= objective,
                    samples=len(ordered),
                )
        return out

    def describe(self) -> Iterable[Metric]:
        return self._families()

    def collect(self) -> Iterable[Metric]:
        sla, observed, met = self._families()
        for route, quantiles in self.report().items():
            for name, q in quantiles.items():
                labels = [route, quantile_label(name)]
                sla.add_metric(labels, q.objective)
                if q.observed is not None:
                    observed.add_metric(labels, q.observed)
                    met.add_metric(labels, 1.0 if q.met else 0.0)
        return [sla, observed, met]

    def _trim(self, samples: deque[tuple[float, float]], now: float) -> None:
        oldest = now - self._window_s
        while samples and samples[0][0] < oldest:
            samples.popleft()

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily]:
        labels = ["route", "quantile"]
        return (
            GaugeMetricFamily(
                "ragline_latency_sla_seconds",
                "Configured latency objective of a route at a quantile.",
                labels=labels,
            ),
            GaugeMetricFamily(
                "ragline_latency_observed_seconds",
                "Latency of a route at a quantile over this process's recent window.",
                labels=labels,
            ),
            GaugeMetricFamily(
                "ragline_latency_sla_met",
                "1 when the route met its objective over the recent window, 0 when not.",
                labels=labels,
            ),
        )
