"""Fusion study: every hybrid variant on the same two ranked lists, on several BEIR sets.

``ragline eval retrieval`` measures the shipped retriever end to end, through
ingestion and the index, which takes tens of minutes on 5,000 passages. Choosing a
fusion needs dozens of variants on several sets, so this script rebuilds the two
sides the way the pipeline does (ragline's parser and chunkers per passage, the
MiniLM embedder, ragline's BM25 encoder with Qdrant's IDF), keeps each side's top
candidates with their scores, and fuses them offline, in seconds per variant.

The sides are exact (brute-force cosine, exact BM25), where the index uses HNSW for
dense; at 5,000 chunks the two agree on nearly every top-100. The shipped choice is
then confirmed with ``ragline eval retrieval`` (README, "Hybrid retrieval").

Usage::

    python -m benchmarks.fusion_study ../shared/data/retrieval/msmarco-5k \
        ../shared/data/retrieval/business-reports [--cache /tmp/fusion-cache] \
        [--indexing shipped|file-name-titles|corpus-avgdl|sections-embedded]

Prints one table: nDCG@10 and Recall@100 per set for each fusion. ``--indexing``
rebuilds the sides an older way, to measure what each fix changed. Parsed chunks and
embeddings are cached per set.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chunkers.registry import chunk_document, resolve_doc_type
from evals import metrics
from evals.beir import BeirSet, load_beir
from ingest.parsing.unstructured_parser import UnstructuredParser
from retrieval.dense import SentenceTransformerEmbedder
from retrieval.index import ranking
from retrieval.sparse import BM25SparseEncoder

CANDIDATES = 100
Side = list[tuple[str, float]]  # (passage id, score), best first


@dataclass(frozen=True)
class Chunked:
    passage: list[str]  # chunk -> passage id
    title: list[str]  # the title the pipeline gives each chunk's document
    real_title: list[str]  # a given or parsed title only, never the file name
    section: list[str]
    text: list[str]


@dataclass(frozen=True)
class Sides:
    dense: dict[str, Side]
    sparse: dict[str, Side]
    idf_sum: dict[str, float]  # query -> sum of its terms' IDF: BM25's scale for it
    vectors: np.ndarray  # chunk vectors
    owners: list[str]  # chunk -> passage
    query_vectors: dict[str, np.ndarray]
    lexicon: Lexicon
    query_terms: dict[str, tuple[int, ...]]


def chunk_corpus(data: BeirSet, cache: Path, embedder: SentenceTransformerEmbedder) -> Chunked:
    key = hashlib.sha1(str(sorted(data.corpus)).encode()).hexdigest()[:10]
    saved = cache / f"{key}-chunks.json"
    if saved.exists():
        return Chunked(**json.loads(saved.read_text(encoding="utf-8")))
    chunked = _chunk_corpus(data, embedder)
    saved.write_text(json.dumps(dataclasses.asdict(chunked)), encoding="utf-8")
    return chunked


def _chunk_corpus(data: BeirSet, embedder: SentenceTransformerEmbedder) -> Chunked:
    parser = UnstructuredParser(max_bytes=1 << 30, ocr=False)
    passage, title, real_title, section, text = [], [], [], [], []
    with tempfile.TemporaryDirectory() as scratch:
        for number, item in enumerate(data.corpus.values()):
            path = Path(scratch) / f"p{number}.txt"
            path.write_text(item.text if item.text.strip() else item.title, encoding="utf-8")
            try:
                parsed = parser.parse(path, filename=f"{item.id}.txt")
            except Exception:  # noqa: BLE001 - an unreadable passage is left out, as in the eval
                continue
            drafts = chunk_document(parsed, resolve_doc_type(None, parsed), embedder.tokens)
            given = item.title or parsed.title or ""
            for draft in drafts:
                passage.append(item.id)
                title.append(given or f"{item.id}.txt")
                real_title.append(given)
                section.append(draft.section or "")
                text.append(draft.text)
    return Chunked(passage, title, real_title, section, text)


def embed(texts: Sequence[str], embedder: SentenceTransformerEmbedder, path: Path) -> np.ndarray:
    if path.exists():
        cached: np.ndarray = np.load(path)
        return cached
    vectors = np.asarray(embedder.embed(list(texts)), dtype=np.float32)
    np.save(path, vectors)
    return vectors


def dense_side(
    vectors: np.ndarray, owners: Sequence[str], queries: np.ndarray, ids: Sequence[str]
) -> dict[str, Side]:
    scores = queries @ vectors.T
    out: dict[str, Side] = {}
    for row, query_id in enumerate(ids):
        out[query_id] = _by_passage(scores[row], owners)
    return out


class Lexicon:
    """BM25 as the index computes it: stored document weights times Qdrant's IDF."""

    def __init__(self, texts: Sequence[str], encoder: BM25SparseEncoder) -> None:
        self.documents = encoder.encode_documents(texts)
        self.postings: dict[int, list[tuple[int, float]]] = {}
        for row, vector in enumerate(self.documents):
            for index, value in zip(vector.indices, vector.values, strict=True):
                self.postings.setdefault(index, []).append((row, value))
        n = len(self.documents)
        self.idf = {
            index: math.log(1.0 + (n - len(posting) + 0.5) / (len(posting) + 0.5))
            for index, posting in self.postings.items()
        }

    def scores(self, query: Mapping[int, float]) -> np.ndarray:
        scores = np.zeros(len(self.documents), dtype=np.float64)
        for index, weight in query.items():
            for row, value in self.postings.get(index, []):
                scores[row] += weight * self.idf[index] * value
        return scores


