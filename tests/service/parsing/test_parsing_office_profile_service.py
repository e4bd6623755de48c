"""A parser child converts every DOC, PPT and ODP with one LibreOffice profile.

Creating a profile is part of every soffice run that has none, so the child
keeps one in its scratch folder's ``kept`` folder for all its documents and it
goes with the child. A profile a crashed soffice left damaged is replaced by a
fresh one for the document that found it; a damaged document is not retried.
soffice rewrites the profile's ``registrymodifications.xcu`` on every run,
which shows which profile a conversion used. The files are written with
python-docx and python-pptx and saved as DOC and PPT by LibreOffice here.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from parsing_documents import saved_by_libreoffice

from ingest.parsing import IsolatedParser
from ingest.parsing.office_convert import convert_with_libreoffice
from kernel.errors import CorruptDocumentError

pytestmark = pytest.mark.service

MAX_BYTES = 20_000_000
PROFILE = Path("kept") / "libreoffice-profile"
SETTINGS = Path("user") / "registrymodifications.xcu"


@pytest.fixture
def scratch_root(tmp_path: Path) -> Path:
    return tmp_path / "data" / "scratch"


@pytest.fixture
def parser(scratch_root: Path) -> Iterator[IsolatedParser]:
    with IsolatedParser(
        timeout_s=120, memory_mb=3072, max_bytes=MAX_BYTES, scratch_dir=scratch_root
    ) as isolated:
        yield isolated


def memo(folder: Path) -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = "Harbour memo"
    document.add_paragraph("The North Harbour crane is back in service from Monday.")
    folder.mkdir(parents=True, exist_ok=True)
    document.save(str(folder / "memo.docx"))
    saved: Path = saved_by_libreoffice(folder / "memo.docx", "doc:MS Word 97", folder)
    return saved


def deck(folder: Path) -> Path:
    from pptx import Presentation

    presentation = Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[1])
    slide.shapes.title.text = "Bergen office"
    slide.placeholders[1].text = "Opens in March with twelve desks"
    folder.mkdir(parents=True, exist_ok=True)
    presentation.save(str(folder / "deck.pptx"))
    saved: Path = saved_by_libreoffice(folder / "deck.pptx", "ppt:MS PowerPoint 97", folder)
    return saved


def damaged(doc: Path) -> Path:
    """``doc`` with its text stream replaced by noise: LibreOffice cannot load it."""
    import olefile

    copy = doc.with_name("damaged.doc")
    copy.write_bytes(doc.read_bytes())
    noise = random.Random(7)
    with olefile.OleFileIO(str(copy), write_mode=True) as ole:
        size = ole.get_size("WordDocument")
        ole.write_stream("WordDocument", bytes(noise.randrange(256) for _ in range(size)))
    return copy


def child_folder(parser: IsolatedParser, scratch_root: Path) -> Path:
    pid = parser.child_pid
    assert pid is not None
    return scratch_root / str(pid)


def test_a_child_converts_every_document_with_one_profile_removed_when_it_stops(
    parser: IsolatedParser, scratch_root: Path, tmp_path: Path
) -> None:
    doc, ppt = memo(tmp_path / "memo"), deck(tmp_path / "deck")

    first = parser.parse(doc)
    folder = child_folder(parser, scratch_root)
    profile = folder / PROFILE
    assert (profile / SETTINGS).is_file()
    assert sorted(entry.name for entry in folder.iterdir()) == ["kept"]  # the rest cleared
    (profile / "marker").write_text("made by the first conversion")
    (profile / SETTINGS).unlink()

    second = parser.parse(ppt)
    assert child_folder(parser, scratch_root) == folder
    assert (profile / "marker").read_text() == "made by the first conversion"  # not made anew
    assert (profile / SETTINGS).is_file()  # written again: the second soffice ran on it
    assert "The North Harbour crane is back in service from Monday." in first.text
    assert [(e.kind, e.text) for e in second.elements][:2] == [
        ("title", "Bergen office"),
        ("list_item", "Opens in March with twelve desks"),
    ]

    parser.close()
    assert not folder.exists()
    assert list(scratch_root.iterdir()) == []


def test_a_killed_childs_profile_goes_with_its_scratch(
    parser: IsolatedParser, scratch_root: Path, tmp_path: Path
) -> None:
    doc = memo(tmp_path / "memo")
    parser.parse(doc)
    killed = child_folder(parser, scratch_root)
    assert (killed / PROFILE / SETTINGS).is_file()
    os.kill(int(killed.name), signal.SIGKILL)
    deadline = time.monotonic() + 30
    while parser.child_pid is not None and time.monotonic() < deadline:
        time.sleep(0.05)

    again = parser.parse(doc)  # a new child, with a profile of its own
    assert not killed.exists()
    replacement = child_folder(parser, scratch_root)
    assert replacement != killed
    assert (replacement / PROFILE / SETTINGS).is_file()
    assert sorted(entry.name for entry in scratch_root.iterdir()) == [replacement.name]
    assert "The North Harbour crane is back in service from Monday." in again.text


def test_a_damaged_profile_is_replaced_but_a_damaged_document_is_not_retried(
    parser: IsolatedParser, scratch_root: Path, tmp_path: Path
) -> None:
    doc = memo(tmp_path / "memo")
    parser.parse(doc)
    profile = child_folder(parser, scratch_root) / PROFILE
    registries = sorted(profile.rglob("backenddb.xml"))
    assert registries
    for registry in registries:  # soffice aborts on these ("Unspecified Application Error")
        registry.write_text("not xml")
    (profile / "marker").write_text("the damaged profile")

    converted = parser.parse(doc)
    assert "The North Harbour crane is back in service from Monday." in converted.text
    assert not (profile / "marker").exists()  # converted with a fresh profile, kept for the next
    assert (profile / SETTINGS).is_file()
    assert all("not xml" not in path.read_text() for path in profile.rglob("backenddb.xml"))

    (profile / "marker").write_text("a sound profile")
    with pytest.raises(CorruptDocumentError) as caught:
        parser.parse(damaged(doc))
    assert caught.value.message == "DOC file is damaged or truncated"
    assert (profile / "marker").read_text() == "a sound profile"  # one run, profile kept


def test_in_process_a_conversion_makes_its_profile_in_its_own_folder(tmp_path: Path) -> None:
    doc = memo(tmp_path / "memo")
    folder = tmp_path / "conversion"
    folder.mkdir()

    converted = convert_with_libreoffice(doc, "doc", "docx", folder)

    assert converted == folder / "out" / "document.docx"
    assert converted.stat().st_size > 0
    assert (folder / "profile" / SETTINGS).is_file()
