from pathlib import Path

import pytest

from ingest.bucket_catalog import BucketCatalog
from ingest.records import ServedDocument, document_id_for, fingerprint
from ingest.registry import Registry
from kernel.errors import ConflictError, NotFoundError, SupersededError

pytestmark = pytest.mark.service


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    reg = Registry(f"sqlite:///{tmp_path / 'r.db'}")
    BucketCatalog(reg.engine).create_bucket("b", ["public"], None, None)
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
    _mark_indexed(reg, doc_id, version, content_hash, doc.roles, doc.incarnation)


def _mark_indexed(  # type: ignore[no-untyped-def]
    reg: Registry, doc_id, version, content_hash, roles, incarnation
) -> None:
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
        built_roles=roles,
        incarnation=incarnation,
    )


def _versions(reg: Registry, ids: list[str]) -> dict[str, int]:
    return {doc_id: served.version for doc_id, served in reg.served(ids).items()}


def test_duplicate_bucket_is_a_conflict(registry: Registry) -> None:
    with pytest.raises(ConflictError, match="already exists"):
        BucketCatalog(registry.engine).create_bucket("b", ["x"], None, None)


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
    assert _versions(registry, [doc_id]) == {}
    _index(registry, doc_id, 1)
    assert _versions(registry, [doc_id]) == {doc_id: 1}
    _register(registry, content_hash="h2")
    assert _versions(registry, [doc_id]) == {doc_id: 1}  # still the old one
    _index(registry, doc_id, 2, "h2")
    assert _versions(registry, [doc_id, "unknown"]) == {doc_id: 2}


def test_failure_is_recorded_and_listed_and_keeps_serving_old_version(registry: Registry) -> None:
    doc_id = _register(registry).document.id
    _index(registry, doc_id, 1)
    _register(registry, content_hash="h2")
    registry.mark_failed(doc_id, code="corrupt_document", message="PDF is truncated")
    failed = registry.list_documents(status="failed")
    assert [(d.id, d.error_code, d.error) for d in failed] == [
        (doc_id, "corrupt_document", "PDF is truncated")
    ]
    assert _versions(registry, [doc_id]) == {doc_id: 1}


def test_delete_stops_serving(registry: Registry) -> None:
    doc_id = _register(registry).document.id
    _index(registry, doc_id, 1)
    registry.delete(doc_id)
    assert _versions(registry, [doc_id]) == {}
    with pytest.raises(NotFoundError):
        registry.get(doc_id)


def test_versions_never_repeat_for_an_id_even_after_delete(registry: Registry) -> None:
    doc_id = _register(registry).document.id
    first = registry.next_version(doc_id)
    second = registry.next_version(doc_id)  # a retry: a new version, not the same one
    assert (first, second) == (1, 2)
    _mark_indexed(registry, doc_id, 2, "h1", ("public",), registry.get(doc_id).incarnation)
    registry.delete(doc_id)
    again = _register(registry, roles=("hr",)).document
    assert again.id == doc_id
    assert registry.next_version(doc_id) == 3


def test_an_attempt_claimed_before_a_delete_cannot_commit_into_the_new_document(
    registry: Registry,
) -> None:
    doc_id = _register(registry).document.id
    stale = registry.mark_processing(doc_id)
    version = registry.next_version(doc_id)
    registry.delete(doc_id)
    _register(registry, roles=("hr",))
    with pytest.raises(NotFoundError, match="deleted meanwhile"):
        _mark_indexed(registry, doc_id, version, "h1", ("public",), stale.incarnation)
    assert registry.served([doc_id]) == {}


def test_a_slower_attempt_cannot_replace_a_newer_served_version(registry: Registry) -> None:
    doc_id = _register(registry).document.id
    incarnation = registry.mark_processing(doc_id).incarnation
    slow, fast = registry.next_version(doc_id), registry.next_version(doc_id)
    _mark_indexed(registry, doc_id, fast, "h1", ("public",), incarnation)
    with pytest.raises(SupersededError):
        _mark_indexed(registry, doc_id, slow, "h1", ("public",), incarnation)
    assert _versions(registry, [doc_id]) == {doc_id: fast}


def test_narrowed_roles_apply_to_the_served_version_at_registration(registry: Registry) -> None:
    doc_id = _register(registry, roles=("public", "hr")).document.id
    _index(registry, doc_id, 1)
    assert registry.served([doc_id]) == {doc_id: ServedDocument(1, frozenset({"public", "hr"}))}
    narrowed = _register(registry, content_hash="h2", roles=("hr",))
    assert narrowed.roles_changed == (doc_id,)
    # The new content is only queued, yet the served version is hr-only already.
    assert registry.served([doc_id]) == {doc_id: ServedDocument(1, frozenset({"hr"}))}
    registry.mark_failed(doc_id, code="corrupt_document", message="bad")
    assert registry.served([doc_id]) == {doc_id: ServedDocument(1, frozenset({"hr"}))}


def test_widened_roles_wait_for_the_content_to_be_rebuilt(registry: Registry) -> None:
    doc_id = _register(registry, roles=("hr",)).document.id
    _index(registry, doc_id, 1)
    widened = _register(registry, content_hash="h2", roles=("hr", "public"))
    assert widened.roles_changed == ()
    assert registry.served([doc_id]) == {doc_id: ServedDocument(1, frozenset({"hr"}))}
    incarnation = registry.mark_processing(doc_id).incarnation
    version = registry.next_version(doc_id)
    _mark_indexed(registry, doc_id, version, "h2", ("hr", "public"), incarnation)
    assert registry.served([doc_id])[doc_id].roles == frozenset({"hr", "public"})


def test_roles_narrowed_while_an_attempt_runs_narrow_what_it_serves(registry: Registry) -> None:
    doc_id = _register(registry, roles=("public", "hr")).document.id
    incarnation = registry.mark_processing(doc_id).incarnation  # chunks built for both
    version = registry.next_version(doc_id)
    _register(registry, content_hash="h2", roles=("hr",))
    _mark_indexed(registry, doc_id, version, "h1", ("public", "hr"), incarnation)
    assert registry.served([doc_id])[doc_id].roles == frozenset({"hr"})


def test_retry_of_a_document_deleted_meanwhile_is_not_found(registry: Registry) -> None:
    doc_id = _register(registry).document.id
    registry.delete(doc_id)
    with pytest.raises(NotFoundError):
        registry.requeue(doc_id)
