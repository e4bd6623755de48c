"""Ranking metrics as trec_eval computes them, and the BEIR folder reader."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from evals import metrics
from evals.beir import load_beir, read_qrels
from kernel.errors import InvalidInputError

pytestmark = pytest.mark.unit


# --- hand-computed examples -------------------------------------------------------------


def test_ndcg_uses_graded_gains_and_a_log2_discount() -> None:
    qrels = {"q": {"a": 2, "b": 1, "c": 0}}
    run = {"q": {"b": 0.9, "x": 0.8, "a": 0.7}}
    dcg = 1 / math.log2(2) + 2 / math.log2(4)
    ideal = 2 / math.log2(2) + 1 / math.log2(3)
    assert metrics.ndcg(run, qrels, 10) == pytest.approx(dcg / ideal)
    # A perfect ranking scores 1 whatever the unjudged tail holds.
    assert metrics.ndcg({"q": {"a": 3.0, "b": 2.0, "z": 1.0}}, qrels, 10) == pytest.approx(1.0)


def test_ties_are_ordered_by_doc_id_descending_as_trec_eval_does() -> None:
    qrels = {"q": {"a": 1}}
    tied = {"q": {"a": 1.0, "b": 1.0}}  # "b" > "a": b is ranked first
    assert metrics.ranked(tied["q"]) == ["b", "a"]
    assert metrics.mrr(tied, qrels, 10) == pytest.approx(0.5)
    assert metrics.ndcg(tied, qrels, 10) == pytest.approx(1 / math.log2(3))
    assert metrics.top({"a": 1.0, "c": 2.0, "b": 1.0}, 2) == {"c": 2.0, "b": 1.0}


def test_k_cuts_the_ranking() -> None:
    qrels = {"q": {"r1": 1, "r2": 1}}
    run = {"q": {"n1": 5.0, "n2": 4.0, "r1": 3.0, "r2": 2.0}}
    assert metrics.recall(run, qrels, 2) == 0.0
    assert metrics.recall(run, qrels, 3) == pytest.approx(0.5)
    assert metrics.recall(run, qrels, 4) == pytest.approx(1.0)
    assert metrics.mrr(run, qrels, 2) == 0.0
    assert metrics.mrr(run, qrels, 3) == pytest.approx(1 / 3)
    assert metrics.ndcg(run, qrels, 2) == 0.0


def test_queries_without_a_relevant_document_are_skipped_and_missing_runs_score_zero() -> None:
    qrels = {"found": {"a": 1}, "nothing_relevant": {"b": 0}, "missing": {"c": 1}}
    run = {"found": {"a": 1.0}, "nothing_relevant": {"b": 1.0}}
    assert metrics.judged_queries(qrels) == ["found", "missing"]
    assert metrics.per_query(metrics.recall_at, run, qrels, 10) == {"found": 1.0, "missing": 0.0}
    assert metrics.recall(run, qrels, 10) == pytest.approx(0.5)
    assert metrics.ndcg({}, {}, 10) == 0.0


def test_negative_grades_are_not_relevant_and_give_no_gain() -> None:
    qrels = {"q": {"bad": -1, "good": 1}}
    run = {"q": {"bad": 2.0, "good": 1.0}}
    assert metrics.mrr(run, qrels, 10) == pytest.approx(0.5)
    assert metrics.ndcg(run, qrels, 10) == pytest.approx(1 / math.log2(3))


# --- cross-check against trec_eval (pytrec_eval) ----------------------------------------


def test_metrics_equal_trec_eval_on_a_random_run() -> None:
    import pytrec_eval

    rng = random.Random(15)
    docs = [f"d{i:03d}" for i in range(300)]
    qrels: dict[str, dict[str, int]] = {}
    run: dict[str, dict[str, float]] = {}
    for q in range(50):
        qid = f"q{q:02d}"
        judged = rng.sample(docs, rng.randint(1, 30))
        qrels[qid] = {d: rng.choice([0, 1, 1, 2, 3]) for d in judged}
        qrels[qid][judged[0]] = rng.randint(1, 3)  # at least one relevant
        # Coarse scores make ties common, so the tie order is checked too.
        run[qid] = {d: round(rng.random(), 1) for d in rng.sample(docs, 150)}
    evaluator = pytrec_eval.RelevanceEvaluator(
        qrels, {"ndcg_cut.10", "recall.10", "recall.100", "recip_rank"}
    )
    trec = evaluator.evaluate(run)
    trec_at_10 = evaluator.evaluate({q: metrics.top(r, 10) for q, r in run.items()})
    ours = {
        "ndcg_cut_10": metrics.per_query(metrics.ndcg_at, run, qrels, 10),
        "recall_10": metrics.per_query(metrics.recall_at, run, qrels, 10),
        "recall_100": metrics.per_query(metrics.recall_at, run, qrels, 100),
    }
    mrr = metrics.per_query(metrics.mrr_at, run, qrels, 10)
    assert set(mrr) == set(trec) == set(qrels)
    for qid in qrels:
        for measure, values in ours.items():
            assert values[qid] == pytest.approx(trec[qid][measure], abs=1e-6), (qid, measure)
        assert mrr[qid] == pytest.approx(trec_at_10[qid]["recip_rank"], abs=1e-6), qid
    assert metrics.ndcg(run, qrels, 10) == pytest.approx(
        sum(t["ndcg_cut_10"] for t in trec.values()) / len(trec), abs=1e-6
    )
    # The check has teeth: recip_rank uncut differs from MRR@10 on this run.
    assert any(trec[q]["recip_rank"] != trec_at_10[q]["recip_rank"] for q in qrels)


# --- BEIR folders ----------------------------------------------------------------------


def _beir(root: Path, qrels: str, *, name: str = "test.tsv") -> Path:
    (root / "qrels").mkdir(parents=True)
    corpus = [
        {"_id": "p1", "title": "One", "text": "first passage"},
        {"_id": "p2", "title": "", "text": "second passage"},
        {"_id": 3, "text": "third passage"},
    ]
    (root / "corpus.jsonl").write_text("\n".join(json.dumps(c) for c in corpus) + "\n")
    queries = [{"_id": "q1", "text": "first?"}, {"_id": "q2", "text": "second?"}]
    (root / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries) + "\n")
    (root / "qrels" / name).write_text(qrels)
    return root


@pytest.mark.parametrize("header", ["query-id\tcorpus-id\tscore\n", ""])
def test_beir_folder_with_and_without_a_qrels_header(tmp_path: Path, header: str) -> None:
    folder = _beir(tmp_path, header + "q1\tp1\t2\nq1\tp2\t0\nq2\tp2\t1\n")
    dataset = load_beir(folder)
    assert dataset.split == "test"
    assert dataset.qrels == {"q1": {"p1": 2, "p2": 0}, "q2": {"p2": 1}}
    assert sorted(dataset.corpus) == ["3", "p1", "p2"]
    assert dataset.corpus["p1"].title == "One" and dataset.corpus["3"].title == ""
    assert dataset.queries == {"q1": "first?", "q2": "second?"}


def test_beir_split_is_the_only_file_or_the_one_named(tmp_path: Path) -> None:
    folder = _beir(tmp_path, "q1\tp1\t1\n", name="dev.tsv")
    assert load_beir(folder).split == "dev"
    (folder / "qrels" / "train.tsv").write_text("q2\tp2\t1\n")
    with pytest.raises(InvalidInputError, match=r"several splits .*--split"):
        load_beir(folder)
    assert load_beir(folder, "train").qrels == {"q2": {"p2": 1}}
    with pytest.raises(InvalidInputError, match="no split 'test'"):
        load_beir(folder, "test")


def test_garbled_files_are_refused_naming_file_and_line(tmp_path: Path) -> None:
    folder = _beir(tmp_path, "q1\tp1\t1\nq2\tp2\tvery\n")
    with pytest.raises(InvalidInputError, match=r"test\.tsv line 2: the score 'very'"):
        load_beir(folder)
    (folder / "qrels" / "test.tsv").write_text("q1 p1 1\n")
    with pytest.raises(InvalidInputError, match="line 1: expected 3 tab-separated"):
        read_qrels(folder / "qrels" / "test.tsv")
    (folder / "qrels" / "test.tsv").write_text("q1\tp1\t1\n")
    with (folder / "corpus.jsonl").open("a") as handle:
        handle.write("{not json\n")
    with pytest.raises(InvalidInputError, match=r"corpus\.jsonl line 4: not JSON"):
        load_beir(folder)
    (folder / "corpus.jsonl").write_text('{"_id": "p1"}\n')
    with pytest.raises(InvalidInputError, match=r"corpus\.jsonl line 1: `text` is missing"):
        load_beir(folder)
    (folder / "corpus.jsonl").write_text('{"_id": "p1", "text": "fine"}\n')
    (folder / "queries.jsonl").unlink()
    with pytest.raises(InvalidInputError, match=r"queries\.jsonl does not exist"):
        load_beir(folder)


def test_qrels_for_an_unknown_query_are_refused(tmp_path: Path) -> None:
    folder = _beir(tmp_path, "q9\tp1\t1\n")
    with pytest.raises(InvalidInputError, match=r"judges 1 queries .*'q9'"):
        load_beir(folder)
