"""The scheduler: every few seconds, fire the bucket schedules that are due.

A small scheduler of our own rather than Celery beat with a database scheduler: the
maintained ones need Django (django-celery-beat) or Redis (RedBeat), and embedded
mode has neither. Schedules are read from the database on every tick, so a change
takes effect without a restart, and each firing is claimed with a compare-and-set,
so running several schedulers (one per API replica, say) fires each once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from kernel.errors import RaglineError

log = logging.getLogger(__name__)

Tick = Callable[[datetime], list[str]]


class Beat:
    """Calls ``tick`` every ``interval_s`` until stopped; a failing tick is logged, not fatal."""

    def __init__(self, tick: Tick, interval_s: float) -> None:
        self._tick = tick
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> list[str]:
        try:
            return self._tick(datetime.now(UTC))
        except RaglineError as exc:
            log.warning("scheduler tick failed: %s", exc.message)
        except Exception:
            # The database or broker may be down for a while; the next tick retries.
            log.exception("scheduler tick failed")
        return []

    def run_forever(self) -> None:
        while not self._stop.is_set():
            started = self.run_once()
            if started:
                log.info("scheduled refreshes started: %s", ", ".join(started))
            self._stop.wait(self._interval_s)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="ragline-beat", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
