"""The metric objects of one app or runtime, on a registry of its own.

Each app and runtime builds its own `Metrics`: a process-wide default registry would make two
apps in one process (tests open many) share and double-register series. The names and labels
are fixed by the operations contract (dashboards and alerts are written against
`METRIC_NAMES`); change them there first.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector

__all__ = ["HTTP_BUCKETS", "METRIC_NAMES", "Metrics"]

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
INGEST_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
GROUNDING_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)

METRIC_NAMES: frozenset[str] = frozenset(
    {
        "ragline_http_requests_total",
        "ragline_http_request_duration_seconds",
        "ragline_answer_stage_duration_seconds",
        "ragline_answers_total",
        "ragline_answer_grounding_score",
        "ragline_degraded_answers_total",
        "ragline_llm_tokens_total",
        "ragline_llm_cost_usd_total",
        "ragline_llm_failed_deployments_total",
        "ragline_ingest_documents_total",
        "ragline_ingest_duration_seconds",
        "ragline_documents",
        "ragline_index_lag_seconds",
        "ragline_index_lag_sla_seconds",
        "ragline_budget_spent_ratio",
        "ragline_latency_sla_seconds",
        "ragline_latency_observed_seconds",
        "ragline_latency_sla_met",
        "ragline_release_answers_total",
        "ragline_release_stage_percent",
        "ragline_release_rollbacks_total",
    }
)
"""Every series name ragline exposes, including those computed at scrape by custom collectors."""


class Metrics:
    """The counters and histograms ragline updates as it works, and the registry that serves them.

    Scrape-time gauges (document counts, index lag, budget ratios, latency SLAs) are custom
    collectors registered with `register`, so they read fresh state at each scrape instead of
    needing a background thread.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        r = self.registry
        self.http_requests = Counter(
            "ragline_http_requests_total",
            "HTTP requests served, by route template and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.http_duration = Histogram(
            "ragline_http_request_duration_seconds",
            "Time to serve an HTTP request, by route template.",
            ["method", "route"],
            buckets=HTTP_BUCKETS,
            registry=r,
        )
        self.answer_stage_duration = Histogram(
            "ragline_answer_stage_duration_seconds",
            "Time spent in each stage of answering a question.",
            ["stage"],
            buckets=HTTP_BUCKETS,
            registry=r,
        )
        self.answers = Counter(
            "ragline_answers_total",
            "Answers given, by model, team and outcome.",
            ["model", "team", "outcome"],
            registry=r,
        )
        self.grounding_score = Histogram(
            "ragline_answer_grounding_score",
            "Share of an answer supported by its retrieved sources.",
            buckets=GROUNDING_BUCKETS,
            registry=r,
        )
        self.degraded_answers = Counter(
            "ragline_degraded_answers_total",
            "Answers degraded to extraction, by short reason code.",
            ["reason"],
            registry=r,
        )
        self.llm_tokens = Counter(
            "ragline_llm_tokens_total",
            "LLM tokens used, by deployment, team and kind (prompt or completion).",
            ["deployment", "team", "kind"],
            registry=r,
        )
        self.llm_cost = Counter(
            "ragline_llm_cost_usd_total",
            "LLM spend in US dollars, by deployment and team.",
            ["deployment", "team"],
            registry=r,
        )
        self.llm_failed_deployments = Counter(
            "ragline_llm_failed_deployments_total",
            "Deployments tried and failed before a fallback or degradation.",
            ["deployment"],
            registry=r,
        )
        self.ingest_documents = Counter(
            "ragline_ingest_documents_total",
            "Documents through the ingest pipeline, by format and outcome.",
            ["format", "outcome", "error_code"],
            registry=r,
        )
        self.ingest_duration = Histogram(
            "ragline_ingest_duration_seconds",
            "Time spent in each ingest stage.",
            ["stage"],
            # Parsing may run to its limit (RAGLINE_LIMITS__PARSE_TIMEOUT_S, 120 s).
            buckets=INGEST_BUCKETS,
            registry=r,
        )

        self.release_answers = Counter(
            "ragline_release_answers_total",
            "Answers given by each release (or the baseline), as candidate or current, by outcome.",
            ["release", "arm", "outcome"],
            registry=r,
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one HTTP request; ``route`` is the template, so ids never become labels."""
        self.http_requests.labels(method, route, str(status)).inc()
        self.http_duration.labels(method, route).observe(seconds)

    def register(self, collector: Collector) -> None:
        """Add a scrape-time collector; raises ValueError if one of its names is already taken."""
        self.registry.register(collector)

    def render(self) -> tuple[bytes, str]:
        """The text exposition of every series, and the content type to serve it with."""
        # 0.0.4: the text format every Prometheus server version parses.
        return generate_latest(self.registry), CONTENT_TYPE_PLAIN_0_0_4