def sparse_side(
    lexicon: Lexicon,
    owners: Sequence[str],
    query_terms: Mapping[str, Sequence[int]],
    idf_sum: dict[str, float],
) -> dict[str, Side]:
    out: dict[str, Side] = {}
    for query_id, indices in query_terms.items():
        idf_sum[query_id] = sum(lexicon.idf.get(i, 0.0) for i in indices)
        scores = lexicon.scores(dict.fromkeys(indices, 1.0))
        out[query_id] = [(p, s) for p, s in _by_passage(scores, owners) if s > 0]
    return out


def _by_passage(scores: np.ndarray, owners: Sequence[str]) -> Side:
    order = np.argsort(-scores, kind="stable")[: CANDIDATES * 3]
    best: dict[str, float] = {}
    for row in order:
        owner = owners[row]
        if owner not in best:
            best[owner] = float(scores[row])
        if len(best) == CANDIDATES:
            break
    return ranking.rank_by_score(best.items())


Fusion = Callable[[Side, Side, float], Side]  # dense, sparse, the query's IDF sum


def rrf(k: int, weight: float = 0.5) -> Fusion:
    def fuse(dense: Side, sparse: Side, idf_sum: float) -> Side:
        fused: dict[str, float] = {}
        for w, side in ((weight, dense), (1.0 - weight, sparse)):
            for position, (pid, _) in enumerate(side):
                fused[pid] = fused.get(pid, 0.0) + 2.0 * w / (k + position)
        return ranking.rank_by_score(fused.items())

    return fuse


def _minmax(side: Side) -> dict[str, float]:
    if not side:
        return {}
    high, low = side[0][1], side[-1][1]
    spread = high - low or 1.0
    return {pid: (s - low) / spread for pid, s in side}


def _zscore(side: Side) -> dict[str, float]:
    if not side:
        return {}
    values = np.asarray([s for _, s in side])
    mean, std = float(values.mean()), float(values.std()) or 1.0
    return {pid: (s - mean) / std for pid, s in side}


def convex(alpha: float, norm: Callable[[Side], dict[str, float]] = _minmax) -> Fusion:
    """``alpha * dense + (1 - alpha) * sparse`` on normalised scores; absent = side's floor."""

    def fuse(dense: Side, sparse: Side, idf_sum: float) -> Side:
        d, s = norm(dense), norm(sparse)
        d_floor = min(d.values(), default=0.0)
        s_floor = min(s.values(), default=0.0)
        fused = {
            pid: alpha * d.get(pid, d_floor) + (1 - alpha) * s.get(pid, s_floor)
            for pid in set(d) | set(s)
        }
        return ranking.rank_by_score(fused.items())

    return fuse


