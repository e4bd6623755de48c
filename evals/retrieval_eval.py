"""The retrieval eval: a BEIR set through ragline's own ingestion and retriever.

Each passage becomes one document of an ``eval`` bucket (readable by the role
``eval`` only), uploaded and ingested by the pipeline every document goes through:
parsing, chunking, embedding, BM25 vectors, the registry gate. The passage's title,
when it has one, is the upload's title (metadata, as ``POST /buckets/{name}/documents``
takes it), so it reaches the BM25 text the way a document title does and the dense
side gets the text alone; without one, ragline titles the document with its file
name, as it does any untitled upload. The eval measures ragline as users get it.

Every judged query is then asked with a principal holding the role ``eval``, once per
side of the retriever (``bm25``: the sparse side alone, ``dense``, ``hybrid``), for
the top 100 chunks. A document's score is its best chunk's, so metrics are per corpus
passage whatever the chunking. ``rank_bm25`` is the reference lexical retriever:
``BM25Okapi`` with ragline's parameters (k1 1.2, b 0.75) over the same passages and
the same terms (``text.terms``), with each query term counted once as ragline does;
where it and ragline's ``bm25`` differ, the difference is in ragline's BM25 (fixed
average length, the engine's IDF, the file name as title), not in tokenisation.

Latency is the wall time of one retriever call (query embedding, index search,
registry gate), per query, one at a time.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import numpy as np

from evals import metrics
from evals.beir import BeirSet, Passage
from evals.report import build_report
from ingest.pipeline import IngestionDeps, delete_document, ingest_document
from ingest.registration import accept_upload
from kernel.errors import InvalidInputError
from retrieval.access import Principal, RequestedFilters, search_filter
from retrieval.hybrid import HybridRetriever
from retrieval.index.base import SearchMode
from text.terms import terms

EVAL_NAME: Final = "retrieval"
EVAL_BUCKET: Final = "eval"
EVAL_ROLE: Final = "eval"
TOP_K: Final = 100
#: ragline's modes and the side of the retriever each one asks for.
RAGLINE_MODES: Final[dict[str, SearchMode]] = {
    "bm25": "sparse",
    "dense": "dense",
    "hybrid": "hybrid",
}
REFERENCE_MODE: Final = "rank_bm25"
MODES: Final = (*RAGLINE_MODES, REFERENCE_MODE)
#: (metric name, metric function, k), reported per mode as ``<mode>.<name>``.
QUALITY: Final = (
    ("ndcg@10", metrics.ndcg_at, 10),
    ("recall@10", metrics.recall_at, 10),
    ("recall@100", metrics.recall_at, 100),
    ("mrr@10", metrics.mrr_at, 10),
)
_SAFE_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
_FAILURES_KEPT: Final = 20


class Progress(Protocol):
    """Where the eval tells how far it is: a stage of ``total`` steps, then each step."""

    def stage(self, description: str, total: int) -> None: ...

    def advance(self) -> None: ...


class _Silent:
    def stage(self, description: str, total: int) -> None:
        pass

    def advance(self) -> None:
        pass


@dataclass(frozen=True, slots=True)
class IngestedCorpus:
    """Which registry document holds which passage, and the passages that failed."""

    passage_of: dict[str, str]  # document id -> corpus _id
    failed: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ModeRun:
    run: dict[str, dict[str, float]]  # query id -> corpus _id -> score
    latencies_ms: list[float]


def evaluate_retrieval(
    dataset: BeirSet,
    ingestion: IngestionDeps,
    retriever: HybridRetriever,
    *,
    limit_queries: int | None = None,
    progress: Progress | None = None,
    settings: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Ingest ``dataset``'s corpus, run its judged queries, and return the eval report.

    ``ingestion`` and ``retriever`` should belong to a scratch runtime: the corpus is
    written to its index. Raises InvalidInputError for an empty corpus or a split
    with no judged query.
    """
    progress = progress or _Silent()
    queries = judged_queries(dataset, limit_queries)
    corpus = ingest_corpus(ingestion, dataset.corpus.values(), progress)
    runs = {
        mode: search(retriever, queries, corpus.passage_of, side, progress, mode)
        for mode, side in RAGLINE_MODES.items()
    }
    runs[REFERENCE_MODE] = reference_bm25(dataset.corpus.values(), queries, progress)
    qrels = {q: dataset.qrels[q] for q in queries}
    report_metrics: dict[str, float] = {}
    per_query: dict[str, dict[str, float]] = {}
    for mode, result in runs.items():
        report_metrics.update(mode_metrics(mode, result, qrels))
        per_query[mode] = metrics.per_query(metrics.ndcg_at, result.run, qrels, 10)
    return build_report(
        EVAL_NAME,
        report_metrics,
        settings={
            **dict(settings or {}),
            "split": dataset.split,
            "passages": len(dataset.corpus),
            "queries": len(queries),
            "top_k": TOP_K,
            "fusion": retriever.config.fusion.method,
            "dense_weight": retriever.config.fusion.dense_weight,
            "rrf_k": retriever.config.fusion.rrf_k,
            "prefetch_limit": retriever.config.prefetch_limit,
        },
        details={
            "failed_passages": len(corpus.failed),
            "failures": corpus.failed[:_FAILURES_KEPT],
            "per_query_ndcg@10": per_query,
        },
    )


