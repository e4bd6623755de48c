"""Ingest a local file or folder into a bucket: one walk, two ways to reach the bucket.

``ingest_folder`` is the folder use case: offer every file, then wait for each to
end indexed, unchanged or failed, attachments included, reporting each as it ends.
How a file reaches the bucket is a :class:`FolderGateway`: :class:`InProcessGateway`
writes the index in this process (``ragline ingest``); ``ragline.remote_ingest``
uploads through a running server's API (``ragline ingest --server``, the demo), whose
own workers do the writes. Files are all offered before any is waited for, so a
server works on them while the walk waits.

A run killed mid-document leaves that document ``processing``. In-process ingestion
of an embedded data directory is the index's only writer, so a document of the
bucket found ``processing`` when a run starts was left so by an earlier run: it is
queued again and ingested with this run's files (``resumed`` in its report).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from chunkers.registry import known_doc_type
from ingest.content_hash import hash_file
from ingest.pipeline import IngestionDeps, IngestResult, ingest_documents
from ingest.records import Bucket, Document, Registration
from ingest.registration import accept_upload, register_object
from kernel.errors import ConflictError, InvalidInputError, PayloadTooLargeError


@dataclass(frozen=True, slots=True)
class FileReport:
    name: str
    format: str
    outcome: str
    chunks: int
    seconds: float
    error_code: str | None = None
    error: str | None = None
    resumed: bool = False  # left ``processing`` by an earlier run, picked up by this one


@dataclass(frozen=True, slots=True)
class Offered:
    """A file offered to the bucket: its document, or why it was refused at the door."""

    document_id: str | None
    unchanged: bool = False
    error_code: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Settled:
    """How a document's ingestion ended; ``children`` are its attachments (id, name)."""

    outcome: str
    format: str | None
    chunks: int
    error_code: str | None = None
    error: str | None = None
    children: tuple[tuple[str, str], ...] = ()


class FolderGateway(Protocol):
    """How a folder's files reach a bucket and how their ingestion is awaited."""

    def open_bucket(
        self, name: str, root: Path, roles: Sequence[str], doc_type: str | None
    ) -> None: ...

    def offer(self, name: str, path: Path) -> Offered: ...

    def settle(self, document_id: str, *, unchanged: bool) -> Settled: ...


@dataclass(frozen=True, slots=True)
class Batching:
    """How many waiting documents in-process ingestion takes at once (one embedding call
    and one upsert for all): up to ``documents`` files, and past the first, no more
    than ``max_bytes`` of them, so a batch of large files does not hold all their chunks
    in memory at once."""

    documents: int = 128
    max_bytes: int = 8_000_000


