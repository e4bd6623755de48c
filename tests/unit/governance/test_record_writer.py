"""The answer-record writer: in order, behind the caller, never dropping a record.

Jobs block on events the test controls, so what ran where and when is decided by
the test, not by the scheduler; waits are generous and only bound a broken run.
"""

from __future__ import annotations

import threading

import pytest

from governance.record_writer import RecordWriter
from tests.held_writer import hold


def test_jobs_run_in_order_on_the_writer_thread_and_drain_waits_for_them() -> None:
    writer = RecordWriter(capacity=16)
    release = hold(writer)
    done: list[tuple[int, str]] = []
    for n in range(5):
        writer.submit(lambda n=n: done.append((n, threading.current_thread().name)))
    assert done == []  # the caller did not wait for its records
    assert writer.pending == 6
    release.set()
    writer.drain()
    assert [n for n, _ in done] == [0, 1, 2, 3, 4]
    assert {name for _, name in done} == {"ragline-answer-records"}
    assert writer.pending == 0
    writer.close()


def test_a_full_queue_makes_the_caller_write_its_own_record() -> None:
    writer = RecordWriter(capacity=2)
    release = hold(writer)
    where: dict[str, str] = {}
    for name in ("queued-1", "queued-2", "inline"):
        writer.submit(lambda name=name: where.setdefault(name, threading.current_thread().name))
    # The third found the queue full: it ran at once, in the caller's thread.
    assert where == {"inline": threading.current_thread().name}
    release.set()
    writer.drain()
    assert where["queued-1"] == where["queued-2"] == "ragline-answer-records"
    writer.close()


def test_close_writes_what_is_queued_and_later_records_are_written_inline() -> None:
    writer = RecordWriter(capacity=8)
    release = hold(writer)
    done: list[str] = []
    writer.submit(lambda: done.append("queued"))
    threading.Timer(0.05, release.set).start()
    writer.close()  # waits for the blocker, then the queued record
    assert done == ["queued"]
    writer.submit(lambda: done.append(threading.current_thread().name))
    assert done == ["queued", threading.current_thread().name]
    writer.close()  # idempotent


def test_capacity_zero_writes_every_record_inside_the_request() -> None:
    writer = RecordWriter(capacity=0)
    done: list[str] = []
    writer.submit(lambda: done.append(threading.current_thread().name))
    assert done == [threading.current_thread().name]
    writer.drain()
    writer.close()


def test_a_failing_record_is_logged_and_the_next_one_is_still_written(
    caplog: pytest.LogCaptureFixture,
) -> None:
    writer = RecordWriter(capacity=8)
    done: list[str] = []

    def broken() -> None:
        raise RuntimeError("disk full")

    writer.submit(broken)
    writer.submit(lambda: done.append("next"))
    writer.drain()
    assert done == ["next"]
    assert "an answer record could not be written" in caplog.text
    writer.close()


def test_a_record_job_that_reads_the_log_does_not_wait_for_itself() -> None:
    writer = RecordWriter(capacity=8)
    done: list[str] = []

    def reads() -> None:
        writer.drain()  # an audit read inside a job: the job is the one pending
        done.append("read")

    writer.submit(reads)
    writer.drain()
    assert done == ["read"]
    writer.close()


def test_drain_gives_up_on_a_wedged_writer_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    writer = RecordWriter(capacity=8, drain_timeout_s=0.2)
    release = hold(writer)
    writer.drain()  # returns though the blocker still runs
    assert writer.pending == 1
    assert "1 answer records still unwritten" in caplog.text
    release.set()
    writer.close()


def test_negative_capacity_is_refused() -> None:
    with pytest.raises(ValueError, match="capacity"):
        RecordWriter(capacity=-1)


def test_the_pending_gauge_counts_records_not_yet_written() -> None:
    from ragline.metrics_collectors import PendingRecords

    writer = RecordWriter(capacity=8)
    gauge = PendingRecords(lambda: writer.pending)

    def value() -> float:
        (family,) = gauge.collect()
        return float(family.samples[0].value)

    assert value() == 0
    release = hold(writer)
    writer.submit(lambda: None)
    assert value() == 2
    release.set()
    writer.drain()
    assert value() == 0
    writer.close()
