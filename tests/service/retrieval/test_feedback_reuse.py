"""The feedback search reuses the first search's work and changes nothing by it.

``HybridRetriever`` asks the index again only for the side whose query the feedback
changed (``retrieval.hybrid``). Two checks on real indexes (both adapters) of real text
(the README's and the sample documents' paragraphs) with the real embedding model and
BM25 encoder:

- the retriever's answer is, chunk for chunk and score for score, what two full
  ``ChunkIndex.search`` calls give (``two_full_searches``, the retriever as it was
  before the reuse), across fusions, prefetch limits, depths, filters and a gate that
  drops some documents;
- a counting spy over the real index shows the BM25 side is queried once per question
  with expansion off, twice with it on, and no payload is read twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from retrieval.encoders import DenseEncoder
from retrieval.feedback import expanded_query, moved_query
from retrieval.hybrid import HybridRetriever, RetrievalConfig, RetrievedChunk
from retrieval.index.base import (
    ChunkIndex,
    Fusion,
    IndexedChunk,
    SearchFilter,
    Side,
    SideRanking,
    SparseVector,
)
from retrieval.index.client import from_local_path
from retrieval.index.edge import EdgeIndex
from retrieval.served_memory import Served
from retrieval.sparse import BM25SparseEncoder
from tests.remembered_questions import RememberedQuestions

pytestmark = [
    pytest.mark.service,
    pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning"),
]

ROOT = Path(__file__).resolve().parents[3]
SOURCES = ("README.md", "samples/employee-handbook.md", "samples/router-x200-quickstart.txt")
PARAGRAPHS_PER_SOURCE = 70
ENG = SearchFilter(roles=frozenset({"eng"}))
ENG_HR = SearchFilter(roles=frozenset({"eng", "hr"}))
QUESTIONS = (
    "How many vacation days can be carried over?",
    "what happens to a search while the registry database is down",
    "convex fusion versus reciprocal rank fusion",
    "reset the X200 router",
    "tide range bay",  # matches little: the feedback has work to do
    "optimise index HNSW graph 100k chunks",
    "which chunks does the served-version gate drop and why",
)
CONFIGS = {
    "default": RetrievalConfig(),
    "rrf": RetrievalConfig(fusion=Fusion(method="rrf")),
    "prefetch 8, depth 5": RetrievalConfig(prefetch_limit=8, feedback_depth=5),
    "expansion": RetrievalConfig(expansion_terms=5, fusion=Fusion(dense_weight=0.7)),
    "weak feedback": RetrievalConfig(feedback_weight=0.3, feedback_depth=1),
}


@pytest.fixture(scope="module")
def questions(embedder: DenseEncoder) -> RememberedQuestions:
    return RememberedQuestions(embedder)


@dataclass(frozen=True)
class Doc:
    version: int
    roles: frozenset[str]


def paragraphs() -> list[tuple[str, str]]:
    """``(document_id, text)`` per paragraph: one document per source section."""
    out: list[tuple[str, str]] = []
    for source in SOURCES:
        section = f"{source}#top"
        taken = 0
        for block in (ROOT / source).read_text(encoding="utf-8").split("\n\n"):
            text = block.strip()
            if text.startswith("#"):
                section = f"{source}#{text.splitlines()[0].lstrip('# ')}"
            if len(text.split()) < 8 or text.startswith("```"):
                continue
            out.append((section, text))
            taken += 1
            if taken == PARAGRAPHS_PER_SOURCE:
                break
    return out


@dataclass(frozen=True)
class Corpus:
    chunks: list[IndexedChunk]
    served: dict[str, Doc]


@pytest.fixture(scope="module")
def corpus(embedder: DenseEncoder) -> Corpus:
    """Real paragraphs; roles and the registry's word vary per document.

    Every fifth document is hr-only in the index; among the others, some are served at
    another version (the gate drops them), one is not served at all, one's registry
    roles no longer include eng: the gate has something to drop on every side.
    """
    found = paragraphs()
    documents = sorted({doc for doc, _ in found})
    dense = embedder.embed([text for _, text in found])
    sparse = BM25SparseEncoder().encode_documents([text for _, text in found])
    roles = {doc: ["hr"] if i % 5 == 0 else ["eng", "hr"] for i, doc in enumerate(documents)}
    served = {doc: Doc(1, frozenset(roles[doc])) for doc in documents}
    for i, doc in enumerate(documents):
        if i % 7 == 3:
            served[doc] = Doc(2, frozenset(roles[doc]))
        elif i % 11 == 4:
            served[doc] = Doc(1, frozenset({"hr"}))
    del served[documents[2]]
    chunks = [
        IndexedChunk(
            str(uuid.uuid5(uuid.NAMESPACE_URL, f"feedback-reuse/{i}")),
            vector,
            vector_sparse,
            {
                "document_id": doc,
                "document_version": 1,
                "roles": roles[doc],
                "text": text,
                "title": doc.split("#")[-1],
                "source": doc.split("#")[0],
                "chunk_index": i,
            },
        )
        for i, ((doc, text), vector, vector_sparse) in enumerate(
            zip(found, dense, sparse, strict=True)
        )
    ]
    return Corpus(chunks, served)


@pytest.fixture(scope="module", params=("edge", "client"))
def index(
    request: pytest.FixtureRequest, corpus: Corpus, embedder: DenseEncoder
) -> Iterator[ChunkIndex]:
    path = request.getfixturevalue("tmp_path_factory").mktemp(f"reuse-{request.param}")
    idx: ChunkIndex = (
        EdgeIndex(path / "edge", embedder.dim)
        if request.param == "edge"
        else from_local_path(path / "local", "chunks", embedder.dim)
    )
    idx.ensure_ready()
    idx.upsert(corpus.chunks)
    yield idx
    idx.close()


def lookup_of(served: Mapping[str, Doc]) -> Any:
    def lookup(ids: Iterable[str]) -> Mapping[str, Served]:
        return {i: served[i] for i in ids if i in served}

    return lookup


def two_full_searches(
    index: ChunkIndex,
    embedder: DenseEncoder,
    served: Mapping[str, Doc],
    config: RetrievalConfig,
    question: str,
    flt: SearchFilter,
    top_k: int,
) -> tuple[list[RetrievedChunk], list[RetrievedChunk]]:
    """The retriever before the reuse: two whole searches. (first, answer)."""
    sparse = BM25SparseEncoder().encode_query(question)
    dense = embedder.embed_one(question)
    assert sparse.indices

    def search(d: Sequence[float], s: SparseVector) -> list[RetrievedChunk]:
        hits = index.search(
            dense=d,
            sparse=s,
            flt=flt,
            limit=top_k * 2,
            mode="hybrid",
            prefetch_limit=max(config.prefetch_limit, top_k * 2),
            fusion=config.fusion,
        )
        out = []
        for hit in hits:
            document = served.get(str(hit.payload["document_id"]))
            if (
                document is not None
                and document.version == int(hit.payload["document_version"])
                and document.roles & flt.roles
            ):
                out.append(RetrievedChunk.from_payload(hit.id, hit.score, dict(hit.payload)))
        return out

    first = search(dense, sparse)
    if config.feedback_depth < 1 or not first:
        return first[:top_k], first[:top_k]
    stored = index.stored_vectors([c.chunk_id for c in first[: config.feedback_depth]])
    moved = moved_query(dense, [v.dense for v in stored.values()], config.feedback_weight)
    expanded = expanded_query(
        sparse,
        [v.sparse for v in stored.values()],
        terms=config.expansion_terms,
        weight=config.expansion_weight,
        max_query_terms=config.expansion_max_query_terms,
    )
    if moved is None and expanded is None:
        return first[:top_k], first[:top_k]
    return first[:top_k], search(moved or dense, expanded or sparse)[:top_k]


def test_the_feedback_search_gives_what_two_full_searches_give(
    index: ChunkIndex, corpus: Corpus, questions: RememberedQuestions
) -> None:
    compared = changed_by_feedback = 0
    for name, base in CONFIGS.items():
        config = replace(base, served_memory_ttl_s=0)
        retriever = HybridRetriever(
            index, questions, BM25SparseEncoder(), lookup_of(corpus.served), config
        )
        for question in QUESTIONS:
            for flt in (ENG, ENG_HR):
                for top_k in (3, 10):
                    got = retriever.retrieve(question, flt, top_k=top_k)
                    first, expected = two_full_searches(
                        index, questions, corpus.served, config, question, flt, top_k
                    )
                    assert got == expected, (name, question, flt, top_k)
                    compared += len(got)
                    changed_by_feedback += first != expected
    assert compared > 500
    # The feedback really reorders answers here, so the comparison is not vacuous.
    assert changed_by_feedback > 20


class SideQueryCounter:
    """A spy over the real index: counts the side queries and payload reads it forwards.

    Counts what each call asks the engine for, whichever method the retriever uses
    (``search`` runs every side of its plan; ``rank_sides`` the sides it is given).
    """

    def __init__(self, inner: ChunkIndex) -> None:
        self.inner = inner
        self.queries: dict[Side, int] = {"dense": 0, "sparse": 0}
        self.payload_ids: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _count(self, dense: object, sparse: SparseVector | None, mode: str) -> None:
        if dense is not None and mode in ("hybrid", "dense"):
            self.queries["dense"] += 1
        if sparse is not None and sparse.indices and mode in ("hybrid", "sparse"):
            self.queries["sparse"] += 1

    def search(self, **kwargs: Any) -> Any:
        self._count(kwargs["dense"], kwargs["sparse"], kwargs.get("mode", "hybrid"))
        hits = self.inner.search(**kwargs)
        self.payload_ids += [h.id for h in hits]
        return hits

    def rank_sides(self, **kwargs: Any) -> dict[Side, SideRanking]:
        self._count(kwargs["dense"], kwargs["sparse"], kwargs.get("mode", "hybrid"))
        return self.inner.rank_sides(**kwargs)

    def stored_payloads(self, ids: Sequence[str]) -> Any:
        self.payload_ids += list(ids)
        return self.inner.stored_payloads(ids)


@pytest.mark.parametrize(("expansion_terms", "sparse_queries"), [(0, 1), (5, 2)])
def test_the_bm25_side_is_queried_again_only_when_expansion_changed_it(
    index: ChunkIndex,
    corpus: Corpus,
    questions: RememberedQuestions,
    expansion_terms: int,
    sparse_queries: int,
) -> None:
    spy = SideQueryCounter(index)
    config = RetrievalConfig(expansion_terms=expansion_terms, served_memory_ttl_s=0)
    retriever = HybridRetriever(
        spy,  # type: ignore[arg-type]  # a spy forwarding to the real index
        questions,
        BM25SparseEncoder(),
        lookup_of(corpus.served),
        config,
    )
    for question in ("reset the X200 router", "vacation days carried over"):
        spy.queries = {"dense": 0, "sparse": 0}
        spy.payload_ids = []
        chunks = retriever.retrieve(question, ENG, top_k=5)
        assert chunks
        # The dense query always moved: the feedback search ran.
        assert spy.queries == {"dense": 2, "sparse": sparse_queries}, question
        assert len(spy.payload_ids) == len(set(spy.payload_ids)), "a payload was read twice"
