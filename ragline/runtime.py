"""Builds the domain components from settings, once, for whichever process needs them.

The API process, a Celery worker and the CLI each call :func:`open_runtime`; the
settings decide the adapters (in-process Qdrant or a server, SQLite or PostgreSQL),
and nothing downstream knows which were picked.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from functools import partial

from answer.service import AnswerService
from governance.audit_answers import AuditedAnswers
from governance.audit_log import AuditLog
from governance.erasure import AnswerErasure
from governance.keys import KeyStore
from governance.pii import PiiDetector, redact_text
from governance.record_writer import RecordWriter
from governance.review import ReviewQueue
from ingest.bucket_catalog import BucketCatalog
from ingest.parsing.isolated import IsolatedParser
from ingest.parsing.ocr_languages import require_ocr_languages
from ingest.parsing.scratch import private_dir
from ingest.pipeline import IngestionDeps
from ingest.refresh import RefreshPolicy
from ingest.refresh_log import RefreshRuns
from ingest.registry import Registry
from ingest.reindex import ReindexPolicy
from ingest.reindex_log import ReindexRuns
from ingest.s3_store import S3BucketStore
from ingest.schedule_book import ScheduleBook
from ingest.source_router import SourceRouter
from ingest.storage import LocalBucketStore
from kernel.settings import Settings
from observability.answer_metrics import AnswerMetrics
from observability.ingest_metrics import IngestMetrics
from observability.metrics import Metrics
from observability.release_metrics import ReleaseMetrics
from prompts.book import PromptBook
from ragline.generation_wiring import Generating, open_generation
from ragline.release_eval import GoldenEval
from ragline.schema import ensure_schema
from releases.book import ReleaseBook
from releases.model import known_routes
from releases.router import ReleaseRouter
from releases.service import ReleaseService
from releases.tally import Tally
from retrieval.embedder_choice import open_dense_encoder
from retrieval.encoders import DenseEncoder
from retrieval.hybrid import HybridRetriever, RetrievalConfig
from retrieval.index.base import ChunkIndex, Fusion
from retrieval.query_vectors import QueryVectorCache
from retrieval.sparse import BM25SparseEncoder
from usage.ledger import UsageLedger

log = logging.getLogger(__name__)


@dataclass(eq=False)  # compared and hashed by identity (the worker tracks open ones)
class Runtime:
    settings: Settings
    registry: Registry
    ingestion: IngestionDeps
    retriever: HybridRetriever
    answers: AnswerService
    refresh_runs: RefreshRuns
    schedules: ScheduleBook
    refresh_policy: RefreshPolicy
    store: SourceRouter
    reindex_runs: ReindexRuns
    reindex_policy: ReindexPolicy
    prompts: PromptBook
    usage: UsageLedger
    # The hash-chained audit log; answer records are in it too.
    audit: AuditLog
    # The human review queue and answer feedback.
    review: ReviewQueue
    # None without a models file: answers are extractive.
    generating: Generating | None
    # This process's Prometheus series, on a registry of its own.
    metrics: Metrics
    # Releases with staged rollout and gates; the router picks each request's release.
    releases: ReleaseService
    release_router: ReleaseRouter
    # Writes answer records behind the answers; drained on close.
    records: RecordWriter | None = None
    _closed: bool = field(default=False, repr=False)
    _stopping: threading.Event = field(default_factory=threading.Event, repr=False)

    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop_long_tasks(self) -> None:
        """Tell refreshes waiting on ingestions to wind up: the process is shutting down."""
        self._stopping.set()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stopping.set()
        if self.records is not None:
            self.records.close()
        self.ingestion.parser.close()
        self.ingestion.index.close()
        self.store.close()
        self.registry.close()


def open_index(settings: Settings, dim: int, *, optimize_on_close: bool = True) -> ChunkIndex:
    """The configured index, ready; an embedded one optimises what this process wrote
    when it closes, unless ``optimize_on_close`` is off (a server: see ``EdgeIndex``)."""
    q = settings.qdrant
    if q.url:
        from retrieval.index.client import from_url

        index: ChunkIndex = from_url(q.url, q.api_key, q.collection, dim)
    elif q.local_path:
        from retrieval.index.client import from_local_path

        index = from_local_path(q.local_path, q.collection, dim)
    else:
        from retrieval.index.edge import EdgeIndex

        settings.index_path.parent.mkdir(parents=True, exist_ok=True)
        index = EdgeIndex(settings.index_path, dim, optimize_on_close=optimize_on_close)
    index.ensure_ready()
    return index


def open_parser(settings: Settings) -> IsolatedParser:
    """One bounded parser (its child starts on first use); worker pools hold several."""
    limits = settings.limits
    return IsolatedParser(
        timeout_s=limits.parse_timeout_s,
        total_timeout_s=max(limits.parse_total_timeout_s, limits.parse_timeout_s),
        memory_mb=limits.parse_memory_mb,
        max_bytes=int(limits.max_upload_mb * 1_000_000),
        scratch_dir=settings.data_dir / "scratch",
        ocr_languages=tuple(settings.ingest.ocr_languages),
    )


def open_registry(settings: Settings) -> Registry:
    """The registry on a schema this code knows: embedded mode migrates it itself;
    distributed mode refuses a database behind head (``ragline db upgrade`` migrates)."""
    ensure_schema(settings.registry_url, auto_upgrade=settings.mode == "embedded")
    return Registry(settings.registry_url)


def open_runtime(
    settings: Settings, *, dense: DenseEncoder | None = None, serving: bool = False
) -> Runtime:
    """Open every component; ``dense`` lets tests share one loaded model across runtimes.

    ``serving``: the process answers requests, so it must stop within a supervisor's
    grace period; its embedded index is not optimised at close (which can take minutes
    and holds the process), only at the next open, before requests are taken.

    Everything under the data directory holds document text of every role (the
    registry, the queue, the index, uploaded objects, parsing scratch), so this
    process's files are made private here: the data directory is 0700 (tightened
    if it already exists and is ours), and the umask is set to 077 so that every
    file the process creates afterwards, including those made by SQLite and the
    index engine, which take no mode, is 0600 and every folder 0700. The umask
    is process-wide; this process-wiring function is the one place that sets it.
    """
    os.umask(0o077)
    private_dir(settings.data_dir)
    # A missing OCR language pack fails here, before anything is opened that would need closing.
    require_ocr_languages(settings.ingest.ocr_languages)
    registry = open_registry(settings)
    try:
        dense = dense or open_dense_encoder(settings.models)
        index = open_index(settings, dense.dim, optimize_on_close=not serving)
    except BaseException:
        registry.close()
        raise
    limits = settings.limits
    parser = open_parser(settings)
    sparse = BM25SparseEncoder(avgdl=settings.retrieval.bm25_avgdl)
    store = SourceRouter(
        LocalBucketStore(
            settings.buckets_dir,
            settings.data_dir / "derived",
            source_roots=list(settings.buckets.allowed_roots) or [settings.data_dir / "sources"],
            data_dir=settings.data_dir,
        ),
        S3BucketStore(settings.s3, settings.data_dir / "s3-cache"),
    )
    buckets = BucketCatalog(registry.engine)
    store.sweep_partial_uploads(b.source for b in buckets.list_buckets())
    # One detector (it loads its model once, on first use) for everything redacted here.
    pii = PiiDetector(settings.pii)
    metrics = Metrics()
    records = RecordWriter(capacity=settings.audit.record_queue)
    audit = AuditLog(registry.engine, settle=records.drain)
    ingestion = IngestionDeps(
        registry,
        store,
        parser,
        dense,
        sparse,
        index,
        buckets,
        pii=pii,
        observer=IngestMetrics(metrics),
        erasure=AnswerErasure(audit),
    )
    # Retrieval and the extractive answer embed the same question: once is enough.
    questions = QueryVectorCache(dense)
    retriever = HybridRetriever(
        index,
        questions,
        sparse,
        registry.served,
        RetrievalConfig(
            prefetch_limit=settings.retrieval.prefetch_limit,
            fusion=Fusion(
                method=settings.retrieval.fusion,
                dense_weight=settings.retrieval.dense_weight,
                rrf_k=settings.retrieval.rrf_k,
            ),
            feedback_depth=settings.retrieval.feedback_depth,
            feedback_weight=settings.retrieval.feedback_weight,
            expansion_terms=settings.retrieval.expansion_terms,
            expansion_weight=settings.retrieval.expansion_weight,
            expansion_max_query_terms=settings.retrieval.expansion_max_query_terms,
        ),
    )
    prompts = PromptBook(registry.engine)
    prompts.ensure_defaults()
    ledger = UsageLedger(registry.engine)
    try:
        generating = open_generation(settings, prompts, buckets, ledger, KeyStore(registry.engine))
    except BaseException:
        parser.close()
        index.close()
        store.close()
        registry.close()
        raise
    review = ReviewQueue(
        registry.engine,
        settings.review,
        AuditedAnswers(audit, settings.audit),
        redact=partial(redact_text, pii),
    )
    release_book = ReleaseBook(registry.engine)
    tally = Tally()
    release_router = ReleaseRouter(
        release_book, settings.releases, prompts, tally, observer=ReleaseMetrics(metrics)
    )
    releases = ReleaseService(
        release_book,
        settings.releases,
        audit,
        prompts,
        known_routes(
            None
            if generating is None
            else [(d.name, d.tier) for d in generating.models.deployments]
        ),
        tally=tally,
        on_change=release_router.invalidate,
        evaluate=GoldenEval(settings, prompts, dense) if settings.releases.eval_golden else None,
    )
    answers = AnswerService(
        retriever,
        questions,
        AuditedAnswers(audit, settings.audit),
        settings.answer,
        default_top_k=settings.retrieval.top_k,
        max_question_chars=limits.max_question_chars,
        generation=None if generating is None else generating.deps,
        pii=pii,
        block_pii_questions=settings.pii.questions == "block",
        review=review,
        observer=AnswerMetrics(metrics),
        releases=release_router,
        records=records,
    )
    refresh = settings.refresh
    return Runtime(
        settings,
        registry,
        ingestion,
        retriever,
        answers,
        RefreshRuns(registry.engine),
        ScheduleBook(registry.engine),
        RefreshPolicy(lease_s=refresh.lease_s),
        store,
        ReindexRuns(registry.engine),
        ReindexPolicy(lease_s=refresh.lease_s),
        prompts=prompts,
        usage=ledger,
        audit=audit,
        review=review,
        generating=generating,
        metrics=metrics,
        releases=releases,
        release_router=release_router,
        records=records,
    )
