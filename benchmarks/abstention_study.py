"""Per question, what the extractive answer's abstention decision sees: for studying signals.

``ragline eval answers`` reports whether each question was answered; to find a signal
that tells an on-topic unanswerable question from an answerable one, and to sweep the
thresholds without re-running the eval, this dumps the ranked units of every question
of a golden set (the best units' text, relevance, cosine, overlap, and the question's
terms with their document frequency in the retrieved chunks and in the whole set).

It ingests the set into ``--data-dir`` the way the eval does (a directory the eval
already filled is reused: its documents are unchanged), then asks the retriever and
:func:`answer.extractive.rank_units` directly, with no thresholds.

Usage: ``python -m benchmarks.abstention_study GOLDEN.jsonl --data-dir DIR --out FEATURES.jsonl``
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from answer.extractive import rank_units
from answer.sentence_cache import SentenceVectorCache
from evals.answers_eval import load_golden
from kernel.settings import get_settings
from retrieval.access import Principal, search_filter
from retrieval.embedder_choice import open_dense_encoder
from text.terms import terms

TOP_UNITS = 5


class _Quiet:
    def stage(self, description: str, total: int) -> None:
        print(f"{description} ({total})", flush=True)

    def advance(self) -> None:
        pass


def study(golden_path: Path, data_dir: Path, out: Path) -> None:
    from evals.answers_eval import ingest_golden
    from ragline.eval_retrieval_cmd import scratch_settings
    from ragline.runtime import open_runtime

    golden = load_golden(golden_path, golden_path.parent)
    settings = scratch_settings(get_settings(), data_dir)
    dense = open_dense_encoder(settings.models)
    runtime = open_runtime(settings, dense=dense)
    corpus_df: Counter[str] = Counter()
    documents = [f for b in golden.buckets for f in b.files]
    for file in documents:
        corpus_df.update(set(terms(file.read_text(encoding="utf-8", errors="replace"))))
    try:
        ingest_golden(runtime.ingestion, golden, _Quiet())
        cache = SentenceVectorCache(dense)
        principal = Principal(key_id="study", roles=golden.roles)
        with out.open("w", encoding="utf-8") as handle:
            for q in golden.questions:
                chunks = runtime.retriever.retrieve(
                    q.question, search_filter(principal, None), top_k=settings.retrieval.top_k
                )
                ranked = rank_units(q.question, chunks, dense, cache)
                chunk_df: Counter[str] = Counter()
                for chunk in chunks:
                    chunk_df.update(set(terms(chunk.text)))
                row = {
                    "id": q.id,
                    "question": q.question,
                    "unanswerable": q.unanswerable,
                    "expected_source": q.expected_source,
                    "expected_terms": list(q.expected_terms),
                    "documents": len(documents),
                    "chunks": len(chunks),
                    "question_terms": {
                        t: {"corpus_df": corpus_df[t], "chunk_df": chunk_df[t]}
                        for t in dict.fromkeys(terms(q.question))
                    },
                    "units": [
                        {
                            "text": u.text,
                            "source": u.chunk.source,
                            "relevance": u.relevance,
                            "overlap": u.overlap,
                            "bare": u.bare,
                            "terms": sorted(set(terms(u.text))),
                        }
                        for u in ranked[:TOP_UNITS]
                    ],
                    "chunk_texts": [c.text for c in chunks],
                }
                handle.write(json.dumps(row) + "\n")
    finally:
        runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("golden", type=Path)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    study(args.golden, args.data_dir, args.out)


if __name__ == "__main__":
    main()
