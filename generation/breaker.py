"""A circuit breaker per deployment, for the failures LiteLLM's cooldown does not count.

LiteLLM's Router cools a deployment down after errors, timeouts and 429s, but never
after a refused or dropped connection (its ``APIConnectionError`` is exempt): a dead
endpoint would be tried on every request, and on a real network each try can cost a
connect timeout. This breaker counts every failure the gateway sees. After more than
``allowed_fails`` failures in a row a deployment is skipped for ``cooldown_s``; then one
request may try it again (half-open), and a success closes the breaker.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable


class Breaker:
    def __init__(
        self,
        allowed_fails: int,
        cooldown_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._allowed_fails = allowed_fails
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, int] = {}
        self._open_until: dict[str, float] = {}

    def closed(self, names: Iterable[str]) -> list[str]:
        """The deployments of ``names`` that may be called now, in order.

        A deployment whose cooldown has run out is let through (half-open); it stays
        "failing", so one more failure opens it again at once.
        """
        now = self._clock()
        with self._lock:
            return [n for n in names if self._open_until.get(n, 0.0) <= now]

    def failed(self, names: Iterable[str]) -> None:
        now = self._clock()
        with self._lock:
            for name in names:
                count = self._failures.get(name, 0) + 1
                self._failures[name] = count
                if count > self._allowed_fails and self._cooldown_s > 0:
                    self._open_until[name] = now + self._cooldown_s

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(name, None)
            self._open_until.pop(name, None)
