"""End-to-end numbers on the embedded stack: ingestion throughput and /ask latency.

Writes N passages of a BEIR corpus as small text files, ingests them through the real
pipeline (parser child process, chunker, MiniLM, BM25, qdrant-edge, SQLite registry),
then asks every query of the set through the answer service and reports p50/p95/p99
for retrieval alone and for the whole answer (retrieval, sentence ranking, grounding,
answer record), the first time a question is asked and again (the sentence vectors
of its chunks are cached by then). No HTTP: the API reports its own latency_ms.

    .venv/bin/python -m benchmarks.ask_latency \\
        --corpus ../shared/data/retrieval/msmarco-5k/corpus.jsonl \\
        --queries ../shared/data/retrieval/msmarco-5k/queries.jsonl [--docs 1000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from ingest.folder import ingest_paths, list_files
from kernel.settings import Settings
from ragline.runtime import open_runtime
from retrieval.access import Principal, search_filter


def _percentiles(samples_ms: list[float]) -> tuple[float, float, float]:
    qs = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return qs[49], qs[94], qs[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="passes over the query set")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "corpus"
        folder.mkdir()
        with args.corpus.open() as fh:
            for i, line in enumerate(fh):
                if i >= args.docs:
                    break
                row = json.loads(line)
                text = f"{row.get('title') or ''}\n\n{row['text']}".strip()
                (folder / f"{row['_id']}.txt").write_text(text)
        queries = [json.loads(line)["text"] for line in args.queries.open()]

        settings = Settings(data_dir=Path(tmp) / "data", api_keys='{"bench": ["public"]}')
        runtime = open_runtime(settings)
        try:
            started = time.perf_counter()
            reports = ingest_paths(
                runtime.ingestion,
                folder,
                list_files(folder),
                bucket="bench",
                roles=["public"],
                doc_type=None,
                on_file=lambda _: None,
            )
            ingest_s = time.perf_counter() - started
            chunks = sum(r.chunks for r in reports)
            principal = Principal.from_key("bench", ["public"])
            flt = search_filter(principal)
            retrieve_ms: list[float] = []
            cold_ms: list[float] = []
            warm_ms: list[float] = []
            found = 0
            for round_no in range(args.rounds):
                ask_ms = cold_ms if round_no == 0 else warm_ms
                for q in queries:
                    t0 = time.perf_counter()
                    runtime.retriever.retrieve(q, flt, top_k=5)
                    retrieve_ms.append((time.perf_counter() - t0) * 1000)
                    t0 = time.perf_counter()
                    answer = runtime.answers.ask(principal, q)
                    ask_ms.append((time.perf_counter() - t0) * 1000)
                    found += answer.found
        finally:
            runtime.close()

    print(
        f"ingested {len(reports)} documents ({chunks} chunks) in {ingest_s:.1f} s: "
        f"{len(reports) / ingest_s:.1f} docs/s, "
        f"{sum(r.outcome == 'failed' for r in reports)} failed"
    )
    asked = len(cold_ms) + len(warm_ms)
    print(f"{asked} questions, {found} answered (the rest: 'nothing relevant found')")
    print(f"{'stage':<22}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    stages = [
        ("hybrid retrieve top-5", retrieve_ms),
        ("answer, first ask", cold_ms),
        ("answer, asked again", warm_ms),  # sentence vectors of its chunks are cached
    ]
    for name, samples in stages:
        if len(samples) < 2:
            continue
        p50, p95, p99 = _percentiles(samples)
        print(f"{name:<22}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}")


if __name__ == "__main__":
    main()
