"""The retrieval eval end to end: a tiny BEIR set through the real pipeline and retriever.

The set is written here (text by the project): four topics (sourdough baking, bicycle
maintenance, honey bees, tides), eight passages each, eight queries with graded
judgments (2: the passage that answers; 1: one on the same point that helps). Each
query has one passage any working retriever ranks first, so the tests can assert what
is found, not just that numbers come out. ``tests/e2e/test_cli_eval_retrieval.py``
drives the command on the same set.
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

PASSAGES: dict[str, tuple[str, str]] = {
    # sourdough
    "bread-01": (
        "Sourdough starter",
        "A sourdough starter is a culture of wild yeast and lactobacilli kept alive in "
        "flour and water and fed every day.",
    ),
    "bread-02": (
        "Feeding a starter",
        "Feed the starter by discarding half and adding equal weights of flour and "
        "water; it should double within six hours.",
    ),
    "bread-03": (
        "Autolyse",
        "Autolyse means resting flour and water for thirty minutes before adding salt, "
        "so gluten develops with less kneading.",
    ),
    "bread-04": (
        "Bulk fermentation",
        "Bulk fermentation is the first rise of the whole dough; stretch and fold it "
        "every half hour during the first two hours.",
    ),
    "bread-05": (
        "Shaping",
        "Shape the loaf with surface tension, then let it proof in a floured banneton "
        "basket overnight in the refrigerator.",
    ),
    "bread-06": (
        "Scoring",
        "Scoring the loaf with a razor blade lets steam escape so the crust opens along "
        "an ear instead of bursting.",
    ),
    "bread-07": (
        "Baking in a Dutch oven",
        "Bake sourdough in a preheated Dutch oven at 250 degrees with the lid on for "
        "twenty minutes, then uncovered until dark.",
    ),
    "bread-08": (
        "Hydration",
        "Hydration is the weight of water divided by the weight of flour; a 75 percent "
        "dough is slack and gives an open crumb.",
    ),
    # bicycles
    "bike-01": (
        "Chain lubrication",
        "Clean the bicycle chain with a degreaser, dry it, then apply one drop of chain "
        "lube to each roller and wipe off the excess.",
    ),
    "bike-02": (
        "Tyre pressure",
        "Road bike tyres run at six to eight bar; wider gravel tyres need far lower "
        "pressure for grip and comfort.",
    ),
    "bike-03": (
        "Fixing a puncture",
        "To fix a puncture, remove the inner tube with tyre levers, find the hole, "
        "roughen the rubber and glue a patch over it.",
    ),
    "bike-04": (
        "Brake pads",
        "Replace rim brake pads when the grooves are worn flat; align the new pads so "
        "they meet the rim squarely.",
    ),
    "bike-05": (
        "Indexing gears",
        "If the chain skips between sprockets, turn the rear derailleur barrel adjuster "
        "a quarter turn to index the gears.",
    ),
    "bike-06": (
        "Headset play",
        "A knocking headset when braking means it is loose; tighten the top cap bolt, "
        "then the stem bolts.",
    ),
    "bike-07": (
        "Spoke tension",
        "A wheel that wobbles needs truing: tighten and loosen spokes with a spoke key "
        "until the rim runs straight.",
    ),
    "bike-08": (
        "Saddle height",
        "Set saddle height so the knee is slightly bent at the bottom of the pedal stroke.",
    ),
    # bees
    "bees-01": (
        "The queen bee",
        "The queen is the only fertile female in a honey bee colony and lays up to two "
        "thousand eggs a day.",
    ),
    "bees-02": (
        "Worker bees",
        "Worker bees are sterile females that clean cells, nurse larvae, build comb, "
        "guard the entrance and forage.",
    ),
    "bees-03": (
        "Drones",
        "Drones are male bees whose only task is to mate with a virgin queen; they are "
        "expelled from the hive before winter.",
    ),
    "bees-04": (
        "The waggle dance",
        "Foragers perform the waggle dance to tell nestmates the direction and distance "
        "of a flower patch.",
    ),
    "bees-05": (
        "Making honey",
        "Bees turn nectar into honey by adding enzymes and fanning their wings until "
        "the water content falls below twenty percent.",
    ),
    "bees-06": (
        "Swarming",
        "Swarming is how a colony reproduces: the old queen leaves with half the "
        "workers to found a new nest.",
    ),
    "bees-07": (
        "Varroa mites",
        "The varroa mite is a parasite that feeds on bee larvae and spreads viruses; "
        "untreated colonies often die within two years.",
    ),
    "bees-08": (
        "Wintering",
        "In winter bees form a cluster and shiver their flight muscles to keep the queen warm.",
    ),
    # tides
    "tide-01": (
        "Cause of tides",
        "Tides are caused mainly by the gravitational pull of the Moon, with the Sun "
        "adding a smaller effect.",
    ),
    "tide-02": (
        "Spring tides",
        "Spring tides happen at new and full moon, when Sun and Moon line up and the "
        "tidal range is largest.",
    ),
    "tide-03": (
        "Neap tides",
        "Neap tides come at the quarter moons, when Sun and Moon pull at right angles "
        "and the range is smallest.",
    ),
    "tide-04": (
        "Two tides a day",
        "Most coasts see two high tides a day because the ocean bulges on the side "
        "facing the Moon and on the opposite side.",
    ),
    "tide-05": (
        "Bay of Fundy",
        "The Bay of Fundy in Canada has the largest tidal range in the world, more than "
        "sixteen metres.",
    ),
    "tide-06": (
        "Tidal power",
        "Tidal power stations use barrages or underwater turbines to turn the flow of "
        "the tide into electricity.",
    ),
    "tide-07": (
        "Tide tables",
        "Tide tables predict the times and heights of high and low water for a port, "
        "computed from harmonic constituents.",
    ),
    "tide-08": (
        "Tidal locking",
        "Tidal friction slows the Earth's rotation and has locked the Moon so it always "
        "shows the same face.",
    ),
}

QUERIES: dict[str, str] = {
    "q1": "how do I feed a sourdough starter",
    "q2": "why score the loaf with a razor blade",
    "q3": "fix a puncture with a patch on the inner tube",
    "q4": "what pressure should road bike tyres have",
    "q5": "what does the queen bee do in the colony",
    "q6": "varroa mite parasite killing colonies",
    "q7": "what causes the tides",
    "q8": "where is the largest tidal range in the world",
}

QRELS: dict[str, dict[str, int]] = {
    "q1": {"bread-02": 2, "bread-01": 1},
    "q2": {"bread-06": 2},
    "q3": {"bike-03": 2},
    "q4": {"bike-02": 2},
    "q5": {"bees-01": 2, "bees-06": 1},
    "q6": {"bees-07": 2},
    "q7": {"tide-01": 2, "tide-02": 1, "tide-03": 1},
    "q8": {"tide-05": 2},
}

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
