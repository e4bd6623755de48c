"""Bulk ingestion of one corpus three ways, interleaved: ragline, LlamaIndex, pure embedding.

What each arm does with the same files (written to a scratch folder first, untimed):

- ``ragline``: the real in-process pipeline, ``ingest.folder.ingest_paths`` on a fresh
  embedded runtime (registry, parser child process, chunkers, MiniLM, BM25, qdrant-edge),
  exactly as ``ragline ingest`` runs it. Its observer is wrapped to sum the seconds each
  stage reports, whatever keys the pipeline sends (it still feeds the runtime's metrics).
- ``llamaindex``: the peer a user would otherwise pick: ``SimpleDirectoryReader`` over
  the same files (reading is part of the work for every arm), then an
  ``IngestionPipeline`` of ``SentenceSplitter`` and ``HuggingFaceEmbedding`` of the same
  MiniLM (``retrieval.dense.default_model_path()``, batch 32, normalised) into a
  ``QdrantVectorStore`` on a local ``QdrantClient(path=...)``, with the pipeline's
  default in-memory cache. The splitter counts MiniLM word pieces and aims at ragline's
  own chunk target and overlap (``chunkers.budget.Budget``), so both cut chunks of about
  the same size and chunks/s compares like with like. The splitter leaves room for the
  reader's metadata (file path, dates), so its chunk count moves a little from run to
  run with the scratch path's word pieces.
- ``embedding``: a bare ``SentenceTransformer.encode`` (same model, batch 32,
  normalised) of exactly ragline's chunk texts, read back from ragline's index after
  its arm (registry: each document's served version and chunk count; index: the
  payload ``text`` of those chunk ids, which is the text the pipeline embedded). The
  floor any pipeline on this model pays with torch. The runtime may pick another
  backend for ragline (``models.embedding_backend``): the output names the class used.

The corpus is cut into K slices and the arms run slice by slice in rotating order,
each keeping its own store across slices, so load from other processes on the machine
falls on every arm alike. Pure embedding needs ragline's chunks of the slice, so it
always runs after ragline: the orders rotate over (ragline, llamaindex, embedding),
(llamaindex, ragline, embedding), (ragline, embedding, llamaindex). Models are loaded
and warmed before any timing; opening a store is not timed, writing to it is.

Corpora: ``msmarco`` (each passage a .txt file, its title and text);
``synthetic`` (documents of 1 to 40 MS MARCO passages, .txt or .md with headings, drawn
by a seeded generator: the same ``--passages`` and ``--seed`` give the same files);
``dir`` (the files of a folder of yours, copied).

Run from the repository root (other processes share the CPU: read ``load`` in the output):

    .venv/bin/python -m benchmarks.ingest_bench --corpus msmarco --limit 600
    .venv/bin/python -m benchmarks.ingest_bench --corpus synthetic --passages 10000 \\
        [--slices 5] [--seed 13] [--json out.json]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from pydantic import SecretStr

from chunkers.budget import Budget
from ingest.folder import ingest_paths
from ingest.pipeline import IngestionDeps, chunk_id_for
from ingest.ports import IngestObserver
from ingest.records import Document
from kernel.settings import Settings
from ragline.runtime import Runtime, open_runtime
from retrieval.dense import default_model_path
from retrieval.encoders import DenseEncoder

DEFAULT_MSMARCO = Path("../shared/data/retrieval/msmarco-5k/corpus.jsonl")
ARMS = ("ragline", "llamaindex", "embedding", "encoder")
# Pure embedding encodes ragline's chunks of the slice, so it comes after ragline.
ORDERS = (
    ("ragline", "llamaindex", "embedding"),
    ("llamaindex", "ragline", "embedding"),
    ("ragline", "embedding", "llamaindex"),
)
BUCKET = "bench"
BATCH = 32
CHUNKS_PER_S_GOAL = 1.5  # ragline chunks/s over LlamaIndex's, at least
WALL_GOAL = 1.15  # ragline wall over pure embedding's, at most
PAGE = 500


@dataclass(frozen=True, slots=True)
class CorpusFile:
    name: str  # relative path inside the corpus folder
    data: bytes


@dataclass(slots=True)
class ArmTotals:
    documents: int = 0
    chunks: int = 0
    seconds: float = 0.0
    failed: int = 0


@dataclass(slots=True)
class SliceRun:
    documents: int
    chunks: int
    seconds: float
    failed: int = 0


@dataclass(slots=True)
class Bench:
    totals: dict[str, ArmTotals] = field(default_factory=lambda: {a: ArmTotals() for a in ARMS})
    slices: list[dict[str, Any]] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)
    encoder: str = ""  # the class of ragline's dense encoder (the runtime picks a backend)


# --- corpora -----------------------------------------------------------------------------


def _passages(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return [f"{row.get('title') or ''}\n\n{row['text']}".strip() for row in rows]


def msmarco_corpus(path: Path) -> list[CorpusFile]:
    """One .txt file per passage, title (if any) and text, named by the passage id."""
    with path.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return [
        CorpusFile(
            f"{row['_id']}.txt", f"{row.get('title') or ''}\n\n{row['text']}".strip().encode()
        )
        for row in rows
    ]


def _heading(passage: str, rng: random.Random) -> str:
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", passage)[: rng.randint(2, 6)]
    return " ".join(w.capitalize() for w in words) or "Notes"


def _document_length(rng: random.Random) -> int:
    """Passages in one document: mostly short, some medium, a few long (1 to 40)."""
    roll = rng.random()
    if roll < 0.4:
        return rng.randint(1, 3)
    if roll < 0.8:
        return rng.randint(4, 15)
    return rng.randint(16, 40)


def synthetic_corpus(passages: Sequence[str], total: int, seed: int) -> list[CorpusFile]:
    """Documents of mixed length summing to ``total`` passages, drawn with ``seed``.

    Half are Markdown (a title, a ``##`` section every 1 to 5 passages), half plain text
    (a title line, a capitalised heading line every 1 to 5 passages): long documents are
    cut into several chunks along their headings, short ones are one chunk, so chunking
    matters. Passages are drawn with replacement, so ``total`` may exceed the source.
    """
    if not passages:
        raise ValueError("no passages to build documents from")
    rng = random.Random(seed)
    files: list[CorpusFile] = []
    used = 0
    while used < total:
        count = min(total - used, _document_length(rng))
        picked = [passages[rng.randrange(len(passages))] for _ in range(count)]
        used += count
        markdown = rng.random() < 0.5
        title = _heading(picked[0], rng)
        lines = [f"# {title}" if markdown else title, ""]
        until_heading = 0
        for passage in picked:
            if until_heading == 0 and len(picked) > 1:
                heading = _heading(passage, rng)
                lines += [f"## {heading}" if markdown else heading.upper(), ""]
                until_heading = rng.randint(1, 5)
            until_heading = max(0, until_heading - 1)
            lines += [passage, ""]
        suffix = "md" if markdown else "txt"
        files.append(CorpusFile(f"doc-{len(files):06d}.{suffix}", "\n".join(lines).encode()))
    return files


def folder_corpus(folder: Path) -> list[CorpusFile]:
    """Every non-hidden file under ``folder``, in path order."""
    return [
        CorpusFile(p.relative_to(folder).as_posix(), p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]


def write_corpus(files: Sequence[CorpusFile], root: Path) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in files:
        path = root / f.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f.data)
        paths.append(path)
    return paths


def slices_of(paths: Sequence[Path], k: int) -> list[list[Path]]:
    """``k`` contiguous slices of nearly equal length (fewer when there are fewer files)."""
    k = max(1, min(k, len(paths)))
    size, extra = divmod(len(paths), k)
    out: list[list[Path]] = []
    start = 0
    for i in range(k):
        end = start + size + (1 if i < extra else 0)
        out.append(list(paths[start:end]))
        start = end
    return out


# --- arms --------------------------------------------------------------------------------


class StageTotals:
    """The pipeline's observer, wrapped: sums each stage's seconds, then passes it on."""

    def __init__(self, inner: IngestObserver | None) -> None:
        self._inner = inner
        self.seconds: dict[str, float] = {}

    def observed(
        self,
        *,
        outcome: str,
        format: str | None,
        error_code: str | None,
        stages: Mapping[str, float],
    ) -> None:
        for stage, seconds in stages.items():
            self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds
        if self._inner is not None:
            self._inner.observed(
                outcome=outcome, format=format, error_code=error_code, stages=stages
            )


class RaglineArm:
    """A fresh embedded runtime on its own data directory; one bucket across slices."""

    def __init__(
        self, data_dir: Path, root: Path, scratch: Path, dense: DenseEncoder | None = None
    ) -> None:
        settings = Settings(data_dir=data_dir, api_keys=SecretStr('{"bench": ["public"]}'))
        self._runtime: Runtime = open_runtime(settings, dense=dense)
        self.stages = StageTotals(self._runtime.ingestion.observer)
        self._deps: IngestionDeps = replace(self._runtime.ingestion, observer=self.stages)
        self._root = root
        # Warm the model and the parser child (a first call pays for loading), untimed.
        self._deps.dense.embed(["warm up the embedding model"])
        warm = scratch / "warm-up.txt"
        warm.write_text("Warm up the parser.\n")
        self._deps.parser.parse(warm, filename=warm.name)

    @property
    def dense(self) -> DenseEncoder:
        return self._deps.dense

    @property
    def budget(self) -> Budget:
        return Budget.of(self._deps.dense.tokens)

    def run(self, files: Sequence[Path]) -> SliceRun:
        started = time.perf_counter()
        reports = ingest_paths(
            self._deps,
            self._root,
            files,
            bucket=BUCKET,
            roles=["public"],
            doc_type=None,
            on_file=lambda _: None,
        )
        seconds = time.perf_counter() - started
        indexed = [r for r in reports if r.outcome == "indexed"]
        return SliceRun(
            len(indexed), sum(r.chunks for r in indexed), seconds, len(reports) - len(indexed)
        )

    def chunk_texts(self, files: Sequence[Path]) -> list[str]:
        """The texts ragline embedded for these files: each served version's chunk payloads."""
        registry, index = self._deps.registry, self._deps.index
        by_key: dict[str, Document] = {}
        while True:
            page = registry.list_documents(bucket=BUCKET, limit=PAGE, offset=len(by_key))
            by_key.update({doc.key: doc for doc in page})
            if len(page) < PAGE:
                break
        texts: list[str] = []
        for path in files:
            doc = by_key.get(path.relative_to(self._root).as_posix())
            if doc is None or doc.status != "indexed":
                continue
            ids = [chunk_id_for(doc.id, doc.indexed_version, i) for i in range(doc.chunks)]
            stored = index.stored_texts(ids)
            if len(stored) != len(ids):
                raise RuntimeError(f"{doc.key}: {len(stored)} of {len(ids)} chunks in the index")
            texts.extend(stored[i] for i in ids)
        return texts

    def close(self) -> None:
        self._runtime.close()


class LlamaIndexArm:
    """``IngestionPipeline`` (splitter, MiniLM) into a local-mode Qdrant, one collection."""

    def __init__(self, qdrant_dir: Path, budget: Budget) -> None:
        from llama_index.core.ingestion import IngestionPipeline
        from llama_index.core.node_parser import SentenceSplitter
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding
        from llama_index.vector_stores.qdrant import QdrantVectorStore
        from qdrant_client import QdrantClient

        embed = HuggingFaceEmbedding(
            model_name=str(default_model_path()),
            device="cpu",
            embed_batch_size=BATCH,
            normalize=True,
        )
        embed.get_text_embedding("warm up the embedding model")
        word_pieces = functools.partial(embed._model.tokenizer.encode, add_special_tokens=False)
        splitter = SentenceSplitter(
            chunk_size=budget.target, chunk_overlap=budget.overlap, tokenizer=word_pieces
        )
        self._client = QdrantClient(path=str(qdrant_dir))
        store = QdrantVectorStore(collection_name=BUCKET, client=self._client)
        self._pipeline = IngestionPipeline(transformations=[splitter, embed], vector_store=store)

    def run(self, files: Sequence[Path]) -> SliceRun:
        from llama_index.core import SimpleDirectoryReader

        started = time.perf_counter()
        with warnings.catch_warnings():
            # Its store asks for a doc_id payload index, which local mode ignores (and says).
            warnings.filterwarnings("ignore", "Payload indexes have no effect", UserWarning)
            documents = SimpleDirectoryReader(input_files=[str(p) for p in files]).load_data()
            nodes = self._pipeline.run(documents=documents)
        seconds = time.perf_counter() - started
        read = {d.metadata.get("file_path") for d in documents}
        return SliceRun(len(read), len(nodes), seconds)

    def close(self) -> None:
        self._client.close()


class EmbeddingArm:
    """``SentenceTransformer.encode`` of given texts, nothing else."""

    def __init__(self) -> None:
        from sentence_transformers import SentenceTransformer

        self._model: Any = SentenceTransformer(str(default_model_path()), device="cpu")
        self._encode(["warm up the embedding model"])

    def _encode(self, texts: Sequence[str]) -> None:
        self._model.encode(
            list(texts),
            batch_size=BATCH,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    def run(self, texts: Sequence[str], documents: int) -> SliceRun:
        started = time.perf_counter()
        if texts:
            self._encode(texts)
        return SliceRun(documents, len(texts), time.perf_counter() - started)


class EncoderArm:
    """ragline's own dense encoder (torch or ONNX, as the runtime chose) on the same texts:
    the floor for ragline's wall time, whatever backend it runs."""

    def __init__(self, dense: DenseEncoder) -> None:
        self._dense = dense

    def run(self, texts: Sequence[str], documents: int) -> SliceRun:
        started = time.perf_counter()
        if texts:
            self._dense.embed(texts)
        return SliceRun(documents, len(texts), time.perf_counter() - started)


class _Closable(Protocol):
    def close(self) -> None: ...


# --- the run -----------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": model, "load_before": list(os.getloadavg())}


def run_bench(
    files: Sequence[CorpusFile], k: int, work: Path, dense: DenseEncoder | None = None
) -> Bench:
    """``dense``: ragline's encoder, when a caller (a test) has one loaded already."""
    root = work / "corpus"
    paths = write_corpus(files, root)
    bench = Bench()
    closing: list[_Closable] = []
    try:
        ragline = RaglineArm(work / "ragline-data", root, work, dense)
        closing.append(ragline)
        llama = LlamaIndexArm(work / "llamaindex-qdrant", ragline.budget)
        closing.append(llama)
        embedding = EmbeddingArm()
        same_encoder = EncoderArm(ragline.dense)
        for number, part in enumerate(slices_of(paths, k)):
            order = ORDERS[number % len(ORDERS)]
            runs: dict[str, SliceRun] = {}
            texts: list[str] = []
            for arm in order:
                if arm == "ragline":
                    runs[arm] = ragline.run(part)
                    texts = ragline.chunk_texts(part)  # untimed
                elif arm == "llamaindex":
                    runs[arm] = llama.run(part)
                else:
                    runs[arm] = embedding.run(texts, runs["ragline"].documents)
            runs["encoder"] = same_encoder.run(texts, runs["ragline"].documents)
            for arm, run in runs.items():
                total = bench.totals[arm]
                total.documents += run.documents
                total.chunks += run.chunks
                total.seconds += run.seconds
                total.failed += run.failed
            bench.slices.append(
                {
                    "order": list(order),
                    "files": len(part),
                    **{a: {"chunks": r.chunks, "seconds": r.seconds} for a, r in runs.items()},
                }
            )
            done = ", ".join(f"{a} {r.seconds:.1f} s" for a, r in runs.items())
            print(f"slice {number + 1}: {len(part)} files: {done}", file=sys.stderr, flush=True)
        bench.stages = dict(ragline.stages.seconds)
        bench.encoder = type(ragline.dense).__name__
    finally:
        for thing in reversed(closing):
            thing.close()
    return bench


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("inf")


def report(bench: Bench, corpus: Mapping[str, Any], host: Mapping[str, Any]) -> dict[str, Any]:
    """Print the table and goals; return the same numbers for ``--json``."""
    base = bench.totals["embedding"].seconds
    floor = bench.totals["encoder"].seconds
    arms = {
        name: {
            "documents": t.documents,
            "failed": t.failed,
            "chunks": t.chunks,
            "wall_s": round(t.seconds, 3),
            "chunks_per_s": round(_ratio(t.chunks, t.seconds), 2),
            "x_embedding": round(_ratio(t.seconds, base), 3),
        }
        for name, t in bench.totals.items()
    }
    before = " ".join(f"{x:.2f}" for x in host["load_before"])
    after = " ".join(f"{x:.2f}" for x in host["load_after"])
    print(f"machine: {host['cores']} cores, {host['cpu']}")
    print(f"load (1/5/15 min): before {before}, after {after}")
    print(
        f"corpus: {corpus['name']}, {corpus['files']} files in {corpus['slices']} slices, "
        "arms interleaved per slice in rotating order"
    )
    print(
        f"ragline's dense encoder: {bench.encoder}; embedding: SentenceTransformer (torch); "
        "encoder: ragline's own encoder alone on the same texts"
    )
    print()
    print(f"{'arm':<12}{'documents':>10}{'chunks':>9}{'wall s':>9}{'chunks/s':>10}{'x embed':>9}")
    for name, row in arms.items():
        print(
            f"{name:<12}{row['documents']:>10}{row['chunks']:>9}{row['wall_s']:>9.2f}"
            f"{row['chunks_per_s']:>10.1f}{row['x_embedding']:>9.2f}"
        )
    if bench.totals["ragline"].failed:
        print(f"ragline: {bench.totals['ragline'].failed} documents failed")
    wall = bench.totals["ragline"].seconds
    staged = sum(bench.stages.values())
    print()
    print("ragline by stage (seconds summed over documents, as its observer got them):")
    for stage, seconds in bench.stages.items():
        print(f"  {stage:<10}{seconds:>9.2f}  {100 * _ratio(seconds, wall):5.1f}%")
    print(f"  {'other':<10}{wall - staged:>9.2f}  {100 * _ratio(wall - staged, wall):5.1f}%")
    rag, peer = arms["ragline"], arms["llamaindex"]
    speedup = _ratio(rag["chunks_per_s"], peer["chunks_per_s"])
    overhead = _ratio(wall, floor)
    goals = [
        {
            "goal": f"ragline chunks/s >= {CHUNKS_PER_S_GOAL}x llamaindex",
            "value": round(speedup, 3),
            "pass": speedup >= CHUNKS_PER_S_GOAL,
        },
        {
            "goal": f"ragline wall <= {WALL_GOAL}x pure embedding (same encoder)",
            "value": round(overhead, 3),
            "pass": overhead <= WALL_GOAL,
        },
    ]
    print()
    print(
        f"goal: {goals[0]['goal']}: {rag['chunks_per_s']:.1f} vs {peer['chunks_per_s']:.1f} "
        f"= {speedup:.2f}x  {'PASS' if goals[0]['pass'] else 'FAIL'}"
    )
    print(
        f"goal: {goals[1]['goal']}: {wall:.2f} s vs {floor:.2f} s "
        f"= {overhead:.2f}x  {'PASS' if goals[1]['pass'] else 'FAIL'} "
        f"(vs torch SentenceTransformer: {_ratio(wall, base):.2f}x)"
    )
    return {
        "machine": dict(host),
        "corpus": dict(corpus),
        "arms": arms,
        "ragline_stages_s": {k: round(v, 3) for k, v in bench.stages.items()},
        "ragline_encoder": bench.encoder,
        "slices": bench.slices,
        "goals": goals,
    }


def _corpus(args: argparse.Namespace) -> tuple[list[CorpusFile], dict[str, Any]]:
    described: dict[str, Any] = {"name": args.corpus}
    if args.corpus == "msmarco":
        files = msmarco_corpus(args.source)
    elif args.corpus == "synthetic":
        files = synthetic_corpus(_passages(args.source), args.passages, args.seed)
        described.update(passages=args.passages, seed=args.seed)
    else:
        if args.dir is None:
            raise SystemExit("--corpus dir needs --dir")
        files = folder_corpus(args.dir)
    if args.limit is not None:
        files = files[: args.limit]
    described.update(files=len(files), slices=max(1, min(args.slices, len(files))))
    return files, described


def main(argv: Sequence[str] | None = None, *, dense: DenseEncoder | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--corpus", choices=("msmarco", "synthetic", "dir"), default="msmarco")
    parser.add_argument(
        "--source", type=Path, default=DEFAULT_MSMARCO, help="MS MARCO corpus.jsonl"
    )
    parser.add_argument("--dir", type=Path, help="the folder for --corpus dir")
    parser.add_argument("--passages", type=int, default=10_000, help="synthetic: passages")
    parser.add_argument("--seed", type=int, default=13, help="synthetic: generator seed")
    parser.add_argument("--limit", type=int, help="take the first N documents only")
    parser.add_argument("--slices", type=int, default=5, help="K interleaved slices")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args(argv)

    for name, value in (
        ("HF_HUB_OFFLINE", "1"),
        ("TRANSFORMERS_OFFLINE", "1"),
        ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),
        ("TOKENIZERS_PARALLELISM", "false"),
    ):
        os.environ.setdefault(name, value)
    files, corpus = _corpus(args)
    if not files:
        raise SystemExit("the corpus is empty")
    host = machine()
    work = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    try:
        bench = run_bench(files, args.slices, work, dense)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    host["load_after"] = list(os.getloadavg())
    numbers = report(bench, corpus, host)
    if args.json is not None:
        args.json.write_text(json.dumps(numbers, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
