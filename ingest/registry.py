"""The document registry: what is in each bucket, which version is served, what failed and why.

SQLite under the data directory in embedded mode, any SQLAlchemy URL (PostgreSQL)
in distributed mode. The registry, not the index, decides which version of a
document readers see: ``indexed_version`` flips in one transaction after the new
chunks are written, and retrieval drops hits of any other version, so a reader
never sees two versions mixed nor a document with zero chunks mid-update.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from ragline.errors import ConflictError, NotFoundError, SupersededError

DocumentStatus = Literal["queued", "processing", "indexed", "failed"]
_DOC_NAMESPACE = uuid.UUID("6f1f3c2e-8f3a-4d7e-9a51-0c2b7d9e4a10")


def document_id_for(bucket: str, key: str) -> str:
    """Stable id: the same object in the same bucket is always the same document."""
    return str(uuid.uuid5(_DOC_NAMESPACE, f"{bucket}\x00{key}"))


def fingerprint(
    content_hash: str, roles: Iterable[str], doc_type: str | None, title: str | None
) -> str:
    """What the served chunks were built from: same fingerprint, nothing to redo."""
    basis = "\x00".join([content_hash, ",".join(sorted(roles)), doc_type or "", title or ""])
    return hashlib.sha256(basis.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


class _Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[str]: JSON}


class BucketRow(_Base):
    __tablename__ = "buckets"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    roles: Mapped[list[str]] = mapped_column(JSON)
    doc_type: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class DocumentRow(_Base):
    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("bucket", "key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    bucket: Mapped[str] = mapped_column(ForeignKey("buckets.name", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)  # as given by the uploader
    parsed_title: Mapped[str | None] = mapped_column(Text)  # as found in the file
    roles: Mapped[list[str]] = mapped_column(JSON)
    doc_type: Mapped[str | None] = mapped_column(String(64))  # as requested
    detected_type: Mapped[str | None] = mapped_column(String(64))  # as chunked
    format: Mapped[str | None] = mapped_column(String(32))
    parent_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    content_hash: Mapped[str | None] = mapped_column(String(64))  # of the last file seen
    indexed_hash: Mapped[str | None] = mapped_column(String(64))  # of the version served
    indexed_version: Mapped[int] = mapped_column(Integer, default=0)  # 0: nothing served
    indexed_fingerprint: Mapped[str | None] = mapped_column(String(64))
    chunks: Mapped[int] = mapped_column(Integer, default=0)
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    parse_seconds: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    indexed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Who may read the served version: the roles its chunks were built with, narrowed
    # by every later change of ``roles``, never widened (a widening waits for a rebuild
    # of the content under the new roles). Always a subset of ``roles``.
    served_roles: Mapped[list[str] | None] = mapped_column(JSON)
    # New on every (re-)creation of the row: an attempt claimed before a delete cannot
    # commit into the document that replaced it.
    incarnation: Mapped[str | None] = mapped_column(String(36))


class VersionCounterRow(_Base):
    """The last version handed out per document id; outlives the document on purpose.

    A deleted document's in-flight writer may still leave chunks behind; if versions
    restarted at 1 when the same object came back, those chunks would pass the
    served-version gate. Versions never repeat for an id, so they never do.
    """

    __tablename__ = "version_counters"

    document_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    last_version: Mapped[int] = mapped_column(Integer, default=0)


class AnswerRow(_Base):
    """What made each answer (question text is kept out until PII redaction exists)."""

    __tablename__ = "answers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(64))
    retrieval: Mapped[dict[str, Any]] = mapped_column(JSON)
    chunk_ids: Mapped[list[str]] = mapped_column(JSON)
    cited_chunk_ids: Mapped[list[str]] = mapped_column(JSON)
    grounding: Mapped[float] = mapped_column(Float)
    latency_ms: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


@dataclass(frozen=True, slots=True)
class Bucket:
    name: str
    roles: tuple[str, ...]
    doc_type: str | None
    source: str | None


@dataclass(frozen=True, slots=True)
class Document:
    id: str
    bucket: str
    key: str
    title: str | None
    parsed_title: str | None
    roles: tuple[str, ...]
    doc_type: str | None
    detected_type: str | None
    format: str | None
    parent_id: str | None
    status: DocumentStatus
    content_hash: str | None
    indexed_hash: str | None
    indexed_version: int
    indexed_fingerprint: str | None
    chunks: int
    size_bytes: int
    error_code: str | None
    error: str | None
    attempts: int
    parse_seconds: float | None
    updated_at: datetime
    indexed_at: datetime | None
    served_roles: tuple[str, ...] = ()
    incarnation: str | None = None


@dataclass(frozen=True, slots=True)
class ServedDocument:
    """What retrieval may show of a document right now: one version, to these roles."""

    version: int
    roles: frozenset[str]


@dataclass(frozen=True, slots=True)
class Registration:
    """Outcome of offering an object to the registry: queue it, or nothing to do."""

    document: Document
    needs_ingest: bool
    # Documents whose roles this registration changed (the document and its
    # attachments): the caller applies the change to their chunks in the index.
    roles_changed: tuple[str, ...] = ()


def _bucket(row: BucketRow) -> Bucket:
    return Bucket(row.name, tuple(row.roles), row.doc_type, row.source)


def _served_roles(row: DocumentRow) -> list[str]:
    if row.served_roles is None:  # a row written before served_roles existed
        return sorted(row.roles or [])
    return sorted(set(row.served_roles) & set(row.roles or []))


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
        updated_at=row.updated_at,
        indexed_at=row.indexed_at,
        served_roles=tuple(_served_roles(row)),
        incarnation=row.incarnation,
    )


class Registry:
    """All reads and writes of buckets, documents and answer records."""

    def __init__(self, url: str) -> None:
        self._engine = _make_engine(url)
        _Base.metadata.create_all(self._engine)
        _add_missing_columns(self._engine)
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

    # -- buckets ---------------------------------------------------------------------

    def create_bucket(
        self, name: str, roles: Sequence[str], doc_type: str | None, source: str | None
    ) -> Bucket:
        try:
            with self._session() as s:
                row = BucketRow(name=name, roles=list(roles), doc_type=doc_type, source=source)
                s.add(row)
                s.flush()
                return _bucket(row)
        except IntegrityError:
            raise ConflictError(f"bucket '{name}' already exists") from None

    def get_bucket(self, name: str) -> Bucket:
        with self._session() as s:
            row = s.get(BucketRow, name)
            if row is None:
                raise NotFoundError(f"bucket '{name}' not found")
            return _bucket(row)

    def find_bucket(self, name: str) -> Bucket | None:
        with self._session() as s:
            row = s.get(BucketRow, name)
            return _bucket(row) if row else None

    def list_buckets(self) -> list[Bucket]:
        with self._session() as s:
            return [_bucket(r) for r in s.scalars(select(BucketRow).order_by(BucketRow.name))]

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
    ) -> Registration:
        """Record that an object exists with this content.

        Unchanged content with unchanged access settings needs nothing; anything
        else (new, changed, failed before, roles or type changed) is queued.
        """
        doc_id = document_id_for(bucket, key)
        with self._session() as s:
            row = s.get(DocumentRow, doc_id, with_for_update=True)
            if row is None:
                row = DocumentRow(
                    id=doc_id,
                    bucket=bucket,
                    key=key,
                    created_at=_now(),
                    incarnation=str(uuid.uuid4()),
                    served_roles=[],
                    roles=list(roles),
                )
                s.add(row)
            elif row.status == "indexed" and row.indexed_fingerprint == fingerprint(
                content_hash, roles, doc_type, title if title is not None else row.title
            ):
                return Registration(_document(row), needs_ingest=False)
            row.content_hash = content_hash
            row.size_bytes = size_bytes
            roles_changed = self._set_roles_locked(s, row, roles)
            row.doc_type = doc_type
            row.title = title if title is not None else row.title
            row.parent_id = parent_id
            row.status = "queued"
            row.error_code = None
            row.error = None
            row.updated_at = _now()
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

        ``readable_by`` (a caller's roles; None for all) filters before the page is cut:
        filtering after LIMIT/OFFSET would give short pages and show how many hidden
        documents sort where. Roles are a JSON column, so the filter runs in Python
        over ordered batches, which works the same on SQLite and PostgreSQL.
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
                for row in batch:
                    if not readable_by & set(row.roles):
                        continue
                    if to_skip:
                        to_skip -= 1
                    elif len(page) < limit:
                        page.append(_document(row))
                if len(batch) < batch_size:
                    break
            return page

    def mark_processing(self, document_id: str) -> Document:
        with self._session() as s:
            row = self._row(s, document_id, lock=True)
            row.status = "processing"
            row.attempts += 1
            row.updated_at = _now()
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
        """Give ``row`` and its attachments (recursively) ``roles``.

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
            narrowed += self._set_roles_locked(s, child, roles)
            child.updated_at = _now()
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
    ) -> Document:
        """Flip the served version; from this commit on, readers see only ``version``.

        Raises :class:`NotFoundError` when the document was deleted meanwhile, and
        :class:`SupersededError` when a newer version is already served (a slower
        attempt lost the race): in both cases the caller removes what it wrote.
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
            row.updated_at = row.indexed_at = _now()
            return _document(row)

    def mark_unchanged(self, document_id: str) -> Document:
        with self._session() as s:
            row = self._row(s, document_id)
            row.status = "indexed"
            row.updated_at = _now()
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
            row.updated_at = _now()
            return _document(row)

    def requeue(self, document_id: str) -> Document:
        with self._session() as s:
            row = self._row(s, document_id)
            row.status = "queued"
            row.updated_at = _now()
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

    def served(self, document_ids: Iterable[str]) -> dict[str, ServedDocument]:
        """Per document, the version readers may see and the roles that may see it.

        Absent ids are not served (deleted, or never indexed). The roles are the
        served version's (see ``DocumentRow.served_roles``), which can be narrower
        than a chunk's payload while the index catches up with a change of roles.
        """
        ids = list(set(document_ids))
        if not ids:
            return {}
        with self._session() as s:
            rows = s.scalars(
                select(DocumentRow).where(DocumentRow.id.in_(ids), DocumentRow.indexed_version > 0)
            )
            return {
                row.id: ServedDocument(row.indexed_version, frozenset(_served_roles(row)))
                for row in rows
            }

    # -- answers ---------------------------------------------------------------------

    def record_answer(
        self,
        *,
        answer_id: str,
        key_id: str,
        model: str,
        retrieval: dict[str, Any],
        chunk_ids: Sequence[str],
        cited_chunk_ids: Sequence[str],
        grounding: float,
        latency_ms: float,
    ) -> None:
        with self._session() as s:
            s.add(
                AnswerRow(
                    id=answer_id,
                    key_id=key_id,
                    model=model,
                    retrieval=retrieval,
                    chunk_ids=list(chunk_ids),
                    cited_chunk_ids=list(cited_chunk_ids),
                    grounding=grounding,
                    latency_ms=latency_ms,
                )
            )

    def get_answer(self, answer_id: str) -> AnswerRow:
        with self._session() as s:
            row = s.get(AnswerRow, answer_id)
            if row is None:
                raise NotFoundError(f"answer '{answer_id}' not found")
            s.expunge(row)
            return row

    @staticmethod
    def _row(session: Session, document_id: str, *, lock: bool = False) -> DocumentRow:
        row = session.get(DocumentRow, document_id, with_for_update=lock)
        if row is None:
            raise NotFoundError(f"document '{document_id}' not found")
        return row


def _add_missing_columns(engine: Engine) -> None:
    """Bring a registry written by an older ragline up to date (nullable columns only).

    ``create_all`` makes missing tables, not missing columns; every column added since
    the first release is nullable, so adding it is the whole migration.
    """
    inspector = inspect(engine)
    for table in _Base.metadata.sorted_tables:
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            kind = column.type.compile(dialect=engine.dialect)
            with engine.begin() as conn:
                conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets the API read while the in-process worker writes.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)
