"""The per-deployment circuit breaker, on an injected clock."""

from __future__ import annotations

from generation.breaker import Breaker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_more_than_allowed_fails_in_a_row_and_half_opens_after_the_cooldown() -> None:
    clock = Clock()
    breaker = Breaker(allowed_fails=2, cooldown_s=30, clock=clock)
    breaker.failed(["a"])
    breaker.failed(["a"])
    assert breaker.closed(["a", "b"]) == ["a", "b"]
    breaker.failed(["a"])
    assert breaker.closed(["a", "b"]) == ["b"]
    clock.now += 29.9
    assert breaker.closed(["a", "b"]) == ["b"]
    clock.now += 0.2
    assert breaker.closed(["a", "b"]) == ["a", "b"]  # half-open: one more try
    breaker.failed(["a"])  # still failing: open again at once
    assert breaker.closed(["a"]) == []


def test_a_success_closes_it_and_resets_the_count() -> None:
    clock = Clock()
    breaker = Breaker(allowed_fails=1, cooldown_s=30, clock=clock)
    breaker.failed(["a"])
    breaker.succeeded("a")
    breaker.failed(["a"])
    assert breaker.closed(["a"]) == ["a"]


def test_a_zero_cooldown_never_opens() -> None:
    breaker = Breaker(allowed_fails=0, cooldown_s=0, clock=Clock())
    for _ in range(5):
        breaker.failed(["a"])
    assert breaker.closed(["a"]) == ["a"]
