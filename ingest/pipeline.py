"""The ingestion pipeline as plain functions: one document in, its chunks in the index.

Celery tasks (``workers/tasks.py``, also run by the embedded worker) call
:func:`ingest_document`; the CLI's folder ingestion (``ingest/folder.py``) calls
:func:`ingest_documents`, the same steps for a batch of documents with one embedding
call and one upsert. There is no second copy of this flow.

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
from ingest.content_hash import hash_bytes, hash_file
from ingest.parsing.base import Parser
from ingest.parsing.formats import declared_content_type
from ingest.ports import Buckets, BucketStore, DocumentRegistry, IngestObserver, PiiRedactor
from ingest.records import CarriedObject, Document, Registration, fingerprint
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
from retrieval.index.base import ChunkIndex, IndexedChunk, SparseVector

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


def parse_document(deps: IngestionDeps, doc: Document, path: Path) -> ParsedDocument:
    """Parse ``doc``'s object at ``path`` with what is known of it besides its bytes.

    The parser hears the file's own name (``export`` for ``mail.eml#export``, ``a.md``
    for ``bundle.zip#docs/a.md``), not its container's, and the content type the
    container declared (an attachment's ``Content-Type``). Both are evidence that
    detection weighs against the bytes, on every parse: ingestion, retry, re-index.
    """
    name = doc.key.rsplit("#", 1)[-1] if doc.parent_id else doc.key
    return deps.parser.parse(path, filename=name.rsplit("/", 1)[-1], content_type=doc.declared_type)


def object_path(deps: IngestionDeps, doc: Document) -> Path:
    if doc.parent_id:
        return deps.store.derived_path(doc.parent_id, doc.key.rsplit("#", 1)[-1])
    bucket = deps.buckets.get_bucket(doc.bucket)
    return deps.store.path_for(bucket.name, bucket.source, doc.key)


@dataclass(frozen=True, slots=True)
class Drafted:
    """One claimed attempt, parsed and chunked, not yet embedded or written."""

    document: Document  # as claimed: its roles are the roles the chunks carry
    version: int
    parsed: ParsedDocument
    drafts: list[ChunkDraft]
    content_hash: str
    fingerprint: str
    doc_type: str
    # Seconds this document spent per stage so far (parse, chunk, registry).
    stages: dict[str, float]


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
    # Seconds per stage (parse, chunk, registry, embed, sparse; the caller adds write
    # and commit); a batch's shared stages are split among its documents by chunk count.
    stages: dict[str, float]


def ingest_document(deps: IngestionDeps, document_id: str) -> IngestResult:
    """Parse, chunk, embed and index one registered document; record the outcome.

    A :class:`DocumentError` (bad file) is recorded as ``failed`` with its reason and
    not raised: retrying cannot fix the file. Infrastructure errors propagate so the
    task layer can retry them. The steps are separate functions so that tests can
    interleave other operations (a delete, a change of roles) between them.

    Every attempt that returns is told to ``deps.observer`` here, once; one that raises
    is told by :func:`record_unexpected_failure` if the caller gives up on it.
    """
    return ingest_documents(deps, [document_id])[0]


def ingest_documents(deps: IngestionDeps, document_ids: Sequence[str]) -> list[IngestResult]:
    """:func:`ingest_document` for many documents, with one embedding call and one upsert.

    Embedding is most of an ingestion's time, and a model encodes a batch of many
    short texts far faster than the same texts one call at a time; a bulk load of
    small files was otherwise bound by batches of one. Each document is still claimed,
    versioned and committed on its own, in the order given, so the write order above
    holds per document and a batch changes no document's visibility: between its
    upsert and its commit, a document's new chunks are as invisible as a single
    document's are. Results come back in the order of ``document_ids``.

    A document deleted before its turn ends ``deleted`` and the batch goes on. Any
    other unexpected error while drafting a document propagates (as for one document):
    the documents of the batch claimed before it stay ``processing`` and are picked up
    by the next run or the task's retry, like those of a crashed process.
    """
    steps = [_draft_unless_deleted(deps, document_id) for document_id in document_ids]
    drafted = [step for step in steps if isinstance(step, Drafted)]
    embedded = iter(embed_drafted(deps, drafted))
    prepared = [step if isinstance(step, IngestResult) else next(embedded) for step in steps]
    ready = [step for step in prepared if isinstance(step, Prepared)]
    started = time.perf_counter()
    write_all(deps, ready)
    upsert_shares = _shares(time.perf_counter() - started, ready)
    results = []
    for step in prepared:
        if isinstance(step, IngestResult):
            _observe(deps, step, {})
            results.append(step)
            continue
        started = time.perf_counter()
        result = commit(deps, step)
        stages = dict(step.stages)
        stages["write"] = upsert_shares[id(step)]
        stages["commit"] = time.perf_counter() - started
        _observe(deps, result, stages)
        results.append(result)
    return results


def _draft_unless_deleted(deps: IngestionDeps, document_id: str) -> Drafted | IngestResult:
    """:func:`draft`, or ``deleted`` for a document removed since the batch was formed.

    A user's delete between the walk (or the queue) and the document's turn is a race
    the delete wins, as it does at the commit: nothing of the document was written yet.
    """
    try:
        return draft(deps, document_id)
    except NotFoundError:
        log.info("document %s was deleted before its turn in the batch", document_id)
        return IngestResult(document_id, "deleted")


def _shares(seconds: float, batch: Sequence[Prepared | Drafted]) -> dict[int, float]:
    """A batch's shared time, split among its documents by chunk count (at least one)."""
    weights = {
        id(step): max(1, len(step.chunks) if isinstance(step, Prepared) else len(step.drafts))
        for step in batch
    }
    total = sum(weights.values()) or 1
    return {key: seconds * weight / total for key, weight in weights.items()}


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
    step = draft(deps, document_id)
    if isinstance(step, IngestResult):
        return step
    return embed_drafted(deps, [step])[0]


def draft(deps: IngestionDeps, document_id: str) -> Drafted | IngestResult:
    """Take the document and parse and chunk it; a bad file ends here as ``failed``."""
    started = time.perf_counter()
    doc = deps.registry.mark_processing(document_id)
    registry_seconds = time.perf_counter() - started
    path = object_path(deps, doc)
    fmt: str | None = None
    try:
        if not path.is_file():
            raise ObjectMissingError(f"object '{doc.key}' is no longer in bucket '{doc.bucket}'")
        content_hash = hash_file(path)
        served_from = fingerprint(
            content_hash, doc.roles, doc.doc_type, doc.title, doc.declared_type
        )
        if served_from == doc.indexed_fingerprint and deps.index.count(document_id=doc.id) > 0:
            deps.registry.mark_unchanged(doc.id)
            return IngestResult(doc.id, "unchanged", chunks=doc.chunks, format=doc.format)
        started = time.perf_counter()
        parsed = parse_document(deps, doc, path)
        parse_seconds = time.perf_counter() - started
        fmt = parsed.format
        started = time.perf_counter()
        doc, parsed, drafts, doc_type = chunked(deps, doc, parsed)
        if not drafts:
            return _empty_with_attachments(deps, doc, parsed, fmt)
        chunk_seconds = time.perf_counter() - started
    except (DocumentError, InvalidInputError) as exc:
        # InvalidInputError: a type stored before types were checked at the door.
        deps.registry.mark_failed(doc.id, code=exc.code, message=exc.message)
        # Expected for bad files: recorded for the user, not an operator's alarm.
        log.info("document %s failed: %s", doc.id, exc.code)
        return IngestResult(doc.id, "failed", error_code=exc.code, error=exc.message, format=fmt)
    started = time.perf_counter()
    version = deps.registry.next_version(doc.id)
    registry_seconds += time.perf_counter() - started
    stages = {"parse": parse_seconds, "chunk": chunk_seconds, "registry": registry_seconds}
    return Drafted(doc, version, parsed, list(drafts), content_hash, served_from, doc_type, stages)


def chunked(
    deps: IngestionDeps, doc: Document, parsed: ParsedDocument
) -> tuple[Document, ParsedDocument, list[ChunkDraft], str]:
    """The document's chunks as its bucket's personal-data policy allows them to be indexed.

    Returns the document and parse with the title redacted where the policy redacts,
    the drafts (none for a document with no text), and the resolved doc type. Every
    path that builds chunks (ingestion, reindexing) goes through here, so no path can
    index what the policy redacts or refuses.

    Raises:
        PersonalDataRefusedError: the policy refuses personal data and the text holds some.
    """
    doc_type = resolve_doc_type(doc.doc_type, parsed)
    drafts = chunk_document(parsed, doc_type, deps.dense.tokens)
    if not drafts:
        return doc, parsed, [], doc_type
    policy = deps.buckets.get_bucket(doc.bucket).pii
    if policy == "redact":
        doc, parsed, drafts = _redacted(deps, doc, parsed, drafts)
    elif policy == "block":
        _refuse_personal_data(deps, parsed, drafts)
    return doc, parsed, list(drafts), doc_type


def build_chunks(
    deps: IngestionDeps,
    doc: Document,
    parsed: ParsedDocument,
    drafts: Sequence[ChunkDraft],
    *,
    version: int,
    content_hash: str,
    doc_type: str,
) -> list[IndexedChunk]:
    """One version's index entries from drafts :func:`chunked` returned, embedded now."""
    step = Drafted(doc, version, parsed, list(drafts), content_hash, "", doc_type, {})
    return embed_drafted(deps, [step])[0].chunks


def embed_drafted(deps: IngestionDeps, drafted: Sequence[Drafted]) -> list[Prepared]:
    """Embed every drafted document's chunks in one dense and one sparse call."""
    if not drafted:
        return []
    started = time.perf_counter()
    dense = deps.dense.embed([d.text for step in drafted for d in step.drafts])
    embed_shares = _shares(time.perf_counter() - started, drafted)
    started = time.perf_counter()
    sparse = deps.sparse.encode_documents(
        [_lexical_text(step, d) for step in drafted for d in step.drafts]
    )
    sparse_shares = _shares(time.perf_counter() - started, drafted)
    prepared = []
    offset = 0
    for step in drafted:
        end = offset + len(step.drafts)
        chunks = _build_chunks(step, dense[offset:end], sparse[offset:end])
        offset = end
        stages = dict(step.stages)
        stages["embed"] = embed_shares[id(step)]
        stages["sparse"] = sparse_shares[id(step)]
        prepared.append(
            Prepared(
                step.document,
                step.version,
                step.parsed,
                chunks,
                step.content_hash,
                step.fingerprint,
                step.doc_type,
                stages,
            )
        )
    return prepared


def write(deps: IngestionDeps, prepared: Prepared) -> None:
    """Upsert the new version's chunks; readers do not see them until :func:`commit`."""
    write_all(deps, [prepared])


def write_all(deps: IngestionDeps, prepared: Sequence[Prepared]) -> None:
    """:func:`write` for many documents in one upsert."""
    chunks = [chunk for step in prepared for chunk in step.chunks]
    if chunks:
        deps.index.upsert(chunks)


def commit(deps: IngestionDeps, prepared: Prepared) -> IngestResult:
    """Serve the new version, or remove it when the attempt lost a race.

    A document deleted (or deleted and uploaded again) since the claim, or one that a
    newer attempt already serves, gets this attempt's chunks removed: a deletion wins
    over an in-flight ingestion. If the roles narrowed since the claim, the served
    chunks are narrowed in the index too (the registry gate applies it already).
    """
    doc, version = prepared.document, prepared.version
    try:
        committed = deps.registry.mark_indexed(
            doc.id,
            version=version,
            content_hash=prepared.content_hash,
            fingerprint=prepared.fingerprint,
            chunks=len(prepared.chunks),
            detected_type=prepared.doc_type,
            fmt=prepared.parsed.format,
            title=prepared.parsed.title,
            parse_seconds=prepared.stages.get("parse", 0.0),
            built_roles=doc.roles,
            incarnation=doc.incarnation,
            carried=_carried(deps, prepared.parsed),
        )
    except (NotFoundError, SupersededError) as exc:
        deps.index.delete_version(doc.id, version)
        outcome: Outcome = "deleted" if isinstance(exc, NotFoundError) else "superseded"
        log.info(
            "document %s: version %d %s meanwhile; its chunks removed", doc.id, version, outcome
        )
        return IngestResult(doc.id, outcome, format=prepared.parsed.format)
    served = committed.document
    _store_carried(deps, doc, prepared.parsed)
    for gone in committed.dropped:
        deps.index.delete_document(gone.id)
        deps.store.delete_derived(gone.id)
        if gone.parent_id == doc.id:
            deps.store.delete_derived_object(doc.id, gone.key.rsplit("#", 1)[-1])
    deps.index.delete_document(doc.id, keep_version=version)
    if set(served.served_roles) != set(doc.roles):
        deps.index.set_roles(doc.id, served.served_roles)
    children = _queued_children(deps, committed.carried)
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


def _lexical_text(step: Drafted, draft: ChunkDraft) -> str:
    """The lexical side also sees title and section: cheap, and headings are what people
    type. The dense side gets the text alone to stay inside the model window."""
    return " ".join(filter(None, (_known_title(step), draft.section, draft.text)))


def _known_title(step: Drafted) -> str | None:
    return step.document.title or step.parsed.title


def _build_chunks(
    step: Drafted, dense: Sequence[list[float]], sparse: Sequence[SparseVector]
) -> list[IndexedChunk]:
    doc, version = step.document, step.version
    # A document without a title is shown under its file name, but a file name is no
    # text: "report-final-v2.pdf" or an id must not become BM25 terms.
    title = _known_title(step) or Path(doc.key.rsplit("#", 1)[-1]).name
    chunks = []
    for i, (draft, vec, sp) in enumerate(zip(step.drafts, dense, sparse, strict=True)):
        payload: dict[str, Any] = {
            "document_id": doc.id,
            "document_version": version,
            "content_hash": step.content_hash,
            "bucket": doc.bucket,
            "source": doc.key,
            "title": title,
            "doc_type": step.doc_type,
            "format": step.parsed.format,
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
    deps: IngestionDeps, doc: Document, parsed: ParsedDocument, *, roles: Sequence[str]
) -> tuple[str, ...]:
    """Register what a document that is not served carried, under ``roles``."""
    _store_carried(deps, doc, parsed)
    registrations = [
        deps.registry.register(
            bucket=doc.bucket,
            key=f"{doc.key}#{obj.key}",
            content_hash=obj.content_hash,
            size_bytes=obj.size_bytes,
            roles=roles,
            doc_type=None,
            title=obj.title,
            parent_id=doc.id,
            declared_type=obj.declared_type,
        )
        for obj in _carried(deps, parsed)
    ]
    return _queued_children(deps, registrations)


def _carried(deps: IngestionDeps, parsed: ParsedDocument) -> tuple[CarriedObject, ...]:
    """Attachments and archive members, as they will be registered: documents of their
    own, linked to their container, keeping the content type it declared for them."""
    return tuple(
        CarriedObject(
            key=deps.store.derived_key(attachment.filename),
            content_hash=hash_bytes(attachment.content),
            size_bytes=len(attachment.content),
            title=attachment.filename,
            declared_type=declared_content_type(attachment.content_type),
        )
        for attachment in parsed.attachments
    )


def _store_carried(deps: IngestionDeps, doc: Document, parsed: ParsedDocument) -> None:
    """Write what ``doc`` carried where the children's own ingestion reads it.

    Only after the commit that registered them: an attempt that lost a race, or whose
    document was deleted meanwhile, must not overwrite a newer version's files nor leave
    files of an erased document behind.
    """
    for attachment in parsed.attachments:
        deps.store.write_derived(doc.id, attachment.filename, attachment.content)


def _queued_children(deps: IngestionDeps, registrations: Sequence[Registration]) -> tuple[str, ...]:
    """The children to ingest; a child whose served roles a registration narrowed has
    its chunks narrowed in the index too (the registry gate hides them already)."""
    narrowed = [id_ for r in registrations for id_ in r.roles_changed]
    if narrowed:
        apply_narrowed_roles(deps, narrowed)
    return tuple(r.document.id for r in registrations if r.needs_ingest)


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