def judged_queries(dataset: BeirSet, limit: int | None = None) -> dict[str, str]:
    """The queries with a relevant passage, in id order, the first ``limit`` of them."""
    if not dataset.corpus:
        raise InvalidInputError("the corpus holds no passage")
    judged = metrics.judged_queries(dataset.qrels)
    if limit is not None:
        if limit < 1:
            raise InvalidInputError("--limit-queries must be at least 1")
        judged = judged[:limit]
    if not judged:
        raise InvalidInputError(f"the {dataset.split} qrels judge no passage relevant")
    return {q: dataset.queries[q] for q in judged}


def mode_metrics(mode: str, result: ModeRun, qrels: metrics.Qrels) -> dict[str, float]:
    found = {
        f"{mode}.{name}": metrics.mean(metrics.per_query(metric, result.run, qrels, k))
        for name, metric, k in QUALITY
    }
    found[f"{mode}.latency_p50_ms"] = _percentile(result.latencies_ms, 50)
    found[f"{mode}.latency_p95_ms"] = _percentile(result.latencies_ms, 95)
    return found


def ingest_corpus(
    deps: IngestionDeps, passages: Iterable[Passage], progress: Progress
) -> IngestedCorpus:
    """Upload and ingest each passage as one document of the ``eval`` bucket.

    A passage already indexed with the same text and title (a ``--data-dir`` used
    before) is left as it is; documents of the bucket that are not passages of this
    corpus are deleted, so that a reused data directory searches this corpus only.
    """
    passages = list(passages)
    bucket = deps.buckets.find_bucket(EVAL_BUCKET) or deps.buckets.create_bucket(
        EVAL_BUCKET, [EVAL_ROLE], None, None
    )
    passage_of: dict[str, str] = {}
    failed: list[dict[str, str]] = []
    names = _file_names(passages)
    progress.stage("ingesting passages", len(passages))
    for passage in passages:
        content = passage.text if passage.text.strip() else passage.title
        registration = accept_upload(
            deps,
            bucket,
            names[passage.id],
            io.BytesIO(content.encode("utf-8")),
            roles=[EVAL_ROLE],
            doc_type=None,
            title=passage.title or None,
            max_bytes=1 << 62,
        )
        document_id = registration.document.id
        passage_of[document_id] = passage.id
        if registration.needs_ingest:
            result = ingest_document(deps, document_id)
            if result.outcome == "failed":
                failed.append({"_id": passage.id, "error": result.error or "unknown error"})
        progress.advance()
    _remove_strangers(deps, set(passage_of))
    return IngestedCorpus(passage_of, failed)


def search(
    retriever: HybridRetriever,
    queries: Mapping[str, str],
    passage_of: Mapping[str, str],
    side: SearchMode,
    progress: Progress,
    label: str,
) -> ModeRun:
    """Each query through ``retriever`` on one side; chunks folded into passages (max)."""
    flt = search_filter(
        Principal(key_id="eval", roles=frozenset({EVAL_ROLE})),
        RequestedFilters(buckets=frozenset({EVAL_BUCKET})),
    )
    run: dict[str, dict[str, float]] = {}
    latencies: list[float] = []
    progress.stage(f"querying: {label}", len(queries))
    for query_id, text in queries.items():
        started = time.perf_counter()
        chunks = retriever.retrieve(text, flt, top_k=TOP_K, mode=side)
        latencies.append((time.perf_counter() - started) * 1000.0)
        scores: dict[str, float] = {}
        for chunk in chunks:
            passage = passage_of.get(chunk.document_id)
            if passage is not None and chunk.score > scores.get(passage, float("-inf")):
                scores[passage] = chunk.score
        run[query_id] = scores
        progress.advance()
    return ModeRun(run, latencies)


def reference_bm25(
    passages: Iterable[Passage], queries: Mapping[str, str], progress: Progress
) -> ModeRun:
    """``rank_bm25.BM25Okapi`` over the same passages and terms: the top 100 that match."""
    from rank_bm25 import BM25Okapi

    passages = list(passages)
    ids = [p.id for p in passages]
    progress.stage(f"querying: {REFERENCE_MODE}", len(queries))
    index = BM25Okapi([terms(f"{p.title} {p.text}") for p in passages], k1=1.2, b=0.75)
    run: dict[str, dict[str, float]] = {}
    latencies: list[float] = []
    for query_id, text in queries.items():
        started = time.perf_counter()
        scores = index.get_scores(list(dict.fromkeys(terms(text))))
        matched = {ids[i]: float(scores[i]) for i in np.flatnonzero(scores > 0)}
        run[query_id] = metrics.top(matched, TOP_K)
        latencies.append((time.perf_counter() - started) * 1000.0)
        progress.advance()
    return ModeRun(run, latencies)


def _file_names(passages: Sequence[Passage]) -> dict[str, str]:
    """``<_id>.txt`` where the id makes a plain file name, ``passage-<n>.txt`` otherwise."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for number, passage in enumerate(passages, start=1):
        name = f"{passage.id}.txt" if _SAFE_NAME.fullmatch(passage.id) else ""
        if not name or name.casefold() in taken:
            name = f"passage-{number:07d}.txt"
        taken.add(name.casefold())
        names[passage.id] = name
    return names


def _remove_strangers(deps: IngestionDeps, keep: set[str]) -> None:
    strangers: list[str] = []
    offset, page = 0, 500
    while True:
        documents = deps.registry.list_documents(bucket=EVAL_BUCKET, limit=page, offset=offset)
        strangers += [d.id for d in documents if d.id not in keep and d.parent_id is None]
        if len(documents) < page:
            break
        offset += page
    for document_id in strangers:
        delete_document(deps, document_id)


def _percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0
