"""The document registry's contract on PostgreSQL, beside SQLite as the reference.

Distributed mode keeps the registry in PostgreSQL; embedded mode in SQLite. The same
calls must give the same documents, versions, roles and errors on both, including
under concurrency, where PostgreSQL (row locks, many writers) and SQLite (one writer
at a time) differ most. Each test gets a fresh database made by the migrations, as
``ragline.runtime`` makes it, on a real server (tests/postgres_db.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ingest.bucket_catalog import BucketCatalog
from ingest.records import (
    CarriedObject,
    Document,
    Registration,
    ServedDocument,
    document_id_for,
    fingerprint,
)
from ingest.registry import Registry
from kernel.errors import NotFoundError, SupersededError
from ragline.schema import ensure_schema
from tests.postgres_db import database_url

pytestmark = pytest.mark.service

BACKENDS = ("postgresql", "sqlite")


@pytest.fixture(params=BACKENDS)
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Registry]:
    with database_url(request.param, tmp_path) as url:
        ensure_schema(url, auto_upgrade=request.param == "sqlite")
        reg = Registry(url)
        try:
            catalog = BucketCatalog(reg.engine)
            catalog.create_bucket("b", ["public"], None, None)
            catalog.create_bucket("c", ["public"], None, None)
            yield reg
        finally:
            reg.close()


def _register(
    reg: Registry,
    key: str = "doc.txt",
    *,
    content_hash: str = "h1",
    roles: Sequence[str] = ("public",),
    bucket: str = "b",
    parent_id: str | None = None,
) -> Registration:
    return reg.register(
        bucket=bucket,
        key=key,
        content_hash=content_hash,
        size_bytes=3,
        roles=roles,
        doc_type=None,
        title=None,
        parent_id=parent_id,
        source_tag=f"etag-{content_hash}",
    )


def _mark_indexed(
    reg: Registry,
    doc_id: str,
    version: int,
    *,
    built_roles: Sequence[str],
    incarnation: str | None,
    content_hash: str = "h1",
    carried: Sequence[CarriedObject] = (),
) -> Document:
    doc = reg.get(doc_id)
    return reg.mark_indexed(
        doc_id,
        version=version,
        content_hash=content_hash,
        fingerprint=fingerprint(content_hash, doc.roles, doc.doc_type, doc.title),
        chunks=2,
        detected_type="generic",
        fmt="txt",
        title="Doc",
        parse_seconds=0.1,
        built_roles=built_roles,
        incarnation=incarnation,
        carried=carried,
    ).document


def _ingest(reg: Registry, doc_id: str, content_hash: str = "h1") -> int:
    """One whole attempt, as the pipeline makes it; returns the version it served."""
    claimed = reg.mark_processing(doc_id)
    version = reg.next_version(doc_id)
    _mark_indexed(
        reg,
        doc_id,
        version,
        built_roles=claimed.roles,
        incarnation=claimed.incarnation,
        content_hash=content_hash,
    )
    return version


def test_a_registered_document_is_served_once_indexed(registry: Registry) -> None:
    registration = _register(registry, roles=("public", "hr"))
    doc = registration.document
    assert registration.needs_ingest
    assert (doc.id, doc.status, doc.roles) == (
        document_id_for("b", "doc.txt"),
        "queued",
        ("hr", "public"),
    )
    assert doc.source_tag == "etag-h1"
    assert doc.source_changed_at is not None and doc.source_changed_at.tzinfo is not None
    assert registry.served([doc.id]) == {}

    claimed = registry.mark_processing(doc.id)
    assert (claimed.status, claimed.attempts) == ("processing", 1)
    version = registry.next_version(doc.id)
    assert version == 1
    indexed = _mark_indexed(
        registry, doc.id, version, built_roles=claimed.roles, incarnation=claimed.incarnation
    )

    assert (indexed.status, indexed.indexed_version, indexed.chunks) == ("indexed", 1, 2)
    assert (indexed.detected_type, indexed.format, indexed.parsed_title) == (
        "generic",
        "txt",
        "Doc",
    )
    assert registry.get(doc.id) == indexed
    assert registry.served([doc.id, "unknown"]) == {
        doc.id: ServedDocument(1, frozenset({"public", "hr"}))
    }
    again = _register(registry, roles=("hr", "public"))
    assert not again.needs_ingest and again.document.status == "indexed"


def test_changed_content_with_narrowed_roles_requeues_and_narrows_at_once(
    registry: Registry,
) -> None:
    doc_id = _register(registry, roles=("public", "hr")).document.id
    _ingest(registry, doc_id)
    child_id = _register(
        registry, "doc.txt#1", roles=("public", "hr"), parent_id=doc_id
    ).document.id
    _ingest(registry, child_id)

    changed = _register(registry, content_hash="h2", roles=("hr",))

    assert changed.needs_ingest and changed.document.status == "queued"
    assert changed.document.content_hash == "h2" and changed.document.indexed_hash == "h1"
    assert set(changed.roles_changed) == {doc_id, child_id}
    # The old content is still served, already to hr only; so is the attachment.
    assert registry.served([doc_id, child_id]) == {
        doc_id: ServedDocument(1, frozenset({"hr"})),
        child_id: ServedDocument(1, frozenset({"hr"})),
    }
    assert _ingest(registry, doc_id, content_hash="h2") == 2
    assert registry.served([doc_id]) == {doc_id: ServedDocument(2, frozenset({"hr"}))}


def test_a_slower_attempt_is_superseded_by_a_newer_served_version(registry: Registry) -> None:
    doc_id = _register(registry).document.id
    claimed = registry.mark_processing(doc_id)
    slow, fast = registry.next_version(doc_id), registry.next_version(doc_id)
    assert (slow, fast) == (1, 2)
    _mark_indexed(registry, doc_id, fast, built_roles=("public",), incarnation=claimed.incarnation)

    with pytest.raises(SupersededError, match="older than the one served"):
        _mark_indexed(
            registry, doc_id, slow, built_roles=("public",), incarnation=claimed.incarnation
        )
    assert registry.served([doc_id]) == {doc_id: ServedDocument(2, frozenset({"public"}))}


def test_an_attempt_on_a_deleted_document_is_not_found(registry: Registry) -> None:
    doc_id = _register(registry).document.id
    claimed = registry.mark_processing(doc_id)
    version = registry.next_version(doc_id)
    deleted = registry.delete(doc_id)
    assert deleted.id == doc_id

    with pytest.raises(NotFoundError, match="not found"):
        _mark_indexed_unchecked(registry, doc_id, version, claimed.incarnation)
    # Re-created meanwhile: the old attempt still cannot commit into the new document.
    _register(registry, roles=("hr",))
    with pytest.raises(NotFoundError, match="deleted meanwhile"):
        _mark_indexed(
            registry, doc_id, version, built_roles=("public",), incarnation=claimed.incarnation
        )
    assert registry.served([doc_id]) == {}
    assert registry.get(doc_id).roles == ("hr",)


def _mark_indexed_unchecked(
    reg: Registry, doc_id: str, version: int, incarnation: str | None
) -> None:
    """``mark_indexed`` for a document that may be gone (no ``get`` first)."""
    reg.mark_indexed(
        doc_id,
        version=version,
        content_hash="h1",
        fingerprint="f",
        chunks=1,
        detected_type="generic",
        fmt="txt",
        title=None,
        parse_seconds=None,
        built_roles=("public",),
        incarnation=incarnation,
    )


def _carried(name: str, content_hash: str = "a1") -> CarriedObject:
    return CarriedObject(
        key=name, content_hash=content_hash, size_bytes=5, title=name, declared_type="text/plain"
    )


def test_what_a_version_carried_is_registered_in_its_commit(registry: Registry) -> None:
    """The children are listed the moment the container is indexed, under the roles
    it is served with: roles narrowed while it was built never reach a child."""
    parent = _register(registry, "mail.eml", roles=("hr", "public")).document
    claimed = registry.mark_processing(parent.id)
    version = registry.next_version(parent.id)
    _register(registry, "mail.eml", roles=("hr",))  # narrowed mid-build

    served = _mark_indexed(
        registry,
        parent.id,
        version,
        built_roles=claimed.roles,
        incarnation=claimed.incarnation,
        carried=[_carried("a.txt"), _carried("b.pdf", "b1")],
    )

    assert served.status == "indexed" and served.served_roles == ("hr",)
    children = sorted(registry.children(parent.id), key=lambda d: d.key)
    assert [(c.key, c.status, c.roles, c.content_hash, c.declared_type) for c in children] == [
        ("mail.eml#a.txt", "queued", ("hr",), "a1", "text/plain"),
        ("mail.eml#b.pdf", "queued", ("hr",), "b1", "text/plain"),
    ]
    assert registry.list_documents(readable_by=frozenset({"public"})) == []


def test_an_attempt_that_loses_registers_nothing_it_carried(registry: Registry) -> None:
    parent = _register(registry, "mail.eml").document
    claimed = registry.mark_processing(parent.id)
    slow = registry.next_version(parent.id)
    _ingest(registry, parent.id)  # a newer attempt is served first
    with pytest.raises(SupersededError):
        _mark_indexed(
            registry,
            parent.id,
            slow,
            built_roles=claimed.roles,
            incarnation=claimed.incarnation,
            carried=[_carried("late.txt")],
        )
    registry.delete(parent.id)
    with pytest.raises(NotFoundError):
        _mark_indexed_unchecked(registry, parent.id, slow + 5, claimed.incarnation)
    assert registry.list_documents() == []


def test_versions_never_repeat_for_an_id_after_delete_and_recreate(registry: Registry) -> None:
    doc_id = _register(registry).document.id
    assert _ingest(registry, doc_id) == 1
    assert registry.next_version(doc_id) == 2  # an attempt that never finished
    registry.delete(doc_id)
    with pytest.raises(NotFoundError):
        registry.get(doc_id)

    again = _register(registry).document
    assert again.id == doc_id and again.indexed_version == 0
    assert _ingest(registry, doc_id) == 3
    assert registry.served([doc_id]) == {doc_id: ServedDocument(3, frozenset({"public"}))}


def test_list_documents_filters_by_roles_before_cutting_the_page(registry: Registry) -> None:
    hr_keys = []
    for n in range(7):
        roles = ("hr",) if n % 2 == 0 else ("eng",)
        key = f"doc-{n}.txt"
        _register(registry, key, roles=roles)
        if roles == ("hr",):
            hr_keys.append(key)
    _register(registry, "other.txt", roles=("hr",), bucket="c")
    failed = _register(registry, "broken.txt", roles=("eng",)).document.id
    registry.mark_failed(failed, code="corrupt_document", message="truncated")

    hr = frozenset({"hr"})
    pages = [
        [d.key for d in registry.list_documents(bucket="b", limit=3, offset=o, readable_by=hr)]
        for o in (0, 3, 6)
    ]
    assert pages == [hr_keys[:3], hr_keys[3:], []]
    everything = [(d.bucket, d.key) for d in registry.list_documents(readable_by=hr)]
    assert everything == [("b", k) for k in hr_keys] + [("c", "other.txt")]
    assert registry.list_documents(readable_by=frozenset()) == []
    assert registry.list_documents(readable_by=frozenset({"sales"})) == []
    assert [d.key for d in registry.list_documents(status="failed")] == ["broken.txt"]
    assert len(registry.list_documents(limit=100)) == 9
    assert [d.key for d in registry.list_documents(bucket="b", limit=2, offset=1)] == [
        "doc-0.txt",
        "doc-1.txt",
    ]


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_registrations_of_one_key_make_one_row(registry: Registry, round_: int) -> None:
    threads = 8
    barrier = threading.Barrier(threads, timeout=60)
    key = f"race-{round_}.txt"

    def register(n: int) -> Registration:
        barrier.wait()
        return _register(registry, key, content_hash=f"h{n % 2}")

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(register, range(threads)))

    doc_id = document_id_for("b", key)
    assert {r.document.id for r in results} == {doc_id}
    rows = registry.list_documents(bucket="b")
    assert [d.key for d in rows] == [key]
    assert rows[0].status == "queued" and rows[0].content_hash in {"h0", "h1"}
    # One incarnation: every registration saw the same row, none made a second one.
    assert {r.document.incarnation for r in results} == {rows[0].incarnation}


def test_a_container_re_given_to_new_roles_lists_its_old_children_to_no_one(
    registry: Registry,
) -> None:
    """Until the new version commits, the old attachments stay registered, narrowed to
    no one: their names are content, so the new roles are not shown them either."""
    parent = _register(registry, "mail.eml", roles=("hr",)).document
    claimed = registry.mark_processing(parent.id)
    _mark_indexed(
        registry,
        parent.id,
        registry.next_version(parent.id),
        built_roles=claimed.roles,
        incarnation=claimed.incarnation,
        carried=[_carried("salaries.txt")],
    )
    hr, eng = frozenset({"hr"}), frozenset({"eng"})
    assert [d.key for d in registry.list_documents(readable_by=hr)] == [
        "mail.eml",
        "mail.eml#salaries.txt",
    ]

    _register(registry, "mail.eml", content_hash="h2", roles=("eng",))  # re-upload

    listed = registry.list_documents(readable_by=eng)
    assert [(d.key, d.served_roles) for d in listed] == [("mail.eml", ())]
    assert not listed[0].content_readable_by(eng)
    assert registry.list_documents(readable_by=hr) == []
    everything = registry.list_documents()
    assert [(d.key, d.roles) for d in everything] == [
        ("mail.eml", ("eng",)),
        ("mail.eml#salaries.txt", ()),
    ]

    # The version built under eng commits: what it carries is eng's to see.
    claimed = registry.mark_processing(parent.id)
    _mark_indexed(
        registry,
        parent.id,
        registry.next_version(parent.id),
        built_roles=claimed.roles,
        incarnation=claimed.incarnation,
        content_hash="h2",
        carried=[_carried("salaries.txt")],
    )
    assert [(d.key, d.roles) for d in registry.list_documents(readable_by=eng)] == [
        ("mail.eml", ("eng",)),
        ("mail.eml#salaries.txt", ("eng",)),
    ]