def scaled(alpha: float) -> Fusion:
    """Cosine as it is, BM25 over the query's IDF sum: both on a scale fixed per query.

    Unlike min-max, a query whose best BM25 match is weak keeps a weak lexical score,
    so the lexical side speaks up only when it found something: the weighting is
    query-dependent without a second model.
    """

    def fuse(dense: Side, sparse: Side, idf_sum: float) -> Side:
        d = dict(dense)
        s = {pid: score / idf_sum for pid, score in sparse} if idf_sum > 0 else {}
        d_floor = min(d.values(), default=0.0)
        fused = {
            pid: alpha * d.get(pid, d_floor) + (1 - alpha) * s.get(pid, 0.0)
            for pid in set(d) | set(s)
        }
        return ranking.rank_by_score(fused.items())

    return fuse


def confident(alpha_low: float, alpha_high: float, gap: float) -> Fusion:
    """Min-max convex, with the dense weight set per query by BM25's top-score margin."""

    def fuse(dense: Side, sparse: Side, idf_sum: float) -> Side:
        if len(sparse) > 1 and sparse[0][1] > 0:
            margin = (sparse[0][1] - sparse[min(9, len(sparse) - 1)][1]) / sparse[0][1]
        else:
            margin = 0.0
        alpha = alpha_low if margin >= gap else alpha_high
        return convex(alpha)(dense, sparse, idf_sum)

    return fuse


def feedback_run(sides: Sides, depth: int, beta: float, alpha: float) -> dict[str, Side]:
    """Dense pseudo-relevance feedback (Rocchio), then min-max fusion with BM25 again.

    The first fused ranking's top ``depth`` passages pull the query vector towards
    them (``q + beta * mean``); the dense side is searched again with it. A second
    index query, no second embedding.
    """
    first_best: dict[str, int] = {}
    for row, owner in enumerate(sides.owners):
        first_best.setdefault(owner, row)
    out: dict[str, Side] = {}
    for query_id, dense in sides.dense.items():
        sparse = sides.sparse.get(query_id, [])
        first = convex(alpha)(dense, sparse, 0.0)[:depth]
        rows = [first_best[pid] for pid, _ in first]
        moved = sides.query_vectors[query_id] + beta * sides.vectors[rows].mean(axis=0)
        moved = moved / np.linalg.norm(moved)
        again = _by_passage(sides.vectors @ moved, sides.owners)
        out[query_id] = convex(alpha)(again, sparse, 0.0)
    return out


def expansion_run(
    sides: Sides,
    terms: int,
    weight: float,
    depth: int = 3,
    *,
    max_query_terms: int | None = None,
    by_idf: bool = True,
    local_idf: int | None = None,
) -> dict[str, Side]:
    """Dense feedback as shipped, plus lexical feedback (RM3-like) on the BM25 side.

    The best ``depth`` passages of the shipped ranking give ``terms`` expansion terms
    (their BM25 weight, times IDF when ``by_idf``, summed), added to the query at up
    to ``weight``; only for queries of at most ``max_query_terms`` terms, when given.
    """
    shipped = feedback_run(sides, depth, 1.0, 0.5)
    first_row: dict[str, int] = {}
    for row, owner in enumerate(sides.owners):
        first_row.setdefault(owner, row)
    lexicon = sides.lexicon
    out: dict[str, Side] = {}
    for query_id, ranked in shipped.items():
        asked = set(sides.query_terms[query_id])
        if max_query_terms is not None and len(asked) > max_query_terms:
            out[query_id] = ranked
            continue
        local_df: dict[int, int] = {}
        if local_idf:
            for pid, _ in ranked[:local_idf]:
                for index in lexicon.documents[first_row[pid]].indices:
                    local_df[index] = local_df.get(index, 0) + 1
        pool = min(local_idf or 0, len(ranked))
        gathered: dict[int, float] = {}
        for pid, _ in ranked[:depth]:
            document = lexicon.documents[first_row[pid]]
            for index, value in zip(document.indices, document.values, strict=True):
                if local_idf:
                    idf = math.log(1.0 + pool / local_df.get(index, 1))
                else:
                    idf = lexicon.idf[index] if by_idf else 1.0
                gathered[index] = gathered.get(index, 0.0) + value * idf
        chosen = sorted(((w, i) for i, w in gathered.items() if i not in asked), reverse=True)
        chosen = chosen[:terms]
        top = chosen[0][0] if chosen else 1.0
        query = dict.fromkeys(asked, 1.0) | {i: weight * w / top for w, i in chosen}
        scores = lexicon.scores(query)
        sparse = [(p, s) for p, s in _by_passage(scores, sides.owners) if s > 0]
        rows = [
            first_row[p]
            for p, _ in convex(0.5)(sides.dense[query_id], sides.sparse.get(query_id, []), 0.0)[
                :depth
            ]
        ]
        moved = sides.query_vectors[query_id] + sides.vectors[rows].mean(axis=0)
        dense = _by_passage(sides.vectors @ (moved / np.linalg.norm(moved)), sides.owners)
        out[query_id] = convex(0.5)(dense, sparse, 0.0)
    return out


