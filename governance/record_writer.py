"""Answer records written behind the answer, on one thread, in order.

Recording an answer means finding personal data in its question and answer (spaCy NER:
4.8 ms for a 15-word question, 12.7 ms for a three-sentence answer, measured on this
2-core machine with one other job on it) and appending a row to the hash-chained audit
log. Done inside the
request, that was as long as retrieval and extraction together. Here the request hands
the job over and returns; one writer thread redacts and appends, in submission order.

What this gives up, and what it keeps:
- A crash of the process (not a shutdown: ``close`` drains) loses the records still
  queued, milliseconds' worth on an idle service. An outage of the database already
  loses records (``governance.audit_answers``); this widens that by the queue, no more.
- Readers in this process never miss a record: ``drain`` is the audit log's ``settle``
  hook (``governance.audit_log``), run before every read, erasure and purge, so what an
  answer returned before the read began is in the log when the read runs.
- The queue is bounded: when it is full the caller writes its own record, so a burst
  slows answers down rather than growing memory or dropping records.
- The unredacted texts wait in memory only, never on disk, until their redaction runs.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

Job = Callable[[], None]


class RecordWriter:
    """A write-behind queue with one worker thread; jobs run in submission order.

    ``capacity`` 0 writes every record inline (the caller waits, as before this queue).
    """

    def __init__(self, *, capacity: int = 1024, drain_timeout_s: float = 30.0) -> None:
        if capacity < 0:
            raise ValueError("capacity must be >= 0")
        self._capacity = capacity
        self._drain_timeout_s = drain_timeout_s
        # One slot more than the capacity, so that the stop mark always fits.
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=capacity + 1)
        self._done = threading.Condition()
        self._submitted = 0  # jobs handed to the thread so far
        self._finished = 0  # of those, jobs run (or failed) so far
        self._thread: threading.Thread | None = None
        self._closed = False
        # Held while a job is queued and while closing: no job can land behind the stop.
        self._lock = threading.Lock()

    @property
    def pending(self) -> int:
        """Records handed over and not yet written (a gauge for the metrics)."""
        with self._done:
            return self._submitted - self._finished

    def submit(self, job: Job) -> None:
        """Run ``job`` on the writer thread; inline when full, closed or unbuffered."""
        queued = False
        with self._lock:
            if self._capacity and not self._closed and self._queue.qsize() < self._capacity:
                if self._thread is None:  # started on first use, never at construction
                    self._thread = threading.Thread(
                        target=self._work, name="ragline-answer-records", daemon=True
                    )
                    self._thread.start()
                with self._done:
                    self._submitted += 1
                self._queue.put_nowait(job)
                queued = True
        if not queued:
            _run(job)

    def drain(self) -> None:
        """Return once every job submitted before this call has run.

        Gives up after ``drain_timeout_s`` with a warning (a wedged database must not
        hang an audit read forever); the jobs stay queued.
        """
        if threading.current_thread() is self._thread:
            return  # a job that reads the log must not wait for itself
        deadline = time.monotonic() + self._drain_timeout_s
        with self._done:
            target = self._submitted
            while self._finished < target:
                left = deadline - time.monotonic()
                if left <= 0:
                    log.warning(
                        "%d answer records still unwritten after %.0f s",
                        target - self._finished,
                        self._drain_timeout_s,
                    )
                    return
                self._done.wait(left)

    def close(self) -> None:
        """Write what is queued, then stop the thread; later jobs run inline. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
            if thread is not None:
                self._queue.put_nowait(None)
        if thread is not None:
            thread.join(self._drain_timeout_s)
            if thread.is_alive():
                log.warning("the answer record writer did not stop in time; records may be lost")

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            _run(job)
            with self._done:
                self._finished += 1
                self._done.notify_all()


def _run(job: Job) -> None:
    try:
        job()
    except Exception:
        # The answer was given; a record that failed to write is an operator's log line.
        # What reaches the database is redacted before the append, and the shell's log
        # filter masks identifiers in every line.
        log.exception("an answer record could not be written")
