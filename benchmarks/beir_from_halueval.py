"""A BEIR-format retrieval set from HaluEval QA: each question's knowledge is its passage.

HaluEval's QA records (MIT licence) pair a HotpotQA question with the Wikipedia
paragraphs that answer it. Read as a retrieval set, every question has exactly one
relevant passage among all the records' knowledge: a second set, of another domain
than MS MARCO, for the fusion study and ``ragline eval retrieval``. Knowledge shared
by several records becomes one passage relevant to each of their questions.

Usage: ``python -m benchmarks.beir_from_halueval HALUEVAL.jsonl OUT_DIR``
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path


def build(source: Path, out: Path) -> tuple[int, int]:
    passages: dict[str, str] = {}
    queries: list[tuple[str, str, str]] = []
    with source.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if not line.strip():
                continue
            record = json.loads(line)
            knowledge = " ".join(str(record["knowledge"]).split())
            passage_id = "k" + hashlib.sha1(knowledge.encode()).hexdigest()[:12]
            passages[passage_id] = knowledge
            queries.append((f"q{number}", str(record["question"]), passage_id))
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    with (out / "corpus.jsonl").open("w", encoding="utf-8") as corpus:
        for passage_id, text in passages.items():
            corpus.write(json.dumps({"_id": passage_id, "title": "", "text": text}) + "\n")
    with (out / "queries.jsonl").open("w", encoding="utf-8") as handle:
        for query_id, text, _ in queries:
            handle.write(json.dumps({"_id": query_id, "text": text}) + "\n")
    with (out / "qrels" / "test.tsv").open("w", encoding="utf-8") as qrels:
        qrels.write("query-id\tcorpus-id\tscore\n")
        for query_id, _, passage_id in queries:
            qrels.write(f"{query_id}\t{passage_id}\t1\n")
    return len(passages), len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    passages, queries = build(args.source, args.out)
    print(f"{passages} passages, {queries} queries -> {args.out}")


if __name__ == "__main__":
    main()
