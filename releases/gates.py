"""The gates: is the candidate worse than the current release over the same window?

Pure arithmetic on two :class:`~releases.tally.Stats`, so a test states the numbers
and the verdict. Each gate compares one figure with the current's plus a tolerance
(rates and grounding: an absolute difference; p95 latency and cost: a ratio plus a
slack, since the current may be near zero). A gate with nothing to compare on one
side passes and says so; the request count is its own gate: too few answers and
nothing is judged yet.
"""

from __future__ import annotations

from dataclasses import dataclass

from kernel.settings import ReleaseSettings
from releases.tally import Stats


@dataclass(frozen=True, slots=True)
class GateResult:
    name: str
    candidate: float | None
    current: float | None
    tolerance: float
    passed: bool
    note: str | None = None
    # Not decided yet (the eval gate while it runs): holds the stage, rolls nothing back.
    pending: bool = False

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "candidate": _round(self.candidate),
            "current": _round(self.current),
            "tolerance": self.tolerance,
            "passed": self.passed,
            "note": self.note,
            "pending": self.pending,
        }

    def describe(self) -> str:
        """One line for the audit log and the rollback reason: the gate and its numbers."""
        return (
            f"{self.name}: candidate {_fmt(self.candidate)} vs current {_fmt(self.current)}"
            f" (tolerance {self.tolerance:g})"
        )


def judge(candidate: Stats, current: Stats, settings: ReleaseSettings) -> list[GateResult]:
    """Every gate, in a fixed order; the first is whether there is enough to judge."""
    s = settings
    return [
        GateResult(
            "requests",
            float(candidate.requests),
            float(current.requests),
            float(s.min_requests),
            candidate.requests >= s.min_requests,
            None if candidate.requests >= s.min_requests else "too few answers to judge yet",
        ),
        _at_most("error_rate", candidate.error_rate, current.error_rate, s.max_error_rate_increase),
        _at_most(
            "degraded_rate",
            candidate.degraded_rate,
            current.degraded_rate,
            s.max_degraded_rate_increase,
        ),
        _at_most(
            "abstention_rate",
            candidate.abstention_rate,
            current.abstention_rate if current.requests else None,
            s.max_abstention_rate_increase,
        ),
        _at_least(
            "mean_grounding", candidate.mean_grounding, current.mean_grounding, s.max_grounding_drop
        ),
        _ratio(
            "p95_latency_s",
            candidate.p95_latency_s,
            current.p95_latency_s,
            s.max_p95_latency_ratio,
            s.latency_slack_s,
        ),
        _ratio(
            "cost_per_request_usd",
            candidate.cost_per_request if candidate.requests else None,
            current.cost_per_request if current.requests else None,
            s.max_cost_ratio,
            s.cost_slack_usd,
        ),
    ]


def judged(results: list[GateResult]) -> bool:
    """True when there were enough answers to judge (the ``requests`` gate passed)."""
    return all(r.passed for r in results if r.name == "requests")


def failing(results: list[GateResult]) -> list[GateResult]:
    """The quality gates that failed (never ``requests``: too few answers is not a failure)."""
    return [r for r in results if not r.passed and not r.pending and r.name != "requests"]


def pending(results: list[GateResult]) -> bool:
    return any(r.pending for r in results)


def _at_most(name: str, candidate: float, current: float | None, tolerance: float) -> GateResult:
    # No current answers: judged against zero (an error or degraded rate should be zero).
    base = current if current is not None else 0.0
    passed = candidate <= base + tolerance + 1e-12
    return GateResult(name, candidate, current, tolerance, passed)


def _at_least(
    name: str, candidate: float | None, current: float | None, tolerance: float
) -> GateResult:
    if candidate is None or current is None:
        return GateResult(name, candidate, current, tolerance, True, "nothing to compare")
    return GateResult(name, candidate, current, tolerance, candidate >= current - tolerance - 1e-12)


def _ratio(
    name: str, candidate: float | None, current: float | None, ratio: float, slack: float
) -> GateResult:
    if candidate is None or current is None:
        return GateResult(name, candidate, current, ratio, True, "nothing to compare")
    limit = current * ratio + slack
    return GateResult(
        name, candidate, current, ratio, candidate <= limit + 1e-12, f"limit {limit:g}"
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"
