"""The document registry: what is in each bucket, which version is served, what failed and why.

SQLite under the data directory in embedded mode, any SQLAlchemy URL (PostgreSQL)
in distributed mode. The registry, not the index, decides which version of a
document readers see: ``indexed_version`` flips in one transaction after the new
chunks are written, and retrieval drops hits of any other version, so a reader
never sees two versions mixed nor a document with zero chunks mid-update.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from ingest.records import (
    Backlog,
    CarriedObject,
    Document,
    IndexedCommit,
    Registration,
    ServedDocument,
    document_id_for,
    fingerprint,
)
from ingest.registry_tables import (
    DocumentRow,
    VersionCounterRow,
    now,
    open_engine,
)
from ingest.sql_sessions import as_utc
from kernel.errors import NotFoundError, SupersededError


def _served_roles(row: DocumentRow) -> list[str]:
    return _effective_roles(row.served_roles, row.roles)


def _effective_roles(served: list[str] | None, roles: list[str] | None) -> list[str]:
    if served is None:  # a row written before served_roles existed
        return sorted(roles or [])
    return sorted(set(served) & set(roles or []))


def _document(row: DocumentRow) -> Document:
    return Document(
        id=row.id,
        bucket=row.bucket,
        key=row.key,
        title=row.title,
        parsed_title=row.parsed_title,
        roles=tuple(row.roles),
        doc_type=row.doc_type,
        detected_type=row.detected_type,
        format=row.format,
        parent_id=row.parent_id,
        status=row.status,  # type: ignore[arg-type]
        content_hash=row.content_hash,
        indexed_hash=row.indexed_hash,
        indexed_version=row.indexed_version,
        indexed_fingerprint=row.indexed_fingerprint,
        chunks=row.chunks,
        size_bytes=row.size_bytes,
        error_code=row.error_code,
        error=row.error,
        attempts=row.attempts,
        parse_seconds=row.parse_seconds,
        updated_at=as_utc(row.updated_at),
        indexed_at=as_utc(row.indexed_at),
        served_roles=tuple(_served_roles(row)),
        incarnation=row.incarnation,
        source_tag=row.source_tag,
        source_changed_at=as_utc(row.source_changed_at),
        declared_type=row.declared_type,
    )


def _insert_if_absent(session: Session) -> postgresql.Insert | sqlite.Insert:
    """INSERT of a document that does nothing when the row exists (the two dialects we run on)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(DocumentRow).on_conflict_do_nothing()
    return sqlite.insert(DocumentRow).on_conflict_do_nothing()


