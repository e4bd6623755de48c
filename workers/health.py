"""Readiness of the ingestion side: does the broker answer, does a worker run.

Checks return ``"ok"`` or ``"unavailable"`` and never raise: a readiness probe
reports, it does not fail. Nothing is cached, so a probe sees the present.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from workers.celery_app import INGEST_QUEUE, RaglineCelery

log = logging.getLogger(__name__)

OK = "ok"
UNAVAILABLE = "unavailable"

_CONNECT_TIMEOUT_S = 2.0


class WorkerProbe(Protocol):
    def check(self) -> str:
        """``"ok"`` when a worker can take tasks now, else ``"unavailable"``."""
        ...


def queue_check(app: RaglineCelery) -> str:
    """The broker accepts a connection and declares the ingest queue (a real round trip)."""
    try:
        with app.connection_for_write(connect_timeout=_CONNECT_TIMEOUT_S) as conn:
            conn.ensure_connection(max_retries=1, timeout=_CONNECT_TIMEOUT_S)
            app.amqp.queues[INGEST_QUEUE].bind(conn.default_channel).declare()
        return OK
    except Exception:  # any failure means the queue cannot be used
        log.warning("readiness: the broker did not answer", exc_info=True)
        return UNAVAILABLE


@dataclass(frozen=True, slots=True)
class PingProbe:
    """Distributed mode: at least one worker answers a broadcast ping within ``timeout_s``."""

    app: RaglineCelery
    timeout_s: float

    def check(self) -> str:
        try:
            replies = self.app.control.ping(timeout=self.timeout_s, limit=1)
        except Exception:
            log.warning("readiness: could not ping the workers", exc_info=True)
            return UNAVAILABLE
        return OK if replies else UNAVAILABLE


@dataclass(frozen=True, slots=True)
class IngestionReadiness:
    """What ``/ready`` asks of ingestion: ``{"worker": ..., "queue": ...}``."""

    app: RaglineCelery
    workers: WorkerProbe

    def __call__(self) -> dict[str, str]:
        return {"worker": self.workers.check(), "queue": queue_check(self.app)}