def evaluate(run: Mapping[str, Side], qrels: metrics.Qrels) -> tuple[float, float]:
    as_run = {q: dict(side) for q, side in run.items()}
    return metrics.ndcg(as_run, qrels, 10), metrics.recall(as_run, qrels, 100)


@dataclass(frozen=True)
class Indexing:
    """How chunks become the two sides' texts: as shipped, or one of the old ways."""

    dense_with_section: bool = False
    file_name_titles: bool = False  # before the fix: a file name as BM25 title text
    avgdl: float | None = None  # None: the encoder's default; 0: the corpus's mean


INDEXINGS: dict[str, Indexing] = {
    "shipped": Indexing(),
    "file-name-titles": Indexing(file_name_titles=True),
    "corpus-avgdl": Indexing(avgdl=0.0),
    "sections-embedded": Indexing(dense_with_section=True),
}


def build_sides(
    data: BeirSet, cache: Path, embedder: SentenceTransformerEmbedder, indexing: Indexing
) -> Sides:
    key = hashlib.sha1(str(sorted(data.corpus)).encode()).hexdigest()[:10]
    chunked = chunk_corpus(data, cache, embedder)
    dense_texts = [
        " ".join(filter(None, (sec, txt))) if indexing.dense_with_section else txt
        for sec, txt in zip(chunked.section, chunked.text, strict=True)
    ]
    name = f"{key}-{'sec' if indexing.dense_with_section else 'txt'}.npy"
    vectors = embed(dense_texts, embedder, cache / name)
    queries = metrics.judged_queries(data.qrels)
    qvec = np.asarray(embedder.embed([data.queries[q] for q in queries]), dtype=np.float32)
    titles = chunked.title if indexing.file_name_titles else chunked.real_title
    sparse_texts = [
        " ".join(filter(None, (t, sec, txt)))
        for t, sec, txt in zip(titles, chunked.section, chunked.text, strict=True)
    ]
    encoder = BM25SparseEncoder()
    if indexing.avgdl is not None:
        mean = _mean_length(sparse_texts)
        encoder = BM25SparseEncoder(avgdl=indexing.avgdl or mean)
        print(f"{len(sparse_texts)} chunks, mean {mean:.1f} terms, avgdl {encoder.avgdl:.1f}")
    idf_sum: dict[str, float] = {}
    lexicon = Lexicon(sparse_texts, encoder)
    query_terms = {q: encoder.encode_query(data.queries[q]).indices for q in queries}
    return Sides(
        dense=dense_side(vectors, chunked.passage, qvec, queries),
        sparse=sparse_side(lexicon, chunked.passage, query_terms, idf_sum),
        idf_sum=idf_sum,
        vectors=vectors,
        owners=list(chunked.passage),
        query_vectors={q: qvec[i] for i, q in enumerate(queries)},
        lexicon=lexicon,
        query_terms=query_terms,
    )


def _mean_length(texts: Sequence[str]) -> float:
    tokenizer = BM25SparseEncoder()
    return sum(len(tokenizer.tokenize(t)) for t in texts) / max(len(texts), 1)


#: (depth, weight, dense weight of the fusion) of each feedback variant.
FEEDBACK: tuple[tuple[int, float, float], ...] = (
    (3, 1.0, 0.5),
    (3, 1.0, 0.6),
    (2, 1.0, 0.5),
    (5, 1.0, 0.5),
    (10, 1.0, 0.5),
    (3, 1.5, 0.5),
    (3, 2.0, 0.5),
    (3, 1.0, 0.4),
)


