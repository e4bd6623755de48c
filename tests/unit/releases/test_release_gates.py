"""Gate arithmetic: candidate against current, with tolerances, on stated numbers."""

from __future__ import annotations

import pytest

from kernel.settings import ReleaseSettings
from releases.eval_gate import compare, gate_of
from releases.gates import failing, judge, judged
from releases.tally import LATENCY_BOUNDS, Stats, Tally, latency_quantile

pytestmark = pytest.mark.unit

SETTINGS = ReleaseSettings(min_requests=10)


def _stats(n: int, **counts: float) -> Stats:
    stats = Stats(requests=n)
    for name, value in counts.items():
        setattr(stats, name, value)
    return stats


def _by_name(candidate: Stats, current: Stats) -> dict[str, bool]:
    return {g.name: g.passed for g in judge(candidate, current, SETTINGS)}


def test_too_few_answers_are_not_judged_and_fail_nothing() -> None:
    results = judge(_stats(9, degraded=9), _stats(100), SETTINGS)
    assert not judged(results)
    assert results[0].name == "requests" and not results[0].passed
    assert "requests" not in {g.name for g in failing(results)}


def test_a_model_that_fails_every_request_fails_the_degraded_gate() -> None:
    results = judge(_stats(20, degraded=20), _stats(200, degraded=2), SETTINGS)
    assert judged(results)
    bad = failing(results)
    assert [g.name for g in bad] == ["degraded_rate"]
    assert bad[0].candidate == 1.0 and bad[0].current == 0.01
    assert "degraded_rate: candidate 1 vs current 0.01" in bad[0].describe()


def test_rates_within_their_tolerance_pass() -> None:
    # error +0.02 allowed, degraded +0.05, abstention +0.10
    assert _by_name(
        _stats(100, errors=2, degraded=5, abstained=19),
        _stats(100, errors=0, degraded=0, abstained=10),
    ) == dict.fromkeys(
        ["requests", "error_rate", "degraded_rate", "abstention_rate", "mean_grounding",
         "p95_latency_s", "cost_per_request_usd"], True,
    )  # fmt: skip
    assert not _by_name(_stats(100, errors=3), _stats(100))["error_rate"]


def test_a_grounding_drop_beyond_the_tolerance_fails() -> None:
    current = _stats(100, grounded=100, grounding_sum=90.0)  # mean 0.90
    assert _by_name(_stats(100, grounded=100, grounding_sum=86.0), current)["mean_grounding"]
    assert not _by_name(_stats(100, grounded=100, grounding_sum=84.0), current)["mean_grounding"]
    # Nothing grounded on one side: nothing to compare, not a failure.
    assert _by_name(_stats(100), current)["mean_grounding"]


def test_latency_and_cost_may_grow_by_their_ratio_plus_slack() -> None:
    def latency(seconds: float, n: int) -> Stats:
        tally = Tally()
        for _ in range(n):
            tally.count("e", "a", error=False, latency_s=seconds)
        return tally.drain()[("e", "a")]

    current = latency(1.0, 100)  # p95 1.0 s: limit 1.0 * 1.5 + 0.25 = 1.75
    assert _by_name(latency(1.5, 100), current)["p95_latency_s"]
    assert not _by_name(latency(2.0, 100), current)["p95_latency_s"]
    cost_current = _stats(100, cost_usd=0.1)  # $0.001/request: limit 0.0015 + 0.0005
    assert _by_name(_stats(100, cost_usd=0.2), cost_current)["cost_per_request_usd"]
    assert not _by_name(_stats(100, cost_usd=0.25), cost_current)["cost_per_request_usd"]


def test_with_no_current_answers_error_rates_are_held_against_zero() -> None:
    names = _by_name(_stats(20, errors=5), Stats())
    assert not names["error_rate"]
    assert names["abstention_rate"] and names["p95_latency_s"]


def test_the_tally_counts_per_stage_and_release_and_p95_reads_its_buckets() -> None:
    tally = Tally()
    for n in range(100):
        tally.count("rel-2@5", "rel-2", error=False, grounding=0.8, latency_s=0.01 * n,
                    cost_usd=0.001, abstained=n % 10 == 0)  # fmt: skip
    tally.count("rel-2@5", "baseline", error=True, latency_s=0.1)
    taken = tally.drain()
    assert tally.drain() == {}
    cand, base = taken[("rel-2@5", "rel-2")], taken[("rel-2@5", "baseline")]
    assert (cand.requests, cand.abstained, cand.grounded) == (100, 10, 100)
    assert cand.mean_grounding == pytest.approx(0.8)
    assert cand.cost_per_request == pytest.approx(0.001)
    assert cand.p95_latency_s == 1.0  # 0.94 s falls in the bucket up to 1.0 s
    assert (base.requests, base.errors, base.error_rate) == (1, 1, 1.0)
    assert latency_quantile([0] * (len(LATENCY_BOUNDS) + 1), 0.95) is None


def test_counts_that_could_not_be_written_go_back_into_the_tally() -> None:
    tally = Tally()
    tally.count("e", "a", error=False)
    taken = tally.drain()
    tally.count("e", "a", error=True)
    tally.restore(taken)
    again = tally.drain()[("e", "a")]
    assert (again.requests, again.errors) == (2, 1)


def test_the_eval_gate_fails_on_the_metric_that_dropped_most_beyond_tolerance() -> None:
    current = {"citations.hit@1": 1.0, "answers.term_recall": 0.9, "grounding.mean": 0.8,
               "latency_p95_ms": 40.0}  # fmt: skip
    fine = compare({**current, "grounding.mean": 0.79, "latency_p95_ms": 900.0}, current, 0.02)
    assert fine["failed"] == [] and fine["gate"]["passed"] is True
    worse = compare({**current, "citations.hit@1": 0.5, "answers.term_recall": 0.8}, current, 0.02)
    assert worse["failed"] == ["citations.hit@1", "answers.term_recall"]
    gate = gate_of(worse, 0.02)
    assert gate is not None and not gate.passed
    assert (gate.candidate, gate.current) == (0.5, 1.0)
    assert gate.note == "failed: citations.hit@1 (also answers.term_recall)"
    assert "latency_p95_ms" not in worse["candidate"]  # timings are never gated


def test_a_running_eval_holds_the_stage_and_a_broken_one_fails() -> None:
    running = gate_of({"state": "running"}, 0.02)
    assert running is not None and running.pending and failing([running]) == []
    broken = gate_of({"state": "error", "error": "golden set missing"}, 0.02)
    assert broken is not None and failing([broken]) == [broken]
    assert gate_of(None, 0.02) is None
