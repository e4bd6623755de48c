"""Parsing's temporary files stay in a private scratch folder and never outlive a child.

The parent's ``TMPDIR`` points at a folder standing in for the system temp
folder: a child that inherited it (rather than using its scratch folder) would
leave its files there, where other local users could read them.
"""

from __future__ import annotations

import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import parsing_documents as make
import pytest
from parsing_doubles import MisbehavingParser

from ingest.parsing import IsolatedParser
from kernel.errors import ParseLimitError

pytestmark = pytest.mark.service

#: Above any pid the kernel hands out (pid_max is at most 2**22).
DEAD_PID = 2**22 + 17


@pytest.fixture
def system_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "system-tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", None)
    yield folder


def everything_under(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def order(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "order.txt"
    path.write_text(text)
    return path


def test_temporary_files_go_to_a_private_folder_cleared_after_each_document(
    system_tmp: Path, tmp_path: Path
) -> None:
    scratch = tmp_path / "data" / "scratch"
    with IsolatedParser(
        timeout_s=300,
        memory_mb=4000,
        max_bytes=1_000,
        scratch_dir=scratch,
        parser_factory=MisbehavingParser,
    ) as isolated:
        text = isolated.parse(order(tmp_path, "litter")).text
        left_at = Path(text.split(" (pid ")[0])
        # Files 0600 and folders 0700, a helper program's too (tesseract's tess_* was 0644).
        modes = text.split(" (modes ")[1].rstrip(")").split()
        assert len(modes) == 4 and set(modes) <= {"600", "700"}, modes
        child = isolated.child_pid
        assert child is not None
        assert left_at.parent == scratch / str(child)
        assert everything_under(system_tmp) == []
        assert stat.S_IMODE(scratch.stat().st_mode) == 0o700
        assert stat.S_IMODE(left_at.parent.stat().st_mode) == 0o700
        assert everything_under(scratch) == [str(child)]  # emptied once the document is done
    assert everything_under(scratch) == []


def test_a_child_killed_at_the_time_limit_leaves_no_files(system_tmp: Path, tmp_path: Path) -> None:
    scratch = tmp_path / "data" / "scratch"
    with IsolatedParser(
        timeout_s=2,
        memory_mb=4000,
        max_bytes=1_000,
        scratch_dir=scratch,
        parser_factory=MisbehavingParser,
    ) as isolated:
        with pytest.raises(ParseLimitError):
            isolated.parse(order(tmp_path, "litter-and-sleep"))
        assert everything_under(system_tmp) == []
        assert everything_under(scratch) == []


def test_start_up_sweeps_the_scratch_of_dead_processes_only(tmp_path: Path) -> None:
    scratch = tmp_path / "data" / "scratch"
    stale = scratch / str(DEAD_PID)
    stale.mkdir(parents=True)
    (stale / "tess_abc.png").write_bytes(b"image")
    (scratch / "ragline-ocr-stray.pdf").write_bytes(b"page copy")
    live = scratch / "1"  # init: always running, never ours to sweep
    live.mkdir()
    (live / "in-use.png").write_bytes(b"image")
    scratch.chmod(0o755)

    with IsolatedParser(
        timeout_s=300,
        memory_mb=4000,
        max_bytes=1_000,
        scratch_dir=scratch,
        parser_factory=MisbehavingParser,
    ):
        assert everything_under(scratch) == ["1", "1/in-use.png"]
        assert stat.S_IMODE(scratch.stat().st_mode) == 0o700


def test_ocr_of_a_scanned_pdf_leaves_nothing_behind(system_tmp: Path, tmp_path: Path) -> None:
    scratch = tmp_path / "data" / "scratch"
    scan = make.scanned_pdf(tmp_path / "scan.pdf", ["Scanned invoice number 4711"])
    with IsolatedParser(
        timeout_s=300, memory_mb=4000, max_bytes=5_000_000, scratch_dir=scratch
    ) as isolated:
        document = isolated.parse(scan)
        assert "4711" in document.text
        assert everything_under(system_tmp) == []
        assert everything_under(scratch) == [str(isolated.child_pid)]
    assert everything_under(scratch) == []


def test_the_real_parser_killed_during_ocr_leaves_nothing_behind(
    system_tmp: Path, tmp_path: Path
) -> None:
    """Killed 0.2 s into the page's OCR: drawing it and tesseract take about 0.5 s on a quiet core.

    Reading the page's (empty) text layer takes about 0.05 s and reports no page done,
    so the clock is not restarted before OCR; one page, since each OCR'd page is progress.
    """
    scratch = tmp_path / "data" / "scratch"
    scan = make.scanned_pdf(tmp_path / "scan.pdf", ["Slow to read without a text layer"] * 8)
    with IsolatedParser(
        timeout_s=0.2, memory_mb=4000, max_bytes=5_000_000, scratch_dir=scratch
    ) as isolated:
        isolated.start()
        with pytest.raises(ParseLimitError):
            isolated.parse(scan)
        assert everything_under(system_tmp) == []
        assert everything_under(scratch) == []
