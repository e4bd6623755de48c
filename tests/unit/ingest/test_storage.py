import io
from pathlib import Path

import pytest

from ingest.storage import LocalBucketStore, safe_key
from kernel.errors import InvalidInputError, PayloadTooLargeError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("name", ["../etc/passwd", "a/../../b", "", "/", ".."])
def test_traversal_and_empty_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidInputError):
        safe_key(name)


def test_safe_key_keeps_folders_and_escapes_unsafe_characters() -> None:
    assert safe_key("/docs/2024/report<1>.pdf") == "docs/2024/report<1>.pdf"
    assert safe_key("C:\\Users\\me\\notes.txt") == "C:%5CUsers%5Cme%5Cnotes.txt"


def test_write_streams_hashes_and_places_the_object(tmp_path: Path) -> None:
    store = LocalBucketStore(tmp_path / "buckets", tmp_path / "derived")
    obj = store.write("b", None, "x/y.txt", io.BytesIO(b"hello"), max_bytes=10)
    assert obj.path == tmp_path / "buckets" / "b" / "x" / "y.txt"
    assert obj.path.read_bytes() == b"hello"
    assert obj.size_bytes == 5
    assert obj.content_hash == ("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")


def test_oversized_upload_is_refused_and_leaves_nothing_behind(tmp_path: Path) -> None:
    store = LocalBucketStore(tmp_path / "buckets", tmp_path / "derived")
    with pytest.raises(PayloadTooLargeError):
        store.write("b", None, "big.bin", io.BytesIO(b"x" * 100), max_bytes=10)
    assert list((tmp_path / "buckets" / "b").iterdir()) == []


def test_bucket_with_a_source_folder_writes_there(tmp_path: Path) -> None:
    store = LocalBucketStore(tmp_path / "buckets", tmp_path / "derived")
    source = tmp_path / "mine"
    obj = store.write("b", str(source), "a.txt", io.BytesIO(b"1"), max_bytes=10)
    assert obj.path == source / "a.txt"
