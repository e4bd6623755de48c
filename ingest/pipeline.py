"""The ingestion pipeline as plain functions: one document in, its chunks in the index.

Celery tasks (``workers/tasks.py``, also run by the embedded worker) and the CLI's
folder ingestion (``ingest/folder.py``) all call :func:`ingest_document`; there is no
second copy of this flow.

Order of writes, chosen so that a crash at any point heals on the next run and a
reader never sees a half-updated document:
1. the registry hands the attempt a version never used before for this id (not
   even by a deleted document of the same name), and the chunks are built with the
   document's roles at that moment;
2. the new version's chunks are upserted (ids derive from document, version, index);
3. the registry flips ``indexed_version`` (readers switch here, atomically), unless
   the document was deleted or a newer version won meanwhile: then this attempt's
   chunks are removed instead;
4. chunks of every other version (older ones, a crashed attempt's) are deleted.
Retrieval shows a chunk only if the registry serves its version, to the roles the
registry says (``Registry.served``), so leftovers of any step are never visible.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from chunkers.registry import chunk_document, resolve_doc_type
from governance.erasure_port import DocumentErasure
from ingest.content_hash import hash_file
from ingest.parsing.base import Parser
from ingest.ports import Buckets, BucketStore, DocumentRegistry, IngestObserver, PiiRedactor
from ingest.records import Document, fingerprint
from kernel.documents import ChunkDraft, ParsedDocument
from kernel.errors import (
    DocumentError,
    EmptyDocumentError,
    InvalidInputError,
    NotFoundError,
    ObjectMissingError,
    PersonalDataRefusedError,
    RaglineError,
    SupersededError,
)
from retrieval.encoders import DenseEncoder, SparseEncoder
from retrieval.index.base import ChunkIndex, IndexedChunk

log = logging.getLogger(__name__)

_CHUNK_NAMESPACE = uuid.UUID("a4f8e0d2-31b7-4c55-8f0e-5d2c9b1e7a63")
Outcome = Literal["indexed", "unchanged", "failed", "deleted", "superseded"]


@dataclass(frozen=True, slots=True)
class IngestionDeps:
    registry: DocumentRegistry
    store: BucketStore
    parser: Parser
    dense: DenseEncoder
    sparse: SparseEncoder
    index: ChunkIndex
    buckets: Buckets
    # Personal-data redaction for buckets whose policy is "redact" (governance.pii);
    # None: such buckets' documents fail rather than be indexed unredacted.
    pii: PiiRedactor | None = None
    # Told each document's outcome and stage timings (the process's metrics); None: nobody.
    observer: IngestObserver | None = None
    # Erases the answer records citing a document a refresh removes (governance.erasure);
    # None: nobody (a user's delete erases through the API with the admin as actor).
    erasure: DocumentErasure | None = None


@dataclass(frozen=True, slots=True)
class IngestResult:
    document_id: str
    outcome: Outcome
    chunks: int = 0
    error_code: str | None = None
    error: str | None = None
    children: tuple[str, ...] = ()  # attachments registered and waiting for ingestion
    # The format the parser found (the stored one when unchanged; None if parsing failed).
    # It describes the file, not the outcome, so results compare without it.
    format: str | None = field(default=None, compare=False)


def chunk_id_for(document_id: str, version: int, index: int) -> str:
    return str(uuid.uuid5(_CHUNK_NAMESPACE, f"{document_id}:{version}:{index}"))


def object_path(deps: IngestionDeps, doc: Document) -> Path:
    if doc.parent_id:
        return deps.store.derived_path(doc.parent_id, doc.key.rsplit("#", 1)[-1])
    bucket = deps.buckets.get_bucket(doc.bucket)
    return deps.store.path_for(bucket.name, bucket.source, doc.key)


@dataclass(frozen=True, slots=True)
class Prepared:
    """One claimed attempt, parsed, chunked and embedded, not yet written."""

    document: Document  # as claimed: its roles are the roles the chunks carry
    version: int
    parsed: ParsedDocument
    chunks: list[IndexedChunk]
    content_hash: str
    fingerprint: str
    doc_type: str
    parse_seconds: float
    embed_seconds: float = 0.0


def ingest_document(deps: IngestionDeps, document_id: str) -> IngestResult:
    """Parse, chunk, embed and index one registered document; record the outcome.

    A :class:`DocumentError` (bad file) is recorded as ``failed`` with its reason and
    not raised: retrying cannot fix the file. Infrastructure errors propagate so the
    task layer can retry them. The three steps are separate functions so that tests
    can interleave other operations (a delete, a change of roles) between them.

    Every attempt that returns is told to ``deps.observer`` here, once; one that raises
    is told by :func:`record_unexpected_failure` if the caller gives up on it.
    """
    step = prepare(deps, document_id)
    if isinstance(step, IngestResult):
        _observe(deps, step, {})
        return step
    started = time.perf_counter()
    write(deps, step)
    result = commit(deps, step)
    stages = {
        "parse": step.parse_seconds,
        "embed": step.embed_seconds,
        "write": time.perf_counter() - started,
    }
    _observe(deps, result, stages)
    return result


def _observe(deps: IngestionDeps, result: IngestResult, stages: Mapping[str, float]) -> None:
    """Tell the observer; a failing observer must not turn an indexed document into a failed one."""
    if deps.observer is None:
        return
    try:
        deps.observer.observed(
            outcome=result.outcome,
            format=result.format,
            error_code=result.error_code,
            stages=stages,
        )
    except Exception:  # the document's outcome is recorded already; only the metric is lost
        log.warning("ingest observer failed for document %s", result.document_id, exc_info=True)


def prepare(deps: IngestionDeps, document_id: str) -> Prepared | IngestResult:
    """Take the document, build a new version's chunks; nothing is written to the index yet."""
    doc = deps.registry.mark_processing(document_id)
    path = object_path(deps, doc)
    fmt: str | None = None
    try:
        if not path.is_file():
            raise ObjectMissingError(f"object '{doc.key}' is no longer in bucket '{doc.bucket}'")
        content_hash = hash_file(path)
        served_from = fingerprint(content_hash, doc.roles, doc.doc_type, doc.title)
        if served_from == doc.indexed_fingerprint and deps.index.count(document_id=doc.id) > 0:
            deps.registry.mark_unchanged(doc.id)
            return IngestResult(doc.id, "unchanged", chunks=doc.chunks, format=doc.format)
        started = time.perf_counter()
        parsed = deps.parser.parse(path, filename=doc.key.rsplit("/", 1)[-1])
        parse_seconds = time.perf_counter() - started
        fmt = parsed.format
        doc_type = resolve_doc_type(doc.doc_type, parsed)
        drafts = chunk_document(parsed, doc_type, deps.dense.tokens)
        if not drafts:
            return _empty_with_attachments(deps, doc, parsed, fmt)
        policy = deps.buckets.get_bucket(doc.bucket).pii
        if policy == "redact":
            doc, parsed, drafts = _redacted(deps, doc, parsed, drafts)
        elif policy == "block":
            _refuse_personal_data(deps, parsed, drafts)
    except (DocumentError, InvalidInputError) as exc:
        # InvalidInputError: a type stored before types were checked at the door.
        deps.registry.mark_failed(doc.id, code=exc.code, message=exc.message)
        # Expected for bad files: recorded for the user, not an operator's alarm.
        log.info("document %s failed: %s", doc.id, exc.code)
        return IngestResult(doc.id, "failed", error_code=exc.code, error=exc.message, format=fmt)
    version = deps.registry.next_version(doc.id)
    started = time.perf_counter()
    chunks = _build_chunks(deps, doc, parsed, drafts, version, content_hash, doc_type)
    embed_seconds = time.perf_counter() - started
    return Prepared(
        doc,
        version,
        parsed,
        chunks,
        content_hash,
        served_from,
        doc_type,
        parse_seconds,
        embed_seconds,
    )


