"""Dense embedding backends side by side: torch fp32, ONNX fp32, ONNX int8.

Embeds N passages of a BEIR corpus (default: 1,000 of MS MARCO) in batches (ingestion)
and N queries one at a time (search), and prints texts/s for each backend with the
cosine of its vectors to torch's. The ONNX models are the ones ``ragline models
prepare`` made (``models.onnx_dir``); run that first. Numbers depend on the load of
the machine: print ``uptime`` beside them.

Run from the repository root:

    .venv/bin/python -m benchmarks.embed_bench [--n 1000] [--queries 200] [--batch 32]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from kernel.settings import get_settings
from retrieval.dense import SentenceTransformerEmbedder, default_model_path
from retrieval.encoders import DenseEncoder
from retrieval.onnx_dense import OnnxEmbedder
from retrieval.onnx_manifest import (
    ONNX_FP32,
    ONNX_INT8,
    PREPARE_COMMAND,
    onnx_cache_dir,
    prepared_dir,
    read_manifest,
)
from retrieval.onnx_verify import cosines

DEFAULT_CORPUS = Path("../shared/data/retrieval/msmarco-5k")


def _read(path: Path, n: int) -> list[str]:
    texts = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            texts.append(json.loads(line)["text"])
            if len(texts) == n:
                break
    return texts


def _timed(run: Callable[[], list[list[float]]], count: int) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    vectors = np.asarray(run(), dtype=np.float32)
    return vectors, count / (time.perf_counter() - start)


def _measure(
    encoder: DenseEncoder, passages: Sequence[str], queries: Sequence[str]
) -> tuple[np.ndarray, float, np.ndarray, float]:
    encoder.embed(passages[:8])  # warm-up, both shapes of call
    encoder.embed_one(queries[0])
    p, p_speed = _timed(lambda: encoder.embed(passages), len(passages))
    q, q_speed = _timed(lambda: [encoder.embed_one(t) for t in queries], len(queries))
    return p, p_speed, q, q_speed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--n", type=int, default=1000, help="passages, embedded in batches")
    parser.add_argument("--queries", type=int, default=200, help="queries, one at a time")
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()

    models = get_settings().models
    model_path = models.embedding_model_path or default_model_path()
    model_dir = prepared_dir(onnx_cache_dir(models.onnx_dir), model_path)
    manifest = read_manifest(model_dir)
    if manifest is None:
        raise SystemExit(f"no prepared ONNX model in {model_dir}: run `{PREPARE_COMMAND}`")
    passages = _read(args.corpus / "corpus.jsonl", args.n)
    queries = _read(args.corpus / "queries.jsonl", args.queries)
    encoders: dict[str, Callable[[], DenseEncoder]] = {
        "torch fp32": lambda: SentenceTransformerEmbedder(model_path, batch_size=args.batch),
    }
    for name, label in ((ONNX_FP32, "onnx fp32"), (ONNX_INT8, "onnx int8")):
        variant = manifest.variant(name)
        if variant is not None and variant.file:
            file = model_dir / variant.file
            encoders[label] = lambda file=file: OnnxEmbedder(  # type: ignore[misc]
                file, model_path, window=manifest.window, batch_size=args.batch
            )
    print(f"{len(passages)} passages (batch {args.batch}), {len(queries)} queries (batch 1)")
    print(f"load: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    header = f"{'backend':<11} {'passages/s':>10} {'queries/s':>10} {'cos min':>8} {'cos mean':>9}"
    print(header)
    reference: tuple[np.ndarray, np.ndarray] | None = None
    for label, build in encoders.items():
        p, p_speed, q, q_speed = _measure(build(), passages, queries)
        if reference is None:
            reference = (p, q)
        cos = np.concatenate([cosines(p, reference[0]), cosines(q, reference[1])])
        print(
            f"{label:<11} {p_speed:>10.1f} {q_speed:>10.1f} {cos.min():>8.4f} {cos.mean():>9.4f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
