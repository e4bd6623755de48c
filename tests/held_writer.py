"""Hold a ``RecordWriter``'s thread with a job the test releases, so each test decides
whether a queued record has been written when its next step runs."""

from __future__ import annotations

import threading

from governance.record_writer import RecordWriter

WAIT_S = 60.0


def hold(writer: RecordWriter) -> threading.Event:
    """Occupy the writer thread (it is running the job on return) until the event is set."""
    started, release = threading.Event(), threading.Event()

    def job() -> None:
        started.set()
        assert release.wait(WAIT_S)

    writer.submit(job)
    assert started.wait(WAIT_S)
    return release