def write(deps: IngestionDeps, prepared: Prepared) -> None:
    """Upsert the new version's chunks; readers do not see them until :func:`commit`."""
    deps.index.upsert(prepared.chunks)


def commit(deps: IngestionDeps, prepared: Prepared) -> IngestResult:
    """Serve the new version, or remove it when the attempt lost a race.

    A document deleted (or deleted and uploaded again) since the claim, or one that a
    newer attempt already serves, gets this attempt's chunks removed: a deletion wins
    over an in-flight ingestion. If the roles narrowed since the claim, the served
    chunks are narrowed in the index too (the registry gate applies it already).
    """
    doc, version = prepared.document, prepared.version
    try:
        served = deps.registry.mark_indexed(
            doc.id,
            version=version,
            content_hash=prepared.content_hash,
            fingerprint=prepared.fingerprint,
            chunks=len(prepared.chunks),
            detected_type=prepared.doc_type,
            fmt=prepared.parsed.format,
            title=prepared.parsed.title,
            parse_seconds=prepared.parse_seconds,
            built_roles=doc.roles,
            incarnation=doc.incarnation,
        )
    except (NotFoundError, SupersededError) as exc:
        deps.index.delete_version(doc.id, version)
        outcome: Outcome = "deleted" if isinstance(exc, NotFoundError) else "superseded"
        log.info(
            "document %s: version %d %s meanwhile; its chunks removed", doc.id, version, outcome
        )
        return IngestResult(doc.id, outcome, format=prepared.parsed.format)
    deps.index.delete_document(doc.id, keep_version=version)
    if set(served.served_roles) != set(doc.roles):
        deps.index.set_roles(doc.id, served.served_roles)
    children = _register_attachments(deps, served, prepared.parsed)
    return IngestResult(
        doc.id,
        "indexed",
        chunks=len(prepared.chunks),
        children=children,
        format=prepared.parsed.format,
    )


