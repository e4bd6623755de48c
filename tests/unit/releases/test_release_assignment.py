"""Which release a caller gets: stable per caller, proportional to the stage, nested."""

from __future__ import annotations

import pytest

from releases.assignment import bucket, takes_candidate

pytestmark = pytest.mark.unit

KEYS = [f"key-{n:05d}" for n in range(20_000)]


def test_the_same_caller_always_lands_on_the_same_point() -> None:
    points = [bucket("rel-3", k) for k in KEYS[:100]]
    assert points == [bucket("rel-3", k) for k in KEYS[:100]]
    assert all(0 <= p < 100 for p in points)


@pytest.mark.parametrize("percent", [5, 25, 50, 100])
def test_a_stage_takes_its_share_of_callers(percent: int) -> None:
    share = sum(takes_candidate("rel-3", k, percent) for k in KEYS) / len(KEYS)
    # 20,000 callers: the binomial spread at 25% is 0.3 points; 1 point is > 3 sigma.
    assert share == pytest.approx(percent / 100, abs=0.01)


def test_stages_nest_so_a_caller_in_the_5_percent_stays_in_at_25() -> None:
    early = {k for k in KEYS if takes_candidate("rel-3", k, 5)}
    later = {k for k in KEYS if takes_candidate("rel-3", k, 25)}
    assert early and early <= later


def test_each_release_canaries_on_a_different_slice_of_callers() -> None:
    first = {k for k in KEYS if takes_candidate("rel-3", k, 5)}
    second = {k for k in KEYS if takes_candidate("rel-4", k, 5)}
    # Independent slices of 5% overlap on about 5% of each other.
    assert len(first & second) / len(first) < 0.15


def test_nobody_takes_the_candidate_at_0_and_everybody_at_100() -> None:
    assert not any(takes_candidate("rel-3", k, 0) for k in KEYS[:500])
    assert all(takes_candidate("rel-3", k, 100) for k in KEYS[:500])
