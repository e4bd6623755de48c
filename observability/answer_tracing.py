"""An answer's stages as child spans of its request's span, from the stage timings.

``AnswerService.ask`` already times its stages for the metrics (``answer.ports.
AnswerObserver``: seconds per stage, reported right after the last stage ends); this
turns the same timings into spans instead of timing anything twice. The stages run one
after another in a fixed order (:data:`SEQUENCE`), so laid end to end backwards from
the moment they are reported they sit where they ran, to within the microseconds
between two stages; ``ground`` runs at the end of ``extract`` and is a child of it.

Nothing happens while tracing is off or when no span is current (an answer asked
outside a request, from the CLI).
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import trace
from opentelemetry.context import Context

from observability.tracing import active_tracer

__all__ = ["NESTED_AT_END", "SEQUENCE", "trace_answer"]

# The order AnswerService.ask runs its top-level stages in (generate or extract, not both).
SEQUENCE = ("redact", "retrieve", "generate", "extract", "record")
# Stages that run at the very end of another one.
NESTED_AT_END = {"ground": "extract"}


def trace_answer(
    stages: Mapping[str, float], ended_ns: int, attributes: Mapping[str, str | float | bool]
) -> None:
    """Add ``answer.<stage>`` spans under the current span, and ``attributes`` to it.

    ``ended_ns`` is when the last stage ended (``time.time_ns()``, read as the timings
    were reported).
    """
    tracer = active_tracer()
    parent = trace.get_current_span()
    if tracer is None or not parent.is_recording():
        return
    for name, value in attributes.items():
        parent.set_attribute(name, value)
    context = trace.set_span_in_context(parent)
    end_ns = ended_ns
    spans: dict[str, tuple[trace.Span, int]] = {}
    for stage in reversed(SEQUENCE):
        if stage not in stages:
            continue
        start_ns = end_ns - int(stages[stage] * 1e9)
        spans[stage] = (_span(tracer, context, stage, start_ns, end_ns), end_ns)
        end_ns = start_ns
    for stage, outer in NESTED_AT_END.items():
        if stage in stages and outer in spans:
            outer_span, outer_end = spans[outer]
            inside = trace.set_span_in_context(outer_span)
            _span(tracer, inside, stage, outer_end - int(stages[stage] * 1e9), outer_end)


def _span(
    tracer: trace.Tracer, context: Context, stage: str, start_ns: int, end_ns: int
) -> trace.Span:
    span = tracer.start_span(
        f"answer.{stage}",
        context=context,
        attributes={"ragline.stage": stage},
        start_time=start_ns,
    )
    span.end(end_time=end_ns)
    return span
