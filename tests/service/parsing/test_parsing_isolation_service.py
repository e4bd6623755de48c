"""IsolatedParser: one reused child, a time and memory limit, recovery after any death."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import parsing_documents as make
import psutil
import pytest
from parsing_doubles import MisbehavingParser, broken_factory

from ingest.parsing import IsolatedParser
from kernel.errors import CorruptDocumentError, DependencyUnavailableError, ParseLimitError

pytestmark = pytest.mark.service

#: The limits under test; the other limit of each parser is generous, so a busy
#: machine cannot trip it first.
TIMEOUT_S = 2.0
MEMORY_MB = 400
GENEROUS_TIMEOUT_S = 300.0
GENEROUS_MEMORY_MB = 4000


@pytest.fixture(scope="module")
def scratch_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("isolation") / "scratch"


@pytest.fixture(scope="module")
def doubled(scratch_root: Path) -> Iterator[IsolatedParser]:
    """Stopped at :data:`TIMEOUT_S`; its memory limit is not under test."""
    isolated = IsolatedParser(
        timeout_s=TIMEOUT_S,
        memory_mb=GENEROUS_MEMORY_MB,
        max_bytes=1_000_000,
        scratch_dir=scratch_root,
        parser_factory=MisbehavingParser,
        start_timeout_s=60,
    )
    yield isolated
    isolated.close()


@pytest.fixture(scope="module")
def hungry_limited(scratch_root: Path) -> Iterator[IsolatedParser]:
    """Stopped at :data:`MEMORY_MB`; its time limit is not under test."""
    isolated = IsolatedParser(
        timeout_s=GENEROUS_TIMEOUT_S,
        memory_mb=MEMORY_MB,
        max_bytes=1_000_000,
        scratch_dir=scratch_root,
        parser_factory=MisbehavingParser,
        start_timeout_s=60,
    )
    yield isolated
    isolated.close()


def order(tmp_path: Path, text: str, name: str = "order.txt") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def child_pid_in(text: str) -> int:
    return int(text.rsplit("pid ", 1)[1].rstrip(")"))


def test_one_child_serves_document_after_document(doubled: IsolatedParser, tmp_path: Path) -> None:
    first = doubled.parse(order(tmp_path, "ok first"))
    second = doubled.parse(order(tmp_path, "ok second"))
    assert first.text.startswith("first") and second.text.startswith("second")
    assert child_pid_in(first.text) == child_pid_in(second.text) == doubled.child_pid


def test_a_hung_document_is_stopped_at_the_time_limit(
    doubled: IsolatedParser, tmp_path: Path
) -> None:
    before = child_pid_in(doubled.parse(order(tmp_path, "ok warm")).text)
    started = time.monotonic()
    with pytest.raises(ParseLimitError) as caught:
        doubled.parse(order(tmp_path, "sleep 60"))
    assert caught.value.message == "parsing exceeded 2 s"
    assert time.monotonic() - started >= TIMEOUT_S
    assert not psutil.pid_exists(before) or psutil.Process(before).status() == psutil.STATUS_ZOMBIE
    after = doubled.parse(order(tmp_path, "ok next"))
    assert child_pid_in(after.text) != before


def test_helper_processes_die_with_the_child(doubled: IsolatedParser, tmp_path: Path) -> None:
    pidfile = tmp_path / "helper.pid"
    with pytest.raises(ParseLimitError, match="parsing exceeded"):
        doubled.parse(order(tmp_path, f"spawn-and-sleep {pidfile}"))
    helper = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while psutil.pid_exists(helper) and psutil.Process(helper).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the helper process outlived the child"
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("orders", "reason"),
    [("crash", "killed by SIGSEGV"), ("exit", "exit code 3")],
)
def test_a_child_that_dies_fails_only_that_document(
    doubled: IsolatedParser, tmp_path: Path, orders: str, reason: str
) -> None:
    with pytest.raises(CorruptDocumentError) as caught:
        doubled.parse(order(tmp_path, orders))
    assert caught.value.message == f"the parser process died on this document ({reason})"
    assert doubled.parse(order(tmp_path, "ok alive again")).text.startswith("alive again")


def test_a_document_over_the_memory_limit_is_stopped(
    hungry_limited: IsolatedParser, tmp_path: Path
) -> None:
    with pytest.raises(ParseLimitError) as caught:
        hungry_limited.parse(order(tmp_path, "eat 3000"))
    assert caught.value.message == f"parsing used more than {MEMORY_MB} MB of memory"
    assert hungry_limited.parse(order(tmp_path, "ok fine")).text.startswith("fine")


def test_an_unexpected_error_fails_the_document_but_keeps_the_child(
    doubled: IsolatedParser, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    before = doubled.parse(order(tmp_path, "ok before")).text
    with (
        caplog.at_level(logging.WARNING, logger="ingest.parsing.isolated"),
        pytest.raises(CorruptDocumentError) as caught,
    ):
        doubled.parse(order(tmp_path, "raise", name="surprise.txt"))
    assert caught.value.message == "the parser failed on this document"
    logged = caplog.text
    assert "surprise.txt" in logged and "KeyError: 'surprise'" in logged
    after = doubled.parse(order(tmp_path, "ok after")).text
    assert child_pid_in(before) == child_pid_in(after)


def test_parse_from_many_threads_gets_each_caller_its_own_result(
    doubled: IsolatedParser, tmp_path: Path
) -> None:
    results: dict[int, str] = {}
    failures: list[BaseException] = []

    def work(number: int) -> None:
        try:
            path = order(tmp_path, f"ok document-{number}", name=f"order-{number}.txt")
            results[number] = doubled.parse(path).text
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    assert {n: text.split(" ")[0] for n, text in results.items()} == {
        n: f"document-{n}" for n in range(8)
    }


def test_close_ends_the_child_and_is_idempotent(tmp_path: Path) -> None:
    isolated = IsolatedParser(
        timeout_s=GENEROUS_TIMEOUT_S,
        memory_mb=GENEROUS_MEMORY_MB,
        max_bytes=1_000,
        scratch_dir=tmp_path / "scratch",
        parser_factory=MisbehavingParser,
    )
    assert isolated.child_pid is None  # started lazily
    isolated.parse(order(tmp_path, "ok started"))
    pid = isolated.child_pid
    assert pid is not None
    isolated.close()
    isolated.close()
    assert isolated.child_pid is None
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    with pytest.raises(RuntimeError, match="closed"):
        isolated.parse(order(tmp_path, "ok again"))


def test_a_child_that_cannot_start_is_a_dependency_failure(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    isolated = IsolatedParser(
        timeout_s=GENEROUS_TIMEOUT_S,
        memory_mb=GENEROUS_MEMORY_MB,
        max_bytes=1_000,
        scratch_dir=tmp_path / "scratch",
        parser_factory=broken_factory,
    )
    with (
        caplog.at_level(logging.ERROR, logger="ingest.parsing.isolated"),
        pytest.raises(DependencyUnavailableError) as caught,
    ):
        isolated.parse(order(tmp_path, "ok never"))
    assert caught.value.message == (
        "the document parser could not start: it failed while loading (details in the log)"
    )
    assert "RuntimeError: model files are missing" in caplog.text
    isolated.close()


def test_the_real_parser_is_stopped_at_the_time_limit_and_recovers(tmp_path: Path) -> None:
    """Forty scanned pages, with 0.05 s allowed without progress: no step gets that far.

    The limit counts from the last progress report, and the PDF reader reports after
    each batch of pages and each OCR page; drawing a page at 300 DPI and starting
    tesseract on it alone take longer than 0.05 s on any CPU, so OCR is cut short
    (on a fast machine, perhaps a few pages in: the message then says where).
    """
    with IsolatedParser(
        timeout_s=0.05,
        memory_mb=GENEROUS_MEMORY_MB,
        max_bytes=5_000_000,
        scratch_dir=tmp_path / "scratch",
    ) as isolated:
        isolated.start()
        first_child = isolated.child_pid
        scan = make.scanned_pdf(
            tmp_path / "scan.pdf", ["Slow to read without a text layer"], pages=40
        )
        stalled = r"^parsing exceeded 0.05 s( without progress after page \d+ of 40)?$"
        with pytest.raises(ParseLimitError, match=stalled):
            isolated.parse(scan)
        note = order(tmp_path, "A short note that parses quickly.", name="note.txt")
        assert isolated.parse(note).text == "A short note that parses quickly."
        assert isolated.child_pid not in (None, first_child)


def test_a_child_is_forked_warm_from_a_server_that_loaded_the_parsing_stack(
    doubled: IsolatedParser, tmp_path: Path
) -> None:
    """Not spawned cold by the service: the double imports nothing, yet the parsing
    stack is in its memory, its parent is the fork server, and the heap it inherited
    is frozen out of its garbage collector (a first collection copied it page by page)."""
    answer = json.loads(doubled.parse(order(tmp_path, "loaded")).text)
    assert answer["parent"] != os.getpid()
    assert answer["loaded"] == {"unstructured.partition.pdf": True, "spacy": True}
    assert answer["frozen"] > 0
