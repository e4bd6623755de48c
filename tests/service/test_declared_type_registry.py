"""The registry keeps a document's declared content type, on SQLite and PostgreSQL.

Revision 0009 adds the column; a database with attachments from before it keeps
every row (the column is null for them) and goes on working. Fresh databases per
test, made by the migrations as ``ragline.runtime`` makes them (tests/postgres_db.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import MetaData, create_engine, insert, inspect
from sqlalchemy.pool import NullPool

from ingest.bucket_catalog import BucketCatalog
from ingest.records import Registration, ServedDocument, document_id_for, fingerprint
from ingest.registry import Registry
from ragline.schema import alembic_config, current_revision, ensure_schema, upgrade
from tests.postgres_db import database_url

pytestmark = pytest.mark.service

BACKENDS = ("postgresql", "sqlite")


@pytest.fixture(params=BACKENDS)
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Registry]:
    with database_url(request.param, tmp_path) as url:
        ensure_schema(url, auto_upgrade=request.param == "sqlite")
        reg = Registry(url)
        try:
            BucketCatalog(reg.engine).create_bucket("b", ["hr"], None, None)
            yield reg
        finally:
            reg.close()


def _register_child(
    reg: Registry, parent_id: str, declared: str | None, roles: tuple[str, ...] = ("hr",)
) -> Registration:
    """As the pipeline registers an attachment: under the roles its mail is served to."""
    return reg.register(
        bucket="b",
        key="mail.eml#export",
        content_hash="h-child",
        size_bytes=30,
        roles=roles,
        doc_type=None,
        title="export",
        parent_id=parent_id,
        declared_type=declared,
    )


def _serve(reg: Registry, doc_id: str) -> None:
    """One attempt as the pipeline makes it, fingerprinted with what it was built from."""
    claimed = reg.mark_processing(doc_id)
    reg.mark_indexed(
        doc_id,
        version=reg.next_version(doc_id),
        content_hash=claimed.content_hash or "",
        fingerprint=fingerprint(
            claimed.content_hash or "",
            claimed.roles,
            claimed.doc_type,
            claimed.title,
            claimed.declared_type,
        ),
        chunks=1,
        detected_type="tables",
        fmt="csv",
        title=None,
        parse_seconds=0.1,
        built_roles=claimed.roles,
        incarnation=claimed.incarnation,
    )


def test_a_child_keeps_its_declared_type_until_a_registration_declares_another(
    registry: Registry,
) -> None:
    parent = registry.register(
        bucket="b",
        key="mail.eml",
        content_hash="h-mail",
        size_bytes=300,
        roles=["hr"],
        doc_type=None,
        title=None,
    ).document
    assert parent.declared_type is None

    first = _register_child(registry, parent.id, "text/csv; charset=utf-8")
    assert first.needs_ingest
    assert registry.get(first.document.id).declared_type == "text/csv; charset=utf-8"
    _serve(registry, first.document.id)

    # The mail ingested again, the same attachment declared the same way: nothing to do.
    again = _register_child(registry, parent.id, "text/csv; charset=utf-8")
    assert not again.needs_ingest
    assert again.document.declared_type == "text/csv; charset=utf-8"

    # Same bytes declared otherwise: parsed again, under the new declaration.
    relabelled = _register_child(registry, parent.id, "text/plain")
    assert relabelled.needs_ingest
    assert registry.get(first.document.id).declared_type == "text/plain"
    assert [c.declared_type for c in registry.children(parent.id)] == ["text/plain"]


def test_a_declared_type_changes_nothing_about_whom_a_child_is_served_to(
    registry: Registry,
) -> None:
    parent = registry.register(
        bucket="b",
        key="mail.eml",
        content_hash="h-mail",
        size_bytes=300,
        roles=["hr", "board"],
        doc_type=None,
        title=None,
    ).document
    _serve(registry, parent.id)
    child = _register_child(registry, parent.id, "text/csv", ("hr", "board")).document
    _serve(registry, child.id)

    narrowed = registry.register(
        bucket="b",
        key="mail.eml",
        content_hash="h-mail",
        size_bytes=300,
        roles=["board"],
        doc_type=None,
        title=None,
    )

    assert set(narrowed.roles_changed) == {parent.id, child.id}
    served = registry.served([child.id])[child.id]
    assert served.roles == frozenset({"board"})
    assert registry.get(child.id).declared_type == "text/csv"


# -- revision 0009 on a database that has attachments --------------------------------


def _database_at_0008_with_an_attachment(url: str) -> tuple[str, str]:
    """A registry as ragline made it at revision 0008: a mail and its attachment, served."""
    engine = create_engine(url, poolclass=NullPool)
    moment = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    parent_id = document_id_for("b", "mail.eml")
    child_id = document_id_for("b", "mail.eml#export")
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0008")
        tables = MetaData()
        tables.reflect(engine, only=["buckets", "documents", "version_counters"])
        assert "declared_type" not in tables.tables["documents"].c
        common = {
            "bucket": "b",
            "roles": ["hr"],
            "served_roles": ["hr"],
            "status": "indexed",
            "indexed_version": 1,
            "chunks": 1,
            "attempts": 1,
            "created_at": moment,
            "updated_at": moment,
            "indexed_at": moment,
        }
        with engine.begin() as conn:
            conn.execute(
                insert(tables.tables["buckets"]).values(
                    name="b", roles=["hr"], created_at=moment, pii="allow"
                )
            )
            conn.execute(
                insert(tables.tables["documents"]),
                [
                    {
                        **common,
                        "id": parent_id,
                        "key": "mail.eml",
                        "size_bytes": 300,
                        "content_hash": "h-mail",
                        "format": "eml",
                        "parent_id": None,
                    },
                    {
                        **common,
                        "id": child_id,
                        "key": "mail.eml#export",
                        "size_bytes": 30,
                        "content_hash": "h-child",
                        "format": "txt",
                        "parent_id": parent_id,
                    },
                ],
            )
            conn.execute(
                insert(tables.tables["version_counters"]),
                [
                    {"document_id": parent_id, "last_version": 1},
                    {"document_id": child_id, "last_version": 1},
                ],
            )
    finally:
        engine.dispose()
    return parent_id, child_id


@pytest.mark.parametrize("backend", BACKENDS)
def test_0009_upgrades_a_database_with_attachments_and_loses_nothing(
    backend: str, tmp_path: Path
) -> None:
    with database_url(backend, tmp_path) as url:
        parent_id, child_id = _database_at_0008_with_an_attachment(url)
        assert current_revision(url) == "0008"

        upgrade(url)  # what `ragline db upgrade` (or an embedded start) does

        assert current_revision(url) == "0009"
        engine = create_engine(url, poolclass=NullPool)
        try:
            columns = {c["name"]: c for c in inspect(engine).get_columns("documents")}
        finally:
            engine.dispose()
        assert columns["declared_type"]["nullable"] is True
        registry = Registry(url)
        try:
            child = registry.get(child_id)
            assert (child.parent_id, child.key, child.format, child.declared_type) == (
                parent_id,
                "mail.eml#export",
                "txt",
                None,
            )
            assert [c.id for c in registry.children(parent_id)] == [child_id]
            assert registry.served([parent_id, child_id]) == {
                parent_id: ServedDocument(1, frozenset({"hr"})),
                child_id: ServedDocument(1, frozenset({"hr"})),
            }
            assert registry.next_version(child_id) == 2
            # The attachment registered again by its mail now keeps what the mail declared.
            again = _register_child(registry, parent_id, "text/csv")
            assert again.needs_ingest
            assert registry.get(child_id).declared_type == "text/csv"
        finally:
            registry.close()
