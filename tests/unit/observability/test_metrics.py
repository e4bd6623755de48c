"""The metric objects, their registry, and how an answer becomes series.

Each test names a way the metrics could mislead an operator: a series missing from the
contract dashboards are written against, two apps in one process sharing counts, free
text (a failure's reason) turned into a label, an answer counted under the wrong outcome.
"""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from answer.grounding import Grounding
from answer.service import Answer, Usage
from observability.answer_metrics import AnswerMetrics, degraded_reason_code, outcome_of
from observability.latency_slo import LatencyWindow
from observability.metrics import METRIC_NAMES, Metrics

pytestmark = pytest.mark.unit

# Computed at scrape time by collectors other modules register (documents, index lag, budgets,
# releases' stages and rollbacks).
_SCRAPE_TIME_ELSEWHERE = {
    "ragline_documents",
    "ragline_index_lag_seconds",
    "ragline_index_lag_sla_seconds",
    "ragline_budget_spent_ratio",
    "ragline_release_stage_percent",
    "ragline_release_rollbacks_total",
}


def _samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    payload, _ = metrics.render()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(payload.decode())
        for s in family.samples
    }


def _value(metrics: Metrics, name: str, labels: dict[str, str] | None = None) -> float | None:
    return _samples(metrics).get((name, tuple(sorted((labels or {}).items()))))


def _answer(**overrides: object) -> Answer:
    values: dict[str, object] = {
        "answer_id": "a1",
        "text": "Leave is 25 days.",
        "citations": (),
        "grounding": Grounding(0.85, (), (0.85,)),
        "found": True,
        "model": "gpt-small",
        "latency_ms": 12.0,
    }
    values.update(overrides)
    return Answer(**values)  # type: ignore[arg-type]


def test_every_series_registered_is_in_the_contract_and_the_contract_is_complete() -> None:
    metrics = Metrics()
    window = LatencyWindow({"/ask": {"p95": 2.0}}, 300)
    window.observe("/ask", 0.5)
    metrics.register(window)
    payload, _ = metrics.render()
    # The parser names a counter's family without its _total suffix; the _created
    # timestamps prometheus_client adds are not series of their own in the contract.
    exposed = {
        f"{f.name}_total" if f.type == "counter" else f.name
        for f in text_string_to_metric_families(payload.decode())
        if f.name.startswith("ragline_") and not f.name.endswith("_created")
    }
    assert exposed | _SCRAPE_TIME_ELSEWHERE == METRIC_NAMES
    assert not exposed & _SCRAPE_TIME_ELSEWHERE


def test_two_metrics_objects_do_not_share_counts_or_collide() -> None:
    first, second = Metrics(), Metrics()
    first.observe_request("POST", "/ask", 200, 0.2)
    labels = {"method": "POST", "route": "/ask", "status": "200"}
    assert _value(first, "ragline_http_requests_total", labels) == 1
    assert _value(second, "ragline_http_requests_total", labels) is None


def test_render_is_the_text_format_with_process_series() -> None:
    metrics = Metrics()
    metrics.observe_request("GET", "/documents/{document_id}", 404, 0.003)
    payload, content_type = metrics.render()
    assert content_type.startswith("text/plain; version=0.0.4")
    families = {f.name for f in text_string_to_metric_families(payload.decode())}
    assert "process_cpu_seconds" in families or "process_resident_memory_bytes" in families
    assert "python_info" in families
    # 3 ms falls in the first bucket; the label is the template, never the raw path.
    labels = {"method": "GET", "route": "/documents/{document_id}", "le": "0.005"}
    assert _value(metrics, "ragline_http_request_duration_seconds_bucket", labels) == 1.0


