"""The eval gate: the answers eval on the golden set, through the candidate's bundle and
through the current one's, compared metric by metric when the release starts.

Pure comparison here (the runs are the shell's: ``ragline.release_eval``). Every
quality metric both reports hold is compared (higher is better); the candidate may
fall at most ``tolerance`` below the current on each. Timings are never gated, as in
``ragline eval answers --baseline``.
"""

from __future__ import annotations

from typing import Any

from releases.gates import GateResult

NAME = "answers_eval"
# What is compared; the report's other numbers (timings, judge scores) are not.
METRICS = (
    "citations.hit@1",
    "citations.hit@3",
    "answers.term_recall",
    "answerable.answered_rate",
    "unanswerable.abstention_rate",
    "grounding.mean",
    "role_check.leak_free",
)


def compare(
    candidate: dict[str, float], current: dict[str, float], tolerance: float
) -> dict[str, Any]:
    """The stored verdict: both sides' metrics, the drops beyond tolerance, and the gate."""
    drops = {
        name: round(current[name] - candidate[name], 6)
        for name in METRICS
        if name in candidate and name in current
    }
    failed = sorted((n for n, d in drops.items() if d > tolerance + 1e-12), key=lambda n: -drops[n])
    worst = failed[0] if failed else max(drops, key=lambda n: drops[n], default=None)
    gate = GateResult(
        NAME,
        None if worst is None else candidate[worst],
        None if worst is None else current[worst],
        tolerance,
        not failed,
        None if worst is None else (f"{'worst' if not failed else 'failed'}: {worst}"
                                    + (f" (also {', '.join(failed[1:])})" if failed[1:] else "")),
    )  # fmt: skip
    return {
        "state": "done",
        "candidate": {n: candidate[n] for n in METRICS if n in candidate},
        "current": {n: current[n] for n in METRICS if n in current},
        "failed": failed,
        "gate": gate.as_json(),
    }


def gate_of(stored: dict[str, Any] | None, tolerance: float) -> GateResult | None:
    """The gate a release's stored eval stands for; None when no eval is configured."""
    if stored is None:
        return None
    state = stored.get("state")
    if state == "running":
        return GateResult(NAME, None, None, tolerance, False, "running", pending=True)
    if state == "error":
        return GateResult(
            NAME, None, None, tolerance, False, f"could not run: {stored.get('error')}"
        )
    g = stored["gate"]
    return GateResult(
        g["name"], g["candidate"], g["current"], g["tolerance"], g["passed"], g["note"]
    )
