"""The unseen-corpus manifest is well-formed, so `fetch` and `run` can trust it.

No network: the documents are fetched only on demand; this reads the committed JSON
through the benchmark's own loader and checks what the loader does not.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from benchmarks.unseen_corpus import MANIFEST, OUTCOMES, REGISTRIES, load_manifest

pytestmark = pytest.mark.service

SHA256 = re.compile(r"^[0-9a-f]{64}$")
ERROR_CODES = {
    "encrypted_document",
    "empty_document",
    "corrupt_document",
    "unsupported_format",
    "parse_limit_exceeded",
}


def test_every_entry_has_its_source_checksum_licence_and_expectations() -> None:
    raw = json.loads(MANIFEST.read_text())["files"]
    entries = load_manifest()
    assert len(entries) == len(raw) >= 25
    for entry in entries:
        assert entry.source.registry in REGISTRIES, entry.name
        assert entry.source.package and entry.source.version and entry.source.member, entry.name
        assert SHA256.match(entry.sha256), entry.name
        assert entry.licence.strip(), entry.name
        assert entry.expect.outcome in OUTCOMES, entry.name
        if entry.expect.outcome == "failed":
            assert entry.expect.error_code in ERROR_CODES, entry.name
        else:
            assert entry.expect.error_code is None, entry.name
            assert entry.expect.min_chunks >= 1, entry.name
            assert entry.expect.phrases, f"{entry.name}: an indexed file needs phrases"
            assert all(p.strip() for p in entry.expect.phrases), entry.name
            if entry.expect.max_chunks is not None:
                assert entry.expect.max_chunks >= entry.expect.min_chunks, entry.name


def test_names_are_unique_plain_file_names_with_the_format_as_suffix() -> None:
    entries = load_manifest()
    names = [e.name for e in entries]
    assert len(set(names)) == len(names)
    for entry in entries:
        assert Path(entry.name).name == entry.name, entry.name
        suffix = Path(entry.name).suffix.lstrip(".").lower()
        assert suffix in {entry.format, {"tiff": "tif"}.get(entry.format)}, entry.name


def test_the_corpus_covers_at_least_ten_formats_and_both_outcomes() -> None:
    entries = load_manifest()
    formats = {e.format for e in entries}
    assert len(formats) >= 10, sorted(formats)
    assert {"pdf", "docx", "xlsx", "eml", "msg", "zip"} <= formats
    assert {e.expect.outcome for e in entries} == set(OUTCOMES)
    assert any(e.expect.table_header for e in entries)


def test_a_malformed_entry_is_refused_by_name(tmp_path: Path) -> None:
    broken = tmp_path / "manifest.json"
    broken.write_text(json.dumps({"files": [{"name": "x.pdf", "format": "pdf"}]}))
    with pytest.raises(ValueError, match=r"x\.pdf"):
        load_manifest(broken)
