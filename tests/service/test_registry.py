from pathlib import Path

import pytest

from ingest.registry import Registry, document_id_for, fingerprint
from ragline.errors import ConflictError, NotFoundError

pytestmark = pytest.mark.service


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    reg = Registry(f"sqlite:///{tmp_path / 'r.db'}")
    reg.create_bucket("b", ["public"], None, None)
    return reg


def _register(reg: Registry, content_hash: str = "h1", roles: tuple[str, ...] = ("public",)):  # type: ignore[no-untyped-def]
    return reg.register(
        bucket="b",
        key="doc.txt",
        content_hash=content_hash,
        size_bytes=3,
        roles=roles,
        doc_type=None,
        title=None,
    )


def _index(reg: Registry, doc_id: str, version: int, content_hash: str = "h1") -> None:
    doc = reg.get(doc_id)
    reg.mark_indexed(
        doc_id,
        version=version,
        content_hash=content_hash,
        fingerprint=fingerprint(content_hash, doc.roles, doc.doc_type, doc.title),
        chunks=2,
        detected_type="generic",
        fmt="txt",
        title="Doc",
        parse_seconds=0.1,
    )


def test_duplicate_bucket_is_a_conflict(registry: Registry) -> None:
    with pytest.raises(ConflictError, match="already exists"):
        registry.create_bucket("b", ["x"], None, None)


def test_document_ids_are_stable_per_bucket_and_key(registry: Registry) -> None:
    first = _register(registry)
    assert first.needs_ingest
    assert first.document.id == document_id_for("b", "doc.txt")
    assert first.document.id != document_id_for("other", "doc.txt")


def test_unchanged_content_needs_nothing_changed_content_is_queued(registry: Registry) -> None:
    doc_id = _register(registry).document.id
    _index(registry, doc_id, 1)
    again = _register(registry)
    assert not again.needs_ingest and again.document.status == "indexed"
    changed = _register(registry, content_hash="h2")
    assert changed.needs_ingest and changed.document.status == "queued"


def test_changed_roles_requeue_even_with_same_content(registry: Registry) -> None:
    doc_id = _register(registry).document.id
    _index(registry, doc_id, 1)
    assert _register(registry, roles=("hr",)).needs_ingest


def test_served_versions_flip_only_when_indexed(registry: Registry) -> None:
    doc_id = _register(registry).document.id
    assert registry.served_versions([doc_id]) == {}
    _index(registry, doc_id, 1)
    assert registry.served_versions([doc_id]) == {doc_id: 1}
    _register(registry, content_hash="h2")
    assert registry.served_versions([doc_id]) == {doc_id: 1}  # still the old one
    _index(registry, doc_id, 2, "h2")
    assert registry.served_versions([doc_id, "unknown"]) == {doc_id: 2}


def test_failure_is_recorded_and_listed_and_keeps_serving_old_version(registry: Registry) -> None:
    doc_id = _register(registry).document.id
    _index(registry, doc_id, 1)
    _register(registry, content_hash="h2")
    registry.mark_failed(doc_id, code="corrupt_document", message="PDF is truncated")
    failed = registry.list_documents(status="failed")
    assert [(d.id, d.error_code, d.error) for d in failed] == [
        (doc_id, "corrupt_document", "PDF is truncated")
    ]
    assert registry.served_versions([doc_id]) == {doc_id: 1}


def test_delete_stops_serving(registry: Registry) -> None:
    doc_id = _register(registry).document.id
    _index(registry, doc_id, 1)
    registry.delete(doc_id)
    assert registry.served_versions([doc_id]) == {}
    with pytest.raises(NotFoundError):
        registry.get(doc_id)
