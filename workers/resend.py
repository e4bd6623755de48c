"""Send again what was accepted but never reached a worker: the broker-outage sweep.

An upload, a retry, a refresh or a re-index is recorded (``queued``) before its task is
sent. When the broker cannot take the task, the request answers 503 and says the work is kept
(``workers.tasks``); nothing else would ever send it, since the record looks like
any other queued one. The same holds for a message lost with a broker's state, and
for a document left ``processing`` by a task that gave up while the database was
down. :class:`Resender` heals all of them: called on the scheduler's tick, at most
once every ``every_s``, it sends again

- the ingestion of each document ``queued`` for longer than ``stale_after_s``, and
  of each document ``processing`` for longer than ``stuck_after_s``;
- each refresh run, and each re-index, ``queued`` for longer than ``stale_after_s``.

A resend may duplicate a message still waiting in a long queue; that is safe and
cheap: ingestion is idempotent (a second delivery of an ingested document finds its
content served and marks it unchanged), and a refresh run or a re-index delivered
twice runs once (``ingest.refresh.run_refresh``, ``ingest.reindex.run_reindex``). To
keep duplicates rare, each item is resent at most once per ``stale_after_s`` by this
resender, and only after it has been waiting that long. A send that fails (the broker
still down) is tried again on a later tick.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

from ingest.ports import Buckets, DocumentRegistry, RefreshLog
from ingest.records import Document
from ingest.reindex import ReindexLog
from kernel.errors import DependencyUnavailableError
from workers.tasks import enqueue_ingest, enqueue_refresh, enqueue_reindex

log = logging.getLogger(__name__)

STALE_AFTER_S = 600.0
# Longer than a task's retries with backoff take (8 retries, at most 5 minutes apart)
# and than any one parse: a document still processing then has lost its task.
STUCK_AFTER_S = 3600.0
EVERY_S = 60.0
_PAGE = 1000
_RECENT_RUNS = 5  # at most one refresh per bucket, one re-index, is queued or running


class Resender:
    """Resends stale queued work; call it with the current time (the scheduler's tick)."""

    def __init__(
        self,
        app: object,
        registry: DocumentRegistry,
        buckets: Buckets,
        runs: RefreshLog,
        reindexes: ReindexLog | None = None,
        *,
        stale_after_s: float = STALE_AFTER_S,
        stuck_after_s: float = STUCK_AFTER_S,
        every_s: float = EVERY_S,
    ) -> None:
        self._app = app
        self._registry = registry
        self._buckets = buckets
        self._runs = runs
        self._reindexes = reindexes
        self._stale = timedelta(seconds=stale_after_s)
        self._stuck = timedelta(seconds=stuck_after_s)
        self._every = timedelta(seconds=every_s)
        self._last_sweep: datetime | None = None
        self._sent: dict[str, datetime] = {}  # item id -> when this resender last sent it

    def __call__(self, now: datetime) -> list[str]:
        """Sweep if ``every_s`` has passed since the last sweep; returns the ids sent."""
        if self._last_sweep is not None and now - self._last_sweep < self._every:
            return []
        self._last_sweep = now
        self._sent = {k: t for k, t in self._sent.items() if now - t < self._stale}
        sent: list[str] = []
        try:
            for doc in self._waiting_documents(now):
                enqueue_ingest(self._app, doc.id, doc.size_bytes)
                self._sent[doc.id] = now
                sent.append(doc.id)
            for run_id in self._waiting_refreshes(now):
                enqueue_refresh(self._app, run_id)
                self._sent[run_id] = now
                sent.append(run_id)
            for run_id in self._waiting_reindexes(now):
                enqueue_reindex(self._app, run_id)
                self._sent[run_id] = now
                sent.append(run_id)
        except DependencyUnavailableError as exc:
            # Still down (the broker or the database): the next sweep tries again.
            log.warning("resending queued work stopped: %s", exc.message)
        if sent:
            log.info("resent %d queued item(s) whose task had not reached a worker", len(sent))
        return sent

    def _due(self, item_id: str, waiting_since: datetime, after: timedelta, now: datetime) -> bool:
        return now - waiting_since >= after and item_id not in self._sent

    def _waiting_documents(self, now: datetime) -> Iterator[Document]:
        for status, after in (("queued", self._stale), ("processing", self._stuck)):
            offset = 0
            while True:
                page = self._registry.list_documents(status=status, limit=_PAGE, offset=offset)
                for doc in page:
                    if self._due(doc.id, doc.updated_at, after, now):
                        yield doc
                if len(page) < _PAGE:
                    break
                offset += _PAGE

    def _waiting_refreshes(self, now: datetime) -> Iterator[str]:
        for bucket in self._buckets.list_buckets():
            for run in self._runs.list_runs(bucket.name, limit=_RECENT_RUNS):
                if run.status == "queued" and self._due(run.id, run.queued_at, self._stale, now):
                    yield run.id

    def _waiting_reindexes(self, now: datetime) -> Iterator[str]:
        if self._reindexes is None:
            return
        for run in self._reindexes.list_runs(limit=_RECENT_RUNS):
            if run.status == "queued" and self._due(run.id, run.queued_at, self._stale, now):
                yield run.id