def apply_narrowed_roles(deps: IngestionDeps, document_ids: Sequence[str]) -> None:
    """Push roles the registry narrowed to the chunks in the index, synchronously.

    Retrieval's registry gate already hides what the new roles exclude; this makes the
    index filter agree, so the excluded chunks stop taking places in a caller's top-k.
    """
    for document_id in document_ids:
        try:
            doc = deps.registry.get(document_id)
        except NotFoundError:
            continue
        deps.index.set_roles(document_id, doc.served_roles)


def remove_document(deps: IngestionDeps, document_id: str) -> Document:
    """Delete a document, its attachments and their chunks.

    The registry row goes first, so readers stop seeing the document at once.
    """
    doc = deps.registry.delete(document_id)
    for child in deps.registry.children(document_id):
        remove_document(deps, child.id)
    deps.index.delete_document(document_id)
    deps.store.delete_derived(document_id)
    return doc


def delete_document(deps: IngestionDeps, document_id: str) -> Document:
    """A user's delete: the object leaves the bucket, then the document leaves the index.

    The bucket is the source of truth, so an object left behind would come back on the
    next refresh, and under the bucket's roles, not the narrower ones its upload may
    have set. Hence the object goes first: if the store refuses, nothing has changed.
    """
    doc = deps.registry.get(document_id)
    if doc.parent_id is None:
        bucket = deps.buckets.get_bucket(doc.bucket)
        deps.store.delete_object(bucket.name, bucket.source, doc.key)
    return remove_document(deps, document_id)


def _redacted(
    deps: IngestionDeps, doc: Document, parsed: ParsedDocument, drafts: Sequence[ChunkDraft]
) -> tuple[Document, ParsedDocument, list[ChunkDraft]]:
    """The document's title and chunks with personal data as placeholders.

    One redaction per document, so a value keeps its placeholder across chunks. The
    original text never reaches the index, the BM25 vocabulary or a model; the object
    in the bucket stays as uploaded (the bucket is the source of truth).
    """
    if deps.pii is None:
        raise PersonalDataRefusedError(
            "the bucket's policy redacts personal data, but no PII detector is configured"
        )
    redaction = deps.pii.redaction()

    def redact(text: str | None) -> str | None:
        return None if text is None else redaction.redact(text)

    return (
        replace(doc, title=redact(doc.title)),
        replace(parsed, title=redact(parsed.title)),
        [replace(d, text=redaction.redact(d.text), section=redact(d.section)) for d in drafts],
    )


def _refuse_personal_data(
    deps: IngestionDeps, parsed: ParsedDocument, drafts: Sequence[ChunkDraft]
) -> None:
    """Fail the document, naming the kinds found and never the values, if it holds PII."""
    if deps.pii is None:
        raise PersonalDataRefusedError(
            "the bucket's policy refuses personal data, but no PII detector is configured"
        )
    texts = [parsed.title or "", *(d.section or "" for d in drafts), *(d.text for d in drafts)]
    kinds = sorted({f.entity_type for text in texts if text for f in deps.pii.find(text)})
    if kinds:
        raise PersonalDataRefusedError(
            f"the document holds personal data ({', '.join(kinds)}), which the bucket's "
            "policy refuses: redact it before uploading, or use a bucket that allows it"
        )