def list_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return [
        p
        for p in sorted(path.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
    ]


def ingest_folder(
    gateway: FolderGateway,
    root: Path,
    files: Sequence[Path],
    *,
    bucket: str,
    roles: Sequence[str],
    doc_type: str | None,
    on_file: Callable[[FileReport], None],
    resume: Sequence[tuple[str, str]] = (),
) -> list[FileReport]:
    """Offer every file, then report each as it ends; an email's attachments follow it.

    ``resume`` (document id, name) are documents an earlier run left unfinished and
    already queued again: they are settled after the files, unless a file of this
    walk is the same document.
    """
    gateway.open_bucket(bucket, root, roles, doc_type)
    reports: list[FileReport] = []
    waiting: deque[tuple[str, Path, float, Offered]] = deque()
    resumed = {document_id for document_id, _ in resume}
    for path in files:
        name = path.name if root.is_file() else path.relative_to(root).as_posix()
        started = time.perf_counter()
        offered = gateway.offer(name, path)
        if offered.document_id is None:
            report = FileReport(
                name, _suffix(path), "failed", 0, 0.0, offered.error_code, offered.error
            )
            reports.append(report)
            on_file(report)
        else:
            waiting.append((name, path, started, offered))
    walked = {offered.document_id for _, _, _, offered in waiting}
    for document_id, name in resume:
        if document_id not in walked:
            waiting.append((name, Path(name), time.perf_counter(), Offered(document_id)))
    while waiting:
        name, path, started, offered = waiting.popleft()
        assert offered.document_id is not None
        settled = gateway.settle(offered.document_id, unchanged=offered.unchanged)
        report = FileReport(
            name,
            settled.format or _suffix(path),
            settled.outcome,
            settled.chunks,
            time.perf_counter() - started,
            settled.error_code,
            settled.error,
            resumed=offered.document_id in resumed,
        )
        reports.append(report)
        on_file(report)
        now = time.perf_counter()
        for child_id, child_name in reversed(settled.children):
            waiting.appendleft((f"{name} > {child_name}", Path(child_name), now, Offered(child_id)))
    return reports


def ingest_paths(
    deps: IngestionDeps,
    root: Path,
    files: Sequence[Path],
    *,
    bucket: str,
    roles: Sequence[str],
    doc_type: str | None,
    on_file: Callable[[FileReport], None],
    on_resume: Callable[[Sequence[str]], None] | None = None,
    batching: Batching = Batching(),
) -> list[FileReport]:
    """:func:`ingest_folder` in this process (the CLI without ``--server``, tests).

    With ``on_resume`` (given only where this process is the index's one writer: an
    embedded data directory), the bucket's documents left ``processing`` by an
    earlier run are queued again and ingested too; ``on_resume`` gets their names
    (possibly none) before any work starts.
    """
    resume: list[tuple[str, str]] = []
    if on_resume is not None:
        interrupted = interrupted_documents(deps, bucket)
        for doc in interrupted:
            deps.registry.requeue(doc.id)
        resume = [(doc.id, _document_name(doc)) for doc in interrupted]
        on_resume([name for _, name in resume])
    return ingest_folder(
        InProcessGateway(deps, batching),
        root,
        files,
        bucket=bucket,
        roles=roles,
        doc_type=doc_type,
        on_file=on_file,
        resume=resume,
    )


def interrupted_documents(deps: IngestionDeps, bucket: str) -> list[Document]:
    """The bucket's documents in ``processing``: unfinished work when no other writer runs."""
    found: list[Document] = []
    page = 500
    while True:
        batch = deps.registry.list_documents(
            status="processing", bucket=bucket, limit=page, offset=len(found)
        )
        found.extend(batch)
        if len(batch) < page:
            return found


def _document_name(doc: Document) -> str:
    """A folder file's key; an attachment as "email.eml > file.pdf", as the walk names it."""
    return " > ".join(doc.key.split("#"))


class InProcessGateway:
    """Registers files and runs the pipeline here; objects outside the bucket are copied in.

    A bucket that does not exist is created with the folder as its source: an operator
    on the server's machine may name any folder (the API may not: ``ingest.buckets``).
    Settling a document ingests it together with the next offered ones that wait
    (``batching``), so a folder of many small files is embedded in batches, not one
    file at a time; each is still reported as it is settled, in the walk's order.
    """

    def __init__(self, deps: IngestionDeps, batching: Batching = Batching()) -> None:
        self._deps = deps
        self._batching = batching
        self._bucket: Bucket | None = None
        self._in_place = False
        self._roles: list[str] = []
        self._doc_type: str | None = None
        self._waiting: dict[str, int] = {}  # offered, not yet ingested: id -> bytes, in order
        self._done: dict[str, IngestResult] = {}

    def open_bucket(
        self, name: str, root: Path, roles: Sequence[str], doc_type: str | None
    ) -> None:
        buckets = self._deps.buckets
        bucket = buckets.find_bucket(name)
        if bucket is None:
            if not roles:
                raise InvalidInputError(
                    f"bucket '{name}' does not exist: give --roles to create it"
                )
            source = str(root.resolve()) if root.is_dir() else None
            bucket = buckets.create_bucket(name, roles, known_doc_type(doc_type), source)
        self._bucket = bucket
        self._in_place = (
            bucket.source is not None and Path(bucket.source).resolve() == root.resolve()
        )
        self._roles = list(roles) or list(bucket.roles)
        self._doc_type = doc_type

    def offer(self, name: str, path: Path) -> Offered:
        try:
            registration = self._register(name, path)
        except (InvalidInputError, ConflictError, PayloadTooLargeError) as exc:
            return Offered(None, error_code=exc.code, error=exc.message)
        if registration.needs_ingest:
            self._waiting[registration.document.id] = registration.document.size_bytes
        return Offered(registration.document.id, unchanged=not registration.needs_ingest)

    def settle(self, document_id: str, *, unchanged: bool) -> Settled:
        registry = self._deps.registry
        if unchanged:
            doc = registry.get(document_id)
            return Settled("unchanged", doc.format, doc.chunks)
        if document_id not in self._done:
            batch = self._next_batch(document_id)
            for result in ingest_documents(self._deps, batch):
                self._done[result.document_id] = result
        result = self._done.pop(document_id)
        doc = registry.get(document_id)
        children = tuple(
            (child, registry.get(child).key.rsplit("#", 1)[-1]) for child in result.children
        )
        return Settled(
            result.outcome, doc.format, result.chunks, result.error_code, result.error, children
        )

    def _next_batch(self, first: str) -> list[str]:
        """``first`` and the documents offered after it that wait, within the limits."""
        self._waiting.pop(first, None)
        batch = [first]
        size = 0
        for document_id, size_bytes in list(self._waiting.items()):
            if len(batch) >= self._batching.documents:
                break
            size += size_bytes
            if size > self._batching.max_bytes:
                break
            del self._waiting[document_id]
            batch.append(document_id)
        return batch

    def _register(self, name: str, path: Path) -> Registration:
        bucket = self._bucket
        if bucket is None:
            raise RuntimeError("open_bucket must come first")
        if self._in_place:
            return register_object(
                self._deps,
                bucket=bucket.name,
                key=name,
                content_hash=hash_file(path),
                size_bytes=path.stat().st_size,
                roles=self._roles,
                doc_type=self._doc_type or bucket.doc_type,
                title=None,
            )
        with path.open("rb") as fh:
            return accept_upload(
                self._deps,
                bucket,
                name,
                fh,
                roles=self._roles,
                doc_type=self._doc_type,
                title=None,
                max_bytes=1 << 62,
            )


def _suffix(path: Path) -> str:
    return path.suffix.lstrip(".").lower() or "unknown"
