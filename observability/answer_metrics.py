"""Answer metrics: what `AnswerService.ask` reports after each answer, as Prometheus series.

It implements ``answer.ports.AnswerObserver`` structurally (observability may not import
``answer``): the answer is read through the narrow `ObservedAnswer` protocol below.
The same stage timings become the answer's spans while tracing is on
(:mod:`observability.answer_tracing`): one set of timers, two readers.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Protocol

from observability.answer_tracing import trace_answer
from observability.metrics import Metrics

__all__ = ["AnswerMetrics", "ObservedAnswer", "degraded_reason_code", "outcome_of"]

EXTRACTIVE_MODEL = "extractive"


class ObservedGrounding(Protocol):
    @property
    def score(self) -> float: ...


class ObservedUsage(Protocol):
    @property
    def prompt_tokens(self) -> int: ...
    @property
    def completion_tokens(self) -> int: ...
    @property
    def cost_usd(self) -> float: ...


class ObservedAnswer(Protocol):
    @property
    def model(self) -> str: ...
    @property
    def found(self) -> bool: ...
    @property
    def grounding(self) -> ObservedGrounding: ...
    @property
    def degraded(self) -> bool: ...
    @property
    def degraded_reason(self) -> str | None: ...
    @property
    def usage(self) -> ObservedUsage | None: ...
    @property
    def failed_deployments(self) -> tuple[str, ...]: ...
    @property
    def grounding_action(self) -> str | None: ...


# Phrases of the reasons generation gives when it fails (generation.litellm_gateway,
# generation.routing, answer.generated); first match wins, anything else is "other".
_REASON_CODES: tuple[tuple[str, str], ...] = (
    ("prompt '", "prompt_unavailable"),
    ("residency cannot be checked", "residency"),
    ("pinned to different regions", "residency"),
    ("no deployment is configured in region", "no_route"),
    ("no route", "no_route"),
    ("every model deployment tried failed", "provider_error"),
    ("cooling down after repeated failures", "provider_error"),
    ("budget", "budget"),
)


def degraded_reason_code(reason: str | None) -> str:
    """The short, bounded label for a degraded answer's reason (free text never becomes a label)."""
    text = (reason or "").lower()
    return next((code for phrase, code in _REASON_CODES if phrase in text), "other")


def outcome_of(answer: ObservedAnswer) -> str:
    if answer.degraded:
        return "degraded"
    if answer.grounding_action == "abstained":
        return "abstained"
    if not answer.found:
        return "not_found"
    return "answered"


class AnswerMetrics:
    """Counts answers, their stages, grounding, tokens and spend on a `Metrics` registry."""

    def __init__(self, metrics: Metrics) -> None:
        self._m = metrics

    def observe(self, answer: ObservedAnswer, stages: Mapping[str, float], team: str) -> None:
        stages_ended_ns = time.time_ns()
        m = self._m
        outcome = outcome_of(answer)
        for stage, seconds in stages.items():
            m.answer_stage_duration.labels(stage).observe(seconds)
        m.answers.labels(answer.model, team, outcome).inc()
        m.grounding_score.observe(answer.grounding.score)
        if answer.degraded:
            m.degraded_answers.labels(degraded_reason_code(answer.degraded_reason)).inc()
        for deployment in answer.failed_deployments:
            m.llm_failed_deployments.labels(deployment).inc()
        usage = answer.usage
        if usage is not None and answer.model != EXTRACTIVE_MODEL:
            m.llm_tokens.labels(answer.model, team, "prompt").inc(usage.prompt_tokens)
            m.llm_tokens.labels(answer.model, team, "completion").inc(usage.completion_tokens)
            m.llm_cost.labels(answer.model, team).inc(usage.cost_usd)
        trace_answer(
            stages,
            stages_ended_ns,
            {
                "ragline.answer.outcome": outcome,
                "ragline.answer.model": answer.model,
                "ragline.answer.grounding": answer.grounding.score,
            },
        )
