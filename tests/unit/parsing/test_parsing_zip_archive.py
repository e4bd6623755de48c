"""Plain zip archives taken apart: paths kept, traversal refused, nesting bounded."""

from __future__ import annotations

import io
import zipfile

import pytest

from ingest.parsing.zip_archive import MAX_DEPTH, parse_zip
from kernel.errors import EmptyDocumentError

pytestmark = pytest.mark.unit


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def names(data: bytes) -> list[str]:
    return [a.filename for a in parse_zip(data).attachments]


def listing(data: bytes) -> str:
    return "\n".join(e.text for e in parse_zip(data).elements)


def test_traversal_and_absolute_paths_are_refused_and_said_so() -> None:
    data = zip_of(
        {
            "ok/a.txt": b"a",
            "../evil.txt": b"x",
            "ok/../../evil2.txt": b"x",
            "/etc/passwd": b"x",
            "C:/Windows/x.txt": b"x",
            "..\\win.txt": b"x",
        }
    )
    assert names(data) == ["ok/a.txt"]
    text = listing(data)
    for refused in ("../evil.txt", "ok/../../evil2.txt", "/etc/passwd", "C:/Windows/x.txt"):
        assert f"{refused} (refused: its path leaves the archive)" in text


def test_dot_segments_and_backslashes_are_tidied() -> None:
    assert names(zip_of({"./docs\\guide.md": b"# G"})) == ["docs/guide.md"]


def test_archiver_junk_is_skipped_quietly() -> None:
    data = zip_of(
        {"a.txt": b"a", "__MACOSX/._a.txt": b"x", "sub/.DS_Store": b"x", "Thumbs.db": b"x"}
    )
    assert names(data) == ["a.txt"]
    assert "MACOSX" not in listing(data)


def test_nested_zips_open_in_place_up_to_the_depth_limit() -> None:
    inner = zip_of({"leaf.txt": b"leaf"})
    for _ in range(MAX_DEPTH):  # one level too many in the end
        inner = zip_of({"next.zip": inner, "here.txt": b"here"})
    data = inner
    got = names(data)
    assert sorted(got) == ["here.txt", "next.zip/here.txt", "next.zip/next.zip/here.txt"]
    assert not any(name.endswith("leaf.txt") for name in got)
    assert "nested deeper than" in listing(data)


def test_an_office_file_inside_is_a_file_not_a_folder() -> None:
    docx = zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"})
    assert names(zip_of({"report.docx": docx})) == ["report.docx"]


def test_a_damaged_nested_zip_is_handed_on_to_fail_on_its_own() -> None:
    assert names(zip_of({"broken.zip": b"PK\x03\x04garbage"})) == ["broken.zip"]


@pytest.mark.parametrize(
    "members", [{"folder/": b""}, {"../only-evil.txt": b"x"}, {"__MACOSX/._a": b"x"}]
)
def test_nothing_readable_is_an_empty_document(members: dict[str, bytes]) -> None:
    with pytest.raises(EmptyDocumentError):
        parse_zip(zip_of(members))


def test_the_archive_is_not_titled_by_its_listing() -> None:
    assert parse_zip(zip_of({"a.txt": b"a"})).elements[0].kind == "text"


def encrypted(data: bytes) -> bytes:
    """The archive with every member flagged as password protected (zipfile writes none)."""
    patched = bytearray(data)
    for marker, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (found := patched.find(marker, start)) != -1:
            patched[found + flag_at] |= 0x1
            start = found + 4
    return bytes(patched)


def test_an_archive_of_only_protected_files_is_encrypted() -> None:
    from kernel.errors import EncryptedDocumentError

    with pytest.raises(EncryptedDocumentError):
        parse_zip(encrypted(zip_of({"a.txt": b"a", "b.txt": b"b"})))


def test_a_protected_member_is_listed_and_the_others_read() -> None:
    inner = encrypted(zip_of({"secret.txt": b"s"}))
    data = zip_of({"a.txt": b"a", "locked.zip": inner})
    assert names(data) == ["a.txt"]
    assert "locked.zip/secret.txt (not read: password protected)" in listing(data)