def test_a_collector_registered_twice_is_refused() -> None:
    metrics = Metrics()
    metrics.register(LatencyWindow({"/ask": {"p95": 2.0}}, 300))
    with pytest.raises(ValueError, match="Duplicated"):
        metrics.register(LatencyWindow({"/ask": {"p95": 2.0}}, 300))


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        (
            "every model deployment tried failed (gpt-small, gpt-big); last error: "
            "APIConnectionError",
            "provider_error",
        ),
        (
            "every allowed model deployment (gpt-small) is cooling down after repeated failures",
            "provider_error",
        ),
        ("no deployment is configured in region eu", "no_route"),
        (
            "the sources come from buckets pinned to different regions (eu, us): no single "
            "deployment may receive them",
            "residency",
        ),
        (
            "bucket policies are unavailable (database down): residency cannot be checked",
            "residency",
        ),
        ("prompt 'answer' is unavailable: no version labelled production", "prompt_unavailable"),
        ("the team's budget is spent", "budget"),
        ("something nobody foresaw", "other"),
        (None, "other"),
    ],
)
def test_degraded_reasons_become_short_codes(reason: str | None, code: str) -> None:
    assert degraded_reason_code(reason) == code


def test_outcomes() -> None:
    assert outcome_of(_answer()) == "answered"
    assert outcome_of(_answer(found=False, model="extractive")) == "not_found"
    assert outcome_of(_answer(found=False, grounding_action="abstained")) == "abstained"
    assert outcome_of(_answer(degraded=True, degraded_reason="x", model="extractive")) == (
        "degraded"
    )


def test_a_generated_answer_counts_its_stages_tokens_spend_and_failed_deployments() -> None:
    metrics = Metrics()
    answer = _answer(
        usage=Usage(prompt_tokens=120, completion_tokens=30, cost_usd=0.002),
        failed_deployments=("gpt-flaky",),
    )
    AnswerMetrics(metrics).observe(answer, {"retrieve": 0.05, "generate": 0.8}, "hr")
    AnswerMetrics(metrics).observe(answer, {"retrieve": 0.07, "generate": 0.6}, "hr")

    answered = {"model": "gpt-small", "team": "hr", "outcome": "answered"}
    assert _value(metrics, "ragline_answers_total", answered) == 2
    tokens = {"deployment": "gpt-small", "team": "hr"}
    assert _value(metrics, "ragline_llm_tokens_total", {**tokens, "kind": "prompt"}) == 240
    assert _value(metrics, "ragline_llm_tokens_total", {**tokens, "kind": "completion"}) == 60
    assert _value(metrics, "ragline_llm_cost_usd_total", tokens) == pytest.approx(0.004)
    failed = {"deployment": "gpt-flaky"}
    assert _value(metrics, "ragline_llm_failed_deployments_total", failed) == 2
    stage = "ragline_answer_stage_duration_seconds_count"
    assert _value(metrics, stage, {"stage": "generate"}) == 2
    assert _value(metrics, stage, {"stage": "retrieve"}) == 2
    assert _value(metrics, stage, {"stage": "extract"}) is None
    assert _value(metrics, "ragline_answer_grounding_score_bucket", {"le": "0.8"}) == 0
    assert _value(metrics, "ragline_answer_grounding_score_bucket", {"le": "0.9"}) == 2


def test_a_degraded_answer_is_counted_by_reason_code_without_tokens() -> None:
    metrics = Metrics()
    answer = _answer(
        model="extractive",
        degraded=True,
        degraded_reason="every model deployment tried failed (a, b); last error: Timeout",
        failed_deployments=("a", "b"),
    )
    AnswerMetrics(metrics).observe(answer, {"retrieve": 0.01, "extract": 0.02}, "default")

    degraded = {"model": "extractive", "team": "default", "outcome": "degraded"}
    assert _value(metrics, "ragline_answers_total", degraded) == 1
    assert _value(metrics, "ragline_degraded_answers_total", {"reason": "provider_error"}) == 1
    assert _value(metrics, "ragline_llm_failed_deployments_total", {"deployment": "a"}) == 1
    assert not any(name == "ragline_llm_tokens_total" for name, _ in _samples(metrics))
