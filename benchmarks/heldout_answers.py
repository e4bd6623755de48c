"""A held-out answers set from MS MARCO's judged queries: each question with and without its answer.

The project's golden set (``evals/golden/answers``) was written for ragline, and its
abstention thresholds were calibrated on it; a second set written by nobody on the
project tells whether they hold. MS MARCO's judgments (TREC DL, as shipped in
``../shared/data/retrieval/msmarco-5k``) grade each judged passage 1 ("related: on
topic, does not answer"), 2 ("highly relevant") or 3 ("perfectly relevant"). That
gives exactly the hard unanswerable case, a question whose corpus is on topic while
the specific fact is missing:

- **answerable**: the question's corpus holds its best judged passage (the first grade
  3, else grade 2, by passage id) and up to :data:`NEIGHBOURS` of its grade-1
  passages. Its ``expected_source`` is the kept passage; its other grade-2/3 passages
  are left out, so that one file is the right citation;
- **unanswerable**: the question's corpus holds the same grade-1 sample and none of
  its grade-2/3 passages, nor a grade-1 passage that nearly duplicates one (half its
  terms or more shared, Jaccard): MS MARCO holds near-copies judged differently.
  Grade 1 is still a judge's call: read by hand, the best quote of about 6 of the 43
  unanswerable versions does answer ("RSA is a public-key encryption algorithm ..."),
  and about 7 more in part, so no method should reach an abstention of 1.0 here.

Each question is asked in one of two folds: fold ``a`` makes the even-numbered
queries (in ``queries.jsonl`` order) answerable and the odd ones unanswerable, fold
``b`` the reverse. Each fold is one golden set over one bucket: every question's
neighbours are in it, and another question's passages are off topic. Run both: over
the two, every question is asked once with its answer and once without.

``expected_terms`` are empty: MS MARCO's judgments grade passages, they name no
answer words, and writing them here would be the project writing its own labels
again. Answerable questions are scored by citation (hit@1, hit@3) and by whether
they are answered at all; term recall is 1.0 by construction and means nothing.

MS MARCO's terms allow non-commercial research use: the set is built on demand into
a folder you name, never committed, and no test reads it.

Usage: ``python -m benchmarks.heldout_answers ../shared/data/retrieval/msmarco-5k OUT``
(writes ``OUT/fold-a`` and ``OUT/fold-b``, each with ``questions.jsonl``,
``buckets.json`` and ``docs/``; then ``ragline eval answers OUT/fold-a/questions.jsonl``,
and ``python -m benchmarks.abstention_study`` on the same data directory for what each
abstention decision saw). Why not ``business-reports``: its queries are topics ("Banking
precision strategies versus scale-based approaches") judged against ~20 chunks each, so
neither an answer nor a missing fact can be told apart there.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from text.terms import terms

#: Grade-1 passages kept per question: on-topic neighbours the answer may wrongly quote.
NEIGHBOURS: Final = 8
#: Terms a grade-1 passage may share with a grade-2/3 one (Jaccard) and not be a copy of it.
NEAR_DUPLICATE: Final = 0.5
SEED: Final = 15
BUCKET: Final = "heldout-msmarco"
FOLDS: Final = ("a", "b")


@dataclass(frozen=True, slots=True)
class JudgedQuery:
    id: str
    text: str
    answers: tuple[str, ...]  # grade-2/3 passage ids, best grade first
    related: tuple[str, ...]  # grade-1 passage ids, none a near-copy of an answer


def read_judged(source: Path) -> tuple[list[JudgedQuery], dict[str, str]]:
    """The judged queries of a BEIR folder, in ``queries.jsonl`` order, and its passages."""
    passages = {}
    with (source / "corpus.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                row = json.loads(line)
                passages[str(row["_id"])] = " ".join(str(row["text"]).split())
    grades: dict[str, dict[str, int]] = defaultdict(dict)
    with (source / "qrels" / "test.tsv").open(encoding="utf-8") as lines:
        for line in lines:
            cells = line.split()
            if len(cells) == 3 and cells[2].isdigit() and cells[1] in passages:
                grades[cells[0]][cells[1]] = int(cells[2])
    queries = []
    with (source / "queries.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            row = json.loads(line)
            graded = grades.get(str(row["_id"]), {})
            answers = sorted(
                (p for p, g in graded.items() if g >= 2), key=lambda p: (-graded[p], p)
            )
            related = sorted(p for p, g in graded.items() if g == 1)
            related = [p for p in related if not _copies_any(passages[p], answers, passages)]
            if answers and related:
                queries.append(
                    JudgedQuery(str(row["_id"]), row["text"], tuple(answers), tuple(related))
                )
    return queries, passages


def _copies_any(text: str, answers: list[str], passages: dict[str, str]) -> bool:
    mine = set(terms(text))
    for passage_id in answers:
        theirs = set(terms(passages[passage_id]))
        union = mine | theirs
        if union and len(mine & theirs) / len(union) >= NEAR_DUPLICATE:
            return True
    return False


def build_fold(
    queries: list[JudgedQuery], passages: dict[str, str], fold: str, out: Path
) -> tuple[int, int]:
    """Write one fold's golden set under ``out``; returns (questions, documents)."""
    docs = out / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)  # the same neighbours in both folds: only the answer differs
    files: list[str] = []
    rows: list[dict[str, object]] = []
    for number, query in enumerate(queries):
        neighbours = sorted(rng.sample(query.related, min(NEIGHBOURS, len(query.related))))
        answerable = (number % 2 == 0) == (fold == FOLDS[0])
        kept = [*neighbours, query.answers[0]] if answerable else neighbours
        for passage_id in kept:
            name = f"msmarco-{passage_id}.txt"
            (docs / name).write_text(passages[passage_id] + "\n", encoding="utf-8")
            files.append(f"docs/{name}")
        rows.append(
            {
                "id": f"msmarco-{query.id}",
                "question": query.text,
                "expected_source": f"msmarco-{query.answers[0]}.txt" if answerable else None,
                "expected_terms": [],
                "unanswerable": not answerable,
            }
        )
    buckets = [{"bucket": BUCKET, "roles": ["public"], "files": files}]
    (out / "buckets.json").write_text(json.dumps(buckets, indent=2) + "\n", encoding="utf-8")
    with (out / "questions.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    return len(rows), len(files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="a BEIR folder with graded qrels (msmarco-5k)")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    queries, passages = read_judged(args.source)
    for fold in FOLDS:
        questions, documents = build_fold(queries, passages, fold, args.out / f"fold-{fold}")
        print(f"fold {fold}: {questions} questions over {documents} documents")


if __name__ == "__main__":
    main()