#: Lexical feedback variants: the first is ragline's opt-in setting (retrieval.feedback).
EXPANSIONS: dict[str, dict[str, object]] = {
    "opt-in: + BM25 expansion, 10 terms w=0.5, queries <= 6 terms": {
        "terms": 10,
        "weight": 0.5,
        "max_query_terms": 6,
        "by_idf": False,
    },
    "+ expansion 10 terms w=0.5, queries <= 6 terms, by df in the top 10": {
        "terms": 10,
        "weight": 0.5,
        "max_query_terms": 6,
        "local_idf": 10,
    },
    "+ expansion 10 terms w=0.5, queries <= 6 terms, by df in the top 20": {
        "terms": 10,
        "weight": 0.5,
        "max_query_terms": 6,
        "local_idf": 20,
    },
    "+ expansion 20 terms w=0.3, queries <= 6 terms, by df in the top 10": {
        "terms": 20,
        "weight": 0.3,
        "max_query_terms": 6,
        "local_idf": 10,
    },
    "+ expansion 20 terms w=0.3, queries <= 6 terms, by df in the top 20": {
        "terms": 20,
        "weight": 0.3,
        "max_query_terms": 6,
        "local_idf": 20,
    },
    "+ expansion 10 terms w=0.3, all queries, by IDF": {"terms": 10, "weight": 0.3},
    "+ expansion 10 terms w=0.5, all queries, by IDF": {"terms": 10, "weight": 0.5},
    "+ expansion 20 terms w=0.3, all queries, by IDF": {"terms": 20, "weight": 0.3},
    "+ expansion 20 terms w=0.3, queries <= 6 terms, by IDF": {
        "terms": 20,
        "weight": 0.3,
        "max_query_terms": 6,
    },
    "+ expansion 10 terms w=0.5, queries <= 4 terms": {
        "terms": 10,
        "weight": 0.5,
        "max_query_terms": 4,
        "by_idf": False,
    },
    "+ expansion 20 terms w=0.3, queries <= 6 terms": {
        "terms": 20,
        "weight": 0.3,
        "max_query_terms": 6,
        "by_idf": False,
    },
}


def fusions() -> dict[str, Fusion]:
    found: dict[str, Fusion] = {"dense": lambda d, s, q: d, "bm25": lambda d, s, q: s}
    found |= {f"rrf k={k}": rrf(k) for k in (10, 60)}
    found |= {f"minmax a={a}": convex(a) for a in (0.3, 0.5, 0.7)}
    found |= {f"zscore a={a}": convex(a, _zscore) for a in (0.3, 0.5, 0.7)}
    found |= {f"scaled a={a}": scaled(a) for a in (0.3, 0.4, 0.5, 0.6, 0.7)}
    found |= {
        f"confident {lo}/{hi} gap {g}": confident(lo, hi, g)
        for lo, hi in ((0.5, 0.8), (0.4, 0.7))
        for g in (0.3, 0.5)
    }
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "fusion-cache")
    parser.add_argument("--indexing", choices=sorted(INDEXINGS), default="shipped")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    embedder = SentenceTransformerEmbedder()
    data = {path.name: load_beir(path) for path in args.sets}
    indexing = INDEXINGS[args.indexing]
    sides = {n: build_sides(d, args.cache, embedder, indexing) for n, d in data.items()}
    print(f"\n## indexing: {args.indexing}\n")
    print("| fusion | " + " | ".join(f"{n} nDCG@10 | {n} R@100" for n in data) + " |")
    print("|---|" + "---:|---:|" * len(data))
    for name, fuse in fusions().items():
        cells = []
        for set_name, d in data.items():
            s = sides[set_name]
            run = {q: fuse(s.dense[q], s.sparse.get(q, []), s.idf_sum.get(q, 0.0)) for q in s.dense}
            cells += [f"{value:.3f}" for value in evaluate(run, d.qrels)]
        print(f"| {name} | " + " | ".join(cells) + " |")
    for depth, beta, alpha in FEEDBACK:
        cells = []
        for set_name, d in data.items():
            run = feedback_run(sides[set_name], depth, beta, alpha)
            cells += [f"{value:.3f}" for value in evaluate(run, d.qrels)]
        print(f"| feedback top{depth} b={beta} a={alpha} | " + " | ".join(cells) + " |")
    for label, options in EXPANSIONS.items():
        cells = []
        for set_name, d in data.items():
            run = expansion_run(sides[set_name], **options)  # type: ignore[arg-type]
            cells += [f"{v:.3f}" for v in evaluate(run, d.qrels)]
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
