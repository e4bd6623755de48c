"""The held-out answers set: each judged question with its answer in one fold, without in the other.

Built here from a small BEIR folder of its own (the real one, MS MARCO, is in
``../shared``, which a clone does not have).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.heldout_answers import build_fold, read_judged
from evals.answers_eval import load_golden

pytestmark = pytest.mark.unit

PASSAGES = {
    "p-ans": "The Salvation Army was founded in 1865 by William Booth in London.",
    "p-copy": "The Salvation Army was founded in 1865 by William Booth in East London.",
    "p-rel1": "The Salvation Army runs shops that sell donated clothes.",
    "p-rel2": "William Booth was a Methodist preacher.",
    "p-other-ans": "Hydrogen is a liquid below minus 252.9 degrees Celsius.",
    "p-other-rel": "Hydrogen is the lightest element.",
}
QRELS = [
    ("q1", "p-ans", 3),
    ("q1", "p-copy", 1),  # judged "related" but a near-copy of the answer: never kept
    ("q1", "p-rel1", 1),
    ("q1", "p-rel2", 1),
    ("q2", "p-other-ans", 2),
    ("q2", "p-other-rel", 1),
]


@pytest.fixture
def beir(tmp_path: Path) -> Path:
    source = tmp_path / "beir"
    (source / "qrels").mkdir(parents=True)
    with (source / "corpus.jsonl").open("w") as corpus:
        for passage_id, text in PASSAGES.items():
            corpus.write(json.dumps({"_id": passage_id, "title": "", "text": text}) + "\n")
    (source / "queries.jsonl").write_text(
        json.dumps({"_id": "q1", "text": "when was the salvation army founded"})
        + "\n"
        + json.dumps({"_id": "q2", "text": "hydrogen is a liquid below what temperature"})
        + "\n"
    )
    (source / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{p}\t{g}\n" for q, p, g in QRELS)
    )
    return source


def test_a_near_copy_of_the_answer_is_no_neighbour(beir: Path) -> None:
    queries, _ = read_judged(beir)
    first = queries[0]
    assert first.answers == ("p-ans",)
    assert first.related == ("p-rel1", "p-rel2")


def test_each_question_is_answerable_in_one_fold_and_not_in_the_other(
    beir: Path, tmp_path: Path
) -> None:
    queries, passages = read_judged(beir)
    sets = {}
    for fold in ("a", "b"):
        out = tmp_path / f"fold-{fold}"
        build_fold(queries, passages, fold, out)
        golden = load_golden(out / "questions.jsonl", out)  # the format the eval reads
        sources = {f.name for b in golden.buckets for f in b.files}
        sets[fold] = ({q.id: q for q in golden.questions}, sources)
    (a, a_files), (b, b_files) = sets["a"], sets["b"]
    assert a["msmarco-q1"].expected_source == "msmarco-p-ans.txt"
    assert b["msmarco-q1"].unanswerable and not a["msmarco-q1"].unanswerable
    assert a["msmarco-q2"].unanswerable and b["msmarco-q2"].expected_source == (
        "msmarco-p-other-ans.txt"
    )
    # without its answer, only the question's related passages are there, and no near-copy
    assert "msmarco-p-ans.txt" not in b_files and "msmarco-p-copy.txt" not in b_files
    assert {"msmarco-p-rel1.txt", "msmarco-p-rel2.txt"} <= a_files & b_files
    assert "msmarco-p-other-ans.txt" not in a_files
    assert all(not q.expected_terms for q in (*a.values(), *b.values()))
