"""Counting the answers each release gives, cheaply: in memory per request, in bulk to the DB.

``/ask`` adds one answer to a :class:`Tally` under a lock (a handful of additions);
:meth:`Tally.drain` hands the counts over to be written as one row per stage and
release, every few seconds. Latency is kept as counts over fixed buckets, so the
p95 of many processes' rows is read from their summed counts.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass, field

# Upper bounds of the latency buckets, in seconds; the last bucket is everything above.
LATENCY_BOUNDS: tuple[float, ...] = (
    0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0, 20.0, 60.0,
)  # fmt: skip


@dataclass(slots=True)
class Stats:
    """What a release's answers came to over a window; empty windows are all zeros."""

    requests: int = 0
    errors: int = 0
    degraded: int = 0
    abstained: int = 0
    grounded: int = 0
    grounding_sum: float = 0.0
    cost_usd: float = 0.0
    latency_buckets: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BOUNDS) + 1))

    def add(self, other: Stats) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.degraded += other.degraded
        self.abstained += other.abstained
        self.grounded += other.grounded
        self.grounding_sum += other.grounding_sum
        self.cost_usd += other.cost_usd
        for i, count in enumerate(other.latency_buckets[: len(self.latency_buckets)]):
            self.latency_buckets[i] += count

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def degraded_rate(self) -> float:
        return self.degraded / self.requests if self.requests else 0.0

    @property
    def abstention_rate(self) -> float:
        answered = self.requests - self.errors
        return self.abstained / answered if answered > 0 else 0.0

    @property
    def mean_grounding(self) -> float | None:
        return self.grounding_sum / self.grounded if self.grounded else None

    @property
    def cost_per_request(self) -> float:
        answered = self.requests - self.errors
        return self.cost_usd / answered if answered > 0 else 0.0

    @property
    def p95_latency_s(self) -> float | None:
        return latency_quantile(self.latency_buckets, 0.95)

    def as_json(self) -> dict[str, object]:
        grounding, p95 = self.mean_grounding, self.p95_latency_s
        return {
            "requests": self.requests,
            "error_rate": round(self.error_rate, 4),
            "degraded_rate": round(self.degraded_rate, 4),
            "abstention_rate": round(self.abstention_rate, 4),
            "mean_grounding": None if grounding is None else round(grounding, 4),
            "p95_latency_s": p95,
            "cost_per_request_usd": round(self.cost_per_request, 8),
        }


def latency_quantile(buckets: list[int], q: float) -> float | None:
    """The upper bound of the bucket holding the ``q`` quantile (an over-estimate, never
    under); the last bound doubled for the overflow bucket; None with no samples."""
    total = sum(buckets)
    if total == 0:
        return None
    wanted = q * total
    seen = 0
    for i, count in enumerate(buckets):
        seen += count
        if seen >= wanted:
            return LATENCY_BOUNDS[i] if i < len(LATENCY_BOUNDS) else LATENCY_BOUNDS[-1] * 2
    return LATENCY_BOUNDS[-1] * 2


def latency_bucket(seconds: float) -> int:
    return bisect.bisect_left(LATENCY_BOUNDS, seconds)


class Tally:
    """This process's counts not yet written, per (stage, release)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[tuple[str, str], Stats] = {}

    def count(
        self,
        epoch: str,
        arm: str,
        *,
        error: bool,
        degraded: bool = False,
        abstained: bool = False,
        grounding: float | None = None,
        latency_s: float = 0.0,
        cost_usd: float = 0.0,
    ) -> None:
        with self._lock:
            stats = self._open.get((epoch, arm))
            if stats is None:
                stats = self._open[(epoch, arm)] = Stats()
            stats.requests += 1
            stats.errors += int(error)
            stats.degraded += int(degraded)
            stats.abstained += int(abstained and not error)
            if grounding is not None and not error:
                stats.grounded += 1
                stats.grounding_sum += grounding
            stats.cost_usd += cost_usd
            stats.latency_buckets[latency_bucket(latency_s)] += 1

    def drain(self) -> dict[tuple[str, str], Stats]:
        with self._lock:
            taken, self._open = self._open, {}
        return taken

    def restore(self, taken: dict[tuple[str, str], Stats]) -> None:
        """Put counts back that could not be written (database down): the next flush tries."""
        with self._lock:
            for key, stats in taken.items():
                self._open.setdefault(key, Stats()).add(stats)
