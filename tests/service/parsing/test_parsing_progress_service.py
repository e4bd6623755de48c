"""IsolatedParser's time limit is a limit on progress: long steady parses succeed, stalls die.

The parser child forwards each progress report of the reader (pages done) to the
parent; ``timeout_s`` is counted from the last report that moved forward, and
``total_timeout_s`` bounds the whole document.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import parsing_documents as make
import psutil
import pytest
from parsing_doubles import MisbehavingParser

from ingest.parsing import IsolatedParser
from kernel.errors import ParseLimitError

pytestmark = pytest.mark.service

#: The no-progress limit under test; a double's part takes a quarter of it.
TIMEOUT_S = 2.0
GENEROUS_MEMORY_MB = 4000


@pytest.fixture(scope="module")
def doubled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IsolatedParser]:
    isolated = IsolatedParser(
        timeout_s=TIMEOUT_S,
        total_timeout_s=300,
        memory_mb=GENEROUS_MEMORY_MB,
        max_bytes=1_000_000,
        scratch_dir=tmp_path_factory.mktemp("progress") / "scratch",
        parser_factory=MisbehavingParser,
        start_timeout_s=60,
    )
    yield isolated
    isolated.close()


def order(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "order.txt"
    path.write_text(text)
    return path


def assert_gone(pid: int | None) -> None:
    assert pid is not None
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_a_parse_progressing_past_the_time_limit_succeeds(
    doubled: IsolatedParser, tmp_path: Path
) -> None:
    """Eight parts of half a second each: 4 s in all, twice the limit, 0.5 s between reports."""
    document = doubled.parse(order(tmp_path, "progress 8 0.5"))
    assert document.text.startswith("8 0.5 (pid ")


def test_parts_counted_from_one_again_are_progress(doubled: IsolatedParser, tmp_path: Path) -> None:
    """Two PDFs in one zip: six parts of 0.5 s, twice; the second round (3 s) counts again."""
    document = doubled.parse(order(tmp_path, "progress 6 0.5 2"))
    assert document.text.startswith("6 0.5 2 (pid ")


def test_a_parse_that_stops_reporting_is_killed(doubled: IsolatedParser, tmp_path: Path) -> None:
    pid = doubled.parse(order(tmp_path, "ok warm")).text.rsplit("pid ", 1)[1].rstrip(")")
    with pytest.raises(ParseLimitError) as caught:
        doubled.parse(order(tmp_path, "progress-then-hang 3"))
    assert caught.value.code == "parse_limit_exceeded"
    assert caught.value.message == "parsing exceeded 2 s without progress after page 3 of 6"
    assert_gone(int(pid))
    assert doubled.parse(order(tmp_path, "ok next")).text.startswith("next")


def test_reporting_the_same_page_again_is_not_progress(
    doubled: IsolatedParser, tmp_path: Path
) -> None:
    with pytest.raises(ParseLimitError) as caught:
        doubled.parse(order(tmp_path, "progress-repeated"))
    assert caught.value.message == "parsing exceeded 2 s without progress after page 1 of 10"


def test_a_steadily_progressing_parse_still_stops_at_the_total_limit(tmp_path: Path) -> None:
    """Forty parts of 0.2 s: 8 s in all, past the 3 s ceiling, never 2 s without progress."""
    with IsolatedParser(
        timeout_s=TIMEOUT_S,
        total_timeout_s=3,
        memory_mb=GENEROUS_MEMORY_MB,
        max_bytes=1_000,
        scratch_dir=tmp_path / "scratch",
        parser_factory=MisbehavingParser,
        start_timeout_s=60,
    ) as isolated:
        with pytest.raises(
            ParseLimitError, match=r"^parsing exceeded 3 s in all after page \d+ of 40$"
        ):
            isolated.parse(order(tmp_path, "progress 40 0.2"))
        assert isolated.parse(order(tmp_path, "ok recovered")).text.startswith("recovered")


def test_the_total_limit_cannot_be_below_the_progress_limit(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="total_timeout_s must be at least timeout_s"):
        IsolatedParser(
            timeout_s=10,
            total_timeout_s=5,
            memory_mb=GENEROUS_MEMORY_MB,
            max_bytes=1_000,
            scratch_dir=tmp_path / "scratch",
        )


def test_a_long_pdf_read_in_page_batches_outlasts_the_time_limit(tmp_path: Path) -> None:
    """The real parser on 400 generated pages with a 3 s limit on progress.

    Twenty batches of twenty pages: each is a fraction of a second (under 0.5 s on
    two busy cores), the whole about ten seconds, well past 3 s, so a limit on the
    whole document would fail it. Every page's text arrives, in page order.
    """
    pages = [
        [f"Harbour {n}", f"The tide table for harbour {n} is kept in drawer {n % 7}."]
        for n in range(1, 401)
    ]
    pdf = make.text_pdf(tmp_path / "harbours.pdf", pages)
    with IsolatedParser(
        timeout_s=3,
        memory_mb=GENEROUS_MEMORY_MB,
        max_bytes=5_000_000,
        scratch_dir=tmp_path / "scratch",
    ) as isolated:
        isolated.start()
        document = isolated.parse(pdf)
    texts = [e.text for e in document.elements if e.kind != "page_break"]
    assert [t for t in texts if t.startswith("Harbour ")] == [f"Harbour {n}" for n in range(1, 401)]
    assert sum("tide table for harbour" in t for t in texts) == 400
    assert {e.page for e in document.elements if e.text.startswith("Harbour ")} == set(
        range(1, 401)
    )