def _build_chunks(
    deps: IngestionDeps,
    doc: Document,
    parsed: ParsedDocument,
    drafts: Sequence[ChunkDraft],
    version: int,
    content_hash: str,
    doc_type: str,
) -> list[IndexedChunk]:
    # A document without a title is shown under its file name, but a file name is no
    # text: "report-final-v2.pdf" or an id must not become BM25 terms.
    known_title = doc.title or parsed.title
    title = known_title or Path(doc.key.rsplit("#", 1)[-1]).name
    dense = deps.dense.embed([d.text for d in drafts])
    # The lexical side also sees title and section: cheap, and headings are what
    # people type. The dense side gets the text alone to stay inside the model window.
    sparse = deps.sparse.encode_documents(
        [" ".join(filter(None, (known_title, d.section, d.text))) for d in drafts]
    )
    chunks = []
    for i, (draft, vec, sp) in enumerate(zip(drafts, dense, sparse, strict=True)):
        payload: dict[str, Any] = {
            "document_id": doc.id,
            "document_version": version,
            "content_hash": content_hash,
            "bucket": doc.bucket,
            "source": doc.key,
            "title": title,
            "doc_type": doc_type,
            "format": parsed.format,
            "roles": list(doc.roles),
            "section": draft.section,
            "page": draft.page,
            "chunk_index": i,
            "text": draft.text,
        }
        if draft.metadata:
            payload["metadata"] = dict(draft.metadata)
        chunks.append(IndexedChunk(chunk_id_for(doc.id, version, i), vec, sp, payload))
    return chunks


def _empty_with_attachments(
    deps: IngestionDeps, doc: Document, parsed: ParsedDocument, fmt: str | None
) -> IngestResult:
    """A document with no text of its own fails as empty, after its attachments are registered.

    A digest of messages, or an email whose only content is attachments, has
    headers and nothing to chunk; what it carries must still reach the registry
    (under the roles it was claimed with) and be ingested, never be lost with it.
    """
    children = _register_attachments(deps, doc, parsed, roles=doc.roles)
    message = "the document has no text to index"
    if parsed.attachments:
        count = len(parsed.attachments)
        noun = "attachment" if count == 1 else "attachments"
        message = (
            f"the document has no text of its own to index; its {count} {noun} "
            "are ingested as documents of their own"
        )
    exc = EmptyDocumentError(message)
    deps.registry.mark_failed(doc.id, code=exc.code, message=exc.message)
    log.info("document %s failed: %s (%d attachments)", doc.id, exc.code, len(children))
    return IngestResult(
        doc.id, "failed", error_code=exc.code, error=exc.message, children=children, format=fmt
    )


def _register_attachments(
    deps: IngestionDeps,
    doc: Document,
    parsed: ParsedDocument,
    *,
    roles: Sequence[str] | None = None,
) -> tuple[str, ...]:
    """Attachments become documents of their own, linked to the email that carried them.

    They take the roles the email is served under (``roles`` for one that is not served).
    """
    queued = []
    for attachment in parsed.attachments:
        stored = deps.store.write_derived(doc.id, attachment.filename, attachment.content)
        registration = deps.registry.register(
            bucket=doc.bucket,
            key=f"{doc.key}#{stored.key}",
            content_hash=stored.content_hash,
            size_bytes=stored.size_bytes,
            roles=doc.served_roles if roles is None else roles,
            doc_type=None,
            title=attachment.filename,
            parent_id=doc.id,
        )
        if registration.needs_ingest:
            queued.append(registration.document.id)
    return tuple(queued)


def record_unexpected_failure(deps: IngestionDeps, document_id: str, exc: BaseException) -> None:
    """Make a crash visible in the registry (and to the observer, as failed) without
    leaking internals to API clients."""
    code = exc.code if isinstance(exc, RaglineError) else "internal_error"
    message = (
        exc.message
        if isinstance(exc, RaglineError)
        else f"unexpected {type(exc).__name__} while ingesting; see the server log"
    )
    deps.registry.mark_failed(document_id, code=code, message=message)
    _observe(deps, IngestResult(document_id, "failed", error_code=code, error=message), {})
