"""The retrieval eval end to end: a tiny BEIR set through the real pipeline and retriever.

The set is the project's golden retrieval set (``evals/golden/retrieval``, text by the
project): four topics (sourdough baking, bicycle maintenance, honey bees, tides), eight
passages each, eight queries with graded judgments (2: the passage that answers; 1: one
on the same point that helps). Each query has one passage any working retriever ranks
first, so the tests can assert what is found, not just that numbers come out.
``tests/e2e/test_cli_eval_retrieval.py`` drives the command on the same set.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evals import metrics
from evals.beir import BeirSet, Passage, load_beir
from evals.retrieval_eval import (
    EVAL_BUCKET,
    EVAL_ROLE,
    MODES,
    QUALITY,
    evaluate_retrieval,
    ingest_corpus,
    judged_queries,
    reference_bm25,
    search,
)
from ragline.runtime import Runtime, open_runtime
from retrieval.access import Principal, search_filter
from tests.conftest import make_settings

pytestmark = pytest.mark.service

#: The set is the project's golden retrieval set, which CI also gates on
#: (``scripts/test.sh``): one definition, read here.
GOLDEN = Path(__file__).resolve().parents[2] / "evals" / "golden" / "retrieval"
_GOLDEN = load_beir(GOLDEN)
PASSAGES: dict[str, tuple[str, str]] = {p.id: (p.title, p.text) for p in _GOLDEN.corpus.values()}
QUERIES: dict[str, str] = dict(_GOLDEN.queries)
QRELS: dict[str, dict[str, int]] = {q: dict(judged) for q, judged in _GOLDEN.qrels.items()}

#: Queries whose answer shares distinctive words with it: the lexical sides agree here.
KEYWORD_QUERIES = ("q2", "q3", "q6", "q8")


def write_beir(root: Path, *, header: bool = True) -> Path:
    (root / "qrels").mkdir(parents=True)
    with (root / "corpus.jsonl").open("w", encoding="utf-8") as handle:
        for doc_id, (title, text) in PASSAGES.items():
            handle.write(json.dumps({"_id": doc_id, "title": title, "text": text}) + "\n")
    with (root / "queries.jsonl").open("w", encoding="utf-8") as handle:
        for query_id, text in QUERIES.items():
            handle.write(json.dumps({"_id": query_id, "text": text}) + "\n")
    lines = ["query-id\tcorpus-id\tscore"] if header else []
    lines += [f"{q}\t{d}\t{g}" for q, judged in QRELS.items() for d, g in judged.items()]
    (root / "qrels" / "test.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


class _Counting:
    """A Progress that records what it was told."""

    def __init__(self) -> None:
        self.stages: list[tuple[str, int]] = []
        self.steps = 0

    def stage(self, description: str, total: int) -> None:
        self.stages.append((description, total))

    def advance(self) -> None:
        self.steps += 1


@pytest.fixture(scope="module")
def evaluated(
    tmp_path_factory: pytest.TempPathFactory, embedder: Any
) -> Iterator[tuple[Runtime, dict[str, Any], _Counting]]:
    folder = write_beir(tmp_path_factory.mktemp("beir") / "tiny")
    runtime = open_runtime(make_settings(tmp_path_factory.mktemp("eval") / "data"), dense=embedder)
    progress = _Counting()
    try:
        report = evaluate_retrieval(
            load_beir(folder), runtime.ingestion, runtime.retriever, progress=progress
        )
        yield runtime, report, progress
    finally:
        runtime.close()


def test_report_has_every_metric_of_every_mode(
    evaluated: tuple[Runtime, dict[str, Any], _Counting],
) -> None:
    _, report, progress = evaluated
    names = [name for name, _, _ in QUALITY] + ["latency_p50_ms", "latency_p95_ms"]
    assert report["eval"] == "retrieval"
    assert set(report["metrics"]) == {f"{m}.{n}" for m in MODES for n in names}
    assert MODES == ("bm25", "dense", "hybrid", "rank_bm25")
    for name, value in report["metrics"].items():
        assert value >= 0.0, name
        if not name.endswith("_ms"):
            assert value <= 1.0, name
    assert report["settings"]["passages"] == len(PASSAGES)
    assert report["settings"]["queries"] == len(QUERIES)
    assert report["details"]["failed_passages"] == 0
    assert set(report["details"]["per_query_ndcg@10"]["hybrid"]) == set(QUERIES)
    assert progress.stages == [
        ("ingesting passages", len(PASSAGES)),
        ("querying: bm25", len(QUERIES)),
        ("querying: dense", len(QUERIES)),
        ("querying: hybrid", len(QUERIES)),
        ("querying: rank_bm25", len(QUERIES)),
    ]
    assert progress.steps == len(PASSAGES) + 4 * len(QUERIES)


def test_hybrid_and_dense_find_the_answering_passage(
    evaluated: tuple[Runtime, dict[str, Any], _Counting],
) -> None:
    _, report, _ = evaluated
    found = report["metrics"]
    for mode in ("hybrid", "dense"):
        assert found[f"{mode}.recall@10"] == 1.0, mode
        assert found[f"{mode}.recall@100"] == 1.0, mode
        # Every answering passage (grade 2) is first: MRR@10 is 1 on this set.
        assert found[f"{mode}.mrr@10"] == 1.0, mode
        assert found[f"{mode}.ndcg@10"] > 0.9, mode


def test_passages_are_documents_of_the_eval_bucket_readable_by_the_eval_role(
    evaluated: tuple[Runtime, dict[str, Any], _Counting],
) -> None:
    runtime, _, _ = evaluated
    documents = runtime.registry.list_documents(bucket=EVAL_BUCKET, limit=100)
    assert sorted(d.key for d in documents) == sorted(f"{p}.txt" for p in PASSAGES)
    assert {d.roles for d in documents} == {(EVAL_ROLE,)}
    assert {d.status for d in documents} == {"indexed"}
    assert {d.title for d in documents} == {title for title, _ in PASSAGES.values()}
    outsider = search_filter(Principal(key_id="outsider", roles=frozenset({"public"})))
    assert runtime.retriever.retrieve(QUERIES["q7"], outsider, top_k=10) == []


def test_ragline_bm25_and_rank_bm25_agree_on_the_top_passage_of_keyword_queries(
    evaluated: tuple[Runtime, dict[str, Any], _Counting],
) -> None:
    runtime, _, progress = evaluated
    queries = {q: QUERIES[q] for q in KEYWORD_QUERIES}
    passage_of = {
        d.id: d.key.removesuffix(".txt")
        for d in runtime.registry.list_documents(bucket=EVAL_BUCKET, limit=100)
    }
    ours = search(runtime.retriever, queries, passage_of, "sparse", progress, "bm25")
    corpus = [Passage(doc_id, title, text) for doc_id, (title, text) in PASSAGES.items()]
    reference = reference_bm25(corpus, queries, progress)
    for query_id in KEYWORD_QUERIES:
        answer = next(d for d, g in QRELS[query_id].items() if g == 2)
        assert metrics.ranked(ours.run[query_id])[0] == answer, query_id
        assert metrics.ranked(reference.run[query_id])[0] == answer, query_id


def test_each_mode_asks_its_own_side_of_the_retriever(
    evaluated: tuple[Runtime, dict[str, Any], _Counting],
) -> None:
    """A query sharing no term with the corpus: BM25 finds nothing, dense still ranks."""
    runtime, _, progress = evaluated
    passage_of = {
        d.id: d.key.removesuffix(".txt")
        for d in runtime.registry.list_documents(bucket=EVAL_BUCKET, limit=100)
    }
    query = {"odd": "apiarist pollinator insects"}
    lexical = search(runtime.retriever, query, passage_of, "sparse", progress, "bm25")
    dense = search(runtime.retriever, query, passage_of, "dense", progress, "dense")
    hybrid = search(runtime.retriever, query, passage_of, "hybrid", progress, "hybrid")
    assert lexical.run["odd"] == {}
    assert metrics.ranked(dense.run["odd"])[0].startswith("bees-")
    assert set(hybrid.run["odd"]) == set(dense.run["odd"])
    assert len(dense.run["odd"]) == len(PASSAGES)  # top 100 chunks: the whole corpus


def test_a_reused_data_dir_keeps_unchanged_passages_and_drops_strangers(
    tmp_path: Path, embedder: Any
) -> None:
    runtime = open_runtime(make_settings(tmp_path / "data"), dense=embedder)
    progress = _Counting()
    first = [Passage("a/1", "", "Tides follow the Moon."), Passage("b", "B", "Bees dance.")]
    try:
        ingested = ingest_corpus(runtime.ingestion, first, progress)
        assert sorted(ingested.passage_of.values()) == ["a/1", "b"]
        keys = {d.key for d in runtime.registry.list_documents(bucket=EVAL_BUCKET)}
        assert keys == {"passage-0000001.txt", "b.txt"}  # "a/1" is no file name
        before = {d.id: d.indexed_version for d in runtime.registry.list_documents()}
        second = [first[1], Passage("c", "", "Chains need oil."), Passage("empty", "", " ")]
        again = ingest_corpus(runtime.ingestion, second, progress)
        documents = runtime.registry.list_documents(bucket=EVAL_BUCKET)
        assert sorted(d.key for d in documents) == ["b.txt", "c.txt", "empty.txt"]
        kept = next(d for d in documents if d.key == "b.txt")
        assert kept.indexed_version == before[kept.id]  # not ingested twice
        assert [f["_id"] for f in again.failed] == ["empty"]
        assert runtime.ingestion.index.count() == 2  # "a/1" is gone from the index too
    finally:
        runtime.close()


def test_judged_queries_skip_unjudged_ones_and_honour_the_limit() -> None:
    dataset = BeirSet(
        corpus={"p": Passage("p", "", "x")},
        queries={"q1": "a", "q2": "b", "q3": "c"},
        qrels={"q1": {"p": 1}, "q2": {"p": 0}, "q3": {"p": 2}},
        split="test",
    )
    assert judged_queries(dataset) == {"q1": "a", "q3": "c"}
    assert judged_queries(dataset, 1) == {"q1": "a"}