class Registry:
    """All reads and writes of documents (the ``DocumentRegistry`` port); buckets are
    ``ingest.bucket_catalog``'s, on the same database."""

    def __init__(self, url: str) -> None:
        self._engine = open_engine(url)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)

    @property
    def engine(self) -> Engine:
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except StaleDataError:
            # The row was deleted by another request between our read and our write.
            raise NotFoundError("the document was deleted meanwhile") from None

    # -- documents -------------------------------------------------------------------

    def register(
        self,
        *,
        bucket: str,
        key: str,
        content_hash: str,
        size_bytes: int,
        roles: Sequence[str],
        doc_type: str | None,
        title: str | None,
        parent_id: str | None = None,
        source_tag: str | None = None,
        changed_at: datetime | None = None,
        declared_type: str | None = None,
    ) -> Registration:
        """Record that an object exists with this content.

        Unchanged content with unchanged access settings needs nothing; anything
        else (new, changed, failed before, roles, type or declared type changed) is
        queued. ``declared_type`` is the content type the container declared for an
        attachment (what detection weighs against the bytes); it is replaced, like the
        roles, at every registration.
        ``source_tag`` is the listing's tag for these bytes (kept either way, so the
        next refresh skips reading them); ``changed_at`` when they changed in the
        bucket (default: now), where the document's index lag starts.
        """
        with self._session() as s:
            return self._register_in(
                s,
                bucket=bucket,
                key=key,
                content_hash=content_hash,
                size_bytes=size_bytes,
                roles=roles,
                doc_type=doc_type,
                title=title,
                parent_id=parent_id,
                source_tag=source_tag,
                changed_at=changed_at,
                declared_type=declared_type,
            )

    def _register_in(
        self,
        s: Session,
        *,
        bucket: str,
        key: str,
        content_hash: str,
        size_bytes: int,
        roles: Sequence[str],
        doc_type: str | None,
        title: str | None,
        parent_id: str | None,
        source_tag: str | None,
        changed_at: datetime | None,
        declared_type: str | None,
    ) -> Registration:
        """:meth:`register` inside the caller's transaction."""
        doc_id = document_id_for(bucket, key)
        row = s.get(DocumentRow, doc_id, with_for_update=True)
        if row is None:
            # Insert if absent, then lock: when a concurrent registration of the
            # same object inserts first, this one waits for it and updates its row.
            s.execute(
                _insert_if_absent(s).values(
                    id=doc_id,
                    bucket=bucket,
                    key=key,
                    created_at=now(),
                    incarnation=str(uuid.uuid4()),
                    served_roles=[],
                    roles=list(roles),
                )
            )
            row = self._row(s, doc_id, lock=True)
        if row.status == "indexed" and row.indexed_fingerprint == fingerprint(
            content_hash,
            roles,
            doc_type,
            title if title is not None else row.title,
            declared_type,
        ):
            if source_tag is not None:
                row.source_tag = source_tag
            return Registration(_document(row), needs_ingest=False)
        if row.content_hash != content_hash or row.source_changed_at is None:
            row.source_changed_at = changed_at or now()
        row.source_tag = source_tag
        row.content_hash = content_hash
        row.size_bytes = size_bytes
        roles_changed = self._set_roles_locked(s, row, roles)
        row.doc_type = doc_type
        row.title = title if title is not None else row.title
        row.parent_id = parent_id
        row.declared_type = declared_type
        row.status = "queued"
        row.error_code = None
        row.error = None
        row.updated_at = now()
        s.flush()
        return Registration(_document(row), True, tuple(roles_changed))

    def get(self, document_id: str) -> Document:
        with self._session() as s:
            row = s.get(DocumentRow, document_id)
            if row is None:
                raise NotFoundError(f"document '{document_id}' not found")
            return _document(row)

    def list_documents(
        self,
        *,
        status: str | None = None,
        bucket: str | None = None,
        limit: int = 100,
        offset: int = 0,
        readable_by: frozenset[str] | None = None,
    ) -> list[Document]:
        """One page, in (bucket, key) order.

        ``readable_by`` (a caller's roles; None for all) keeps the documents
        :meth:`Document.listable_by` them, before the page is cut: filtering
        after LIMIT/OFFSET would give short pages and show how many hidden documents
        sort where. Roles are a JSON column, so the filter runs in Python over ordered
        batches, which works the same on SQLite and PostgreSQL.
        """
        query = select(DocumentRow).order_by(DocumentRow.bucket, DocumentRow.key)
        if status:
            query = query.where(DocumentRow.status == status)
        if bucket:
            query = query.where(DocumentRow.bucket == bucket)
        with self._session() as s:
            if readable_by is None:
                return [_document(r) for r in s.scalars(query.limit(limit).offset(offset))]
            batch_size = 500
            page: list[Document] = []
            to_skip, scanned = offset, 0
            while len(page) < limit:
                batch = list(s.scalars(query.limit(batch_size).offset(scanned)))
                scanned += len(batch)
                for document in map(_document, batch):
                    if not document.listable_by(readable_by):
                        continue
                    if to_skip:
                        to_skip -= 1
                    elif len(page) < limit:
                        page.append(document)
                if len(batch) < batch_size:
                    break
            return page

    def mark_processing(self, document_id: str) -> Document:
        with self._session() as s:
            row = self._row(s, document_id, lock=True)
            row.status = "processing"
            row.attempts += 1
            row.updated_at = now()
            return _document(row)

    def next_version(self, document_id: str) -> int:
        """A version never handed out before for this id, for one attempt to build."""
        with self._session() as s:
            row = self._row(s, document_id, lock=True)
            counter = s.get(VersionCounterRow, document_id, with_for_update=True)
            if counter is None:
                counter = VersionCounterRow(document_id=document_id, last_version=0)
                s.add(counter)
            counter.last_version = max(counter.last_version, row.indexed_version) + 1
            return counter.last_version

    def _set_roles_locked(self, s: Session, row: DocumentRow, roles: Sequence[str]) -> list[str]:
        """Give ``row`` ``roles``, and its attachments (recursively) those of ``roles``
        they already hold.

        The served version of each is narrowed at once to what the new roles allow
        (retrieval checks :meth:`served` on every hit, so this commit is the moment
        access changes); a widening waits for the content to be rebuilt under the new
        roles. Returns the ids whose served roles shrank, for the caller to apply to
        the index payload too.
        """
        narrowed = []
        new_roles = sorted(set(roles))
        before = set(_served_roles(row))
        row.roles = new_roles
        after = set(_served_roles(row))
        row.served_roles = sorted(after)
        if (row.indexed_version or 0) > 0 and after != before:
            narrowed.append(row.id)
        for child in s.scalars(
            select(DocumentRow).where(DocumentRow.parent_id == row.id).with_for_update()
        ):
            # Narrowed only: what a container carries is known from a version served to
            # its old roles; the new roles are shown its children when a version built
            # under them commits (mark_indexed registers them again, with its roles).
            narrowed += self._set_roles_locked(
                s, child, sorted(set(child.roles or []) & set(roles))
            )
            child.updated_at = now()
        return narrowed

    def mark_indexed(
        self,
        document_id: str,
        *,
        version: int,
        content_hash: str,
        fingerprint: str,
        chunks: int,
        detected_type: str,
        fmt: str,
        title: str | None,
        parse_seconds: float | None,
        built_roles: Sequence[str],
        incarnation: str | None,
        carried: Sequence[CarriedObject] = (),
    ) -> IndexedCommit:
        """Flip the served version; from this commit on, readers see only ``version``.

        What the version carried (attachments, archive members) is registered in the
        same commit, as children under the roles the version is served with, so they
        can never be broader than their container's; the children it no longer
        carries are deleted in that commit too, and returned as ``dropped`` for the
        caller to remove their chunks and files.
        Raises :class:`NotFoundError` when the document was deleted meanwhile, and
        :class:`SupersededError` when a newer version is already served (a slower
        attempt lost the race): in both cases the caller removes what it wrote, and
        nothing carried is registered.
        """
        with self._session() as s:
            row = self._row(s, document_id, lock=True)
            if row.incarnation != incarnation:
                raise NotFoundError(f"document '{document_id}' was deleted meanwhile")
            if row.indexed_version >= version:
                raise SupersededError(
                    f"version {version} of '{document_id}' is older than the one served"
                )
            row.status = "indexed"
            row.indexed_version = version
            row.served_roles = sorted(set(built_roles) & set(row.roles or []))
            row.indexed_hash = content_hash
            row.indexed_fingerprint = fingerprint
            row.content_hash = content_hash
            row.chunks = chunks
            row.detected_type = detected_type
            row.format = fmt
            row.parsed_title = title
            row.parse_seconds = parse_seconds
            row.error_code = None
            row.error = None
            row.updated_at = row.indexed_at = now()
            served = _document(row)
            children = tuple(
                self._register_in(
                    s,
                    bucket=row.bucket,
                    key=f"{row.key}#{obj.key}",
                    content_hash=obj.content_hash,
                    size_bytes=obj.size_bytes,
                    roles=served.served_roles,
                    doc_type=None,
                    title=obj.title,
                    parent_id=row.id,
                    source_tag=None,
                    changed_at=None,
                    declared_type=obj.declared_type,
                )
                for obj in carried
            )
            kept = {child.document.id for child in children}
            stale = [
                child
                for child in s.scalars(
                    select(DocumentRow).where(DocumentRow.parent_id == row.id).with_for_update()
                )
                if child.id not in kept
            ]
            dropped = tuple(doc for child in stale for doc in self._delete_tree_locked(s, child))
            return IndexedCommit(served, children, dropped)

    def _delete_tree_locked(self, s: Session, row: DocumentRow) -> list[Document]:
        """Delete ``row`` and what it carried, recursively; readers stop seeing them at
        this commit. Returns them, for the caller to remove their chunks and files."""
        gone = [_document(row)]
        for child in s.scalars(
            select(DocumentRow).where(DocumentRow.parent_id == row.id).with_for_update()
        ):
            gone += self._delete_tree_locked(s, child)
        s.delete(row)
        return gone

    def mark_unchanged(self, document_id: str) -> Document:
        with self._session() as s:
            row = self._row(s, document_id)
            row.status = "indexed"
            row.updated_at = now()
            return _document(row)

    def mark_failed(
        self, document_id: str, *, code: str, message: str, fmt: str | None = None
    ) -> Document:
        """Record why; a previously served version stays served (stale beats missing)."""
        with self._session() as s:
            row = self._row(s, document_id)
            row.status = "failed"
            row.error_code = code
            row.error = message
            row.format = fmt or row.format
            row.updated_at = now()
            return _document(row)

    def requeue(self, document_id: str) -> Document:
        with self._session() as s:
            row = self._row(s, document_id)
            row.status = "queued"
            row.updated_at = now()
            return _document(row)

    def delete(self, document_id: str) -> Document:
        """Forget a document; retrieval stops serving it at this commit."""
        with self._session() as s:
            row = self._row(s, document_id)
            doc = _document(row)
            s.delete(row)
            return doc

    def children(self, document_id: str) -> list[Document]:
        with self._session() as s:
            rows = s.scalars(select(DocumentRow).where(DocumentRow.parent_id == document_id))
            return [_document(r) for r in rows]

    def backlog(self, bucket: str) -> Backlog:
        """What of the bucket is not searchable as it is now: pending and failed documents."""
        with self._session() as s:
            pending = s.execute(
                select(func.count(), func.min(DocumentRow.source_changed_at)).where(
                    DocumentRow.bucket == bucket,
                    DocumentRow.status.in_(("queued", "processing")),
                )
            ).one()
            failed = s.scalar(
                select(func.count()).where(
                    DocumentRow.bucket == bucket, DocumentRow.status == "failed"
                )
            )
        return Backlog(pending=pending[0], oldest_change=as_utc(pending[1]), failed=failed or 0)

    def count_by_status(self) -> dict[str, int]:
        """One grouped count over the documents table (what a metrics scrape reads)."""
        with self._session() as s:
            rows = s.execute(select(DocumentRow.status, func.count()).group_by(DocumentRow.status))
            return {str(status): int(count) for status, count in rows}

    def served(self, document_ids: Iterable[str]) -> dict[str, ServedDocument]:
        """Per document, the version readers may see and the roles that may see it.

        Absent ids are not served (deleted, or never indexed). The roles are the
        served version's (see ``DocumentRow.served_roles``), which can be narrower
        than a chunk's payload while the index catches up with a change of roles.
        """
        ids = list(set(document_ids))
        if not ids:
            return {}
        # On every /ask: read the four columns the gate needs, not whole rows.
        columns = (
            DocumentRow.id,
            DocumentRow.indexed_version,
            DocumentRow.served_roles,
            DocumentRow.roles,
        )
        with self._session() as s:
            rows = s.execute(
                select(*columns).where(DocumentRow.id.in_(ids), DocumentRow.indexed_version > 0)
            )
            return {
                doc_id: ServedDocument(version, frozenset(_effective_roles(served, roles)))
                for doc_id, version, served, roles in rows
            }

    @staticmethod
    def _row(session: Session, document_id: str, *, lock: bool = False) -> DocumentRow:
        row = session.get(DocumentRow, document_id, with_for_update=lock)
        if row is None:
            raise NotFoundError(f"document '{document_id}' not found")
        return row
