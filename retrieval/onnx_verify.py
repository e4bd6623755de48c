"""The fixed text sample an ONNX export is checked on, and the measurements made on it.

The sample is built deterministically from real text (the repository's sample
documents and golden retrieval set): short query-like sentences and ~250-token
passages made of sentences drawn with a fixed seed, so every ``prepare`` on the same
files checks the same texts. Queries and passages both matter: int8 error shows most
on long inputs, and a search embeds one short query at a time.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kernel.errors import ConfigurationError

QUERIES = 120
PASSAGES = 120
# Words per passage: ~250 word pieces for English prose with this tokenizer.
PASSAGE_WORDS = 185
_SEED = 18
_TEXT_SUFFIXES = {".md", ".txt", ".html", ".htm"}
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n\s*\n")
_TAG = re.compile(r"<[^>]+>")


def _documents(sources: Sequence[Path]) -> list[str]:
    """Text of every plain-text file and every ``text`` field of JSONL files under sources."""
    texts: list[str] = []
    for source in sources:
        files = sorted(source.rglob("*")) if source.is_dir() else [source]
        for file in files:
            if file.suffix == ".jsonl":
                for line in file.read_text(encoding="utf-8").splitlines():
                    if line.strip():
                        record = json.loads(line)
                        texts.append(" ".join(str(record.get(k, "")) for k in ("title", "text")))
            elif file.suffix in _TEXT_SUFFIXES:
                texts.append(_TAG.sub(" ", file.read_text(encoding="utf-8", errors="replace")))
    return texts


def verification_texts(sources: Sequence[Path]) -> list[str]:
    """QUERIES short texts then PASSAGES long ones, the same for the same source files.

    Raises ConfigurationError when the sources hold too little text (under 30 sentences).
    """
    sentences = sorted(
        {
            " ".join(part.split())
            for doc in _documents(sources)
            for part in _SENTENCE_END.split(doc)
            if len(part.split()) >= 3
        }
    )
    if len(sentences) < 30:
        raise ConfigurationError(
            f"too little text to verify an ONNX export: {len(sentences)} sentences in "
            f"{', '.join(map(str, sources))}"
        )
    rng = random.Random(_SEED)  # noqa: S311  (a fixed sample, not a secret)
    queries = []
    for _ in range(QUERIES):
        sentence = rng.choice(sentences).split()
        length = rng.randint(3, 12)
        start = rng.randint(0, max(0, len(sentence) - length))
        queries.append(" ".join(sentence[start : start + length]))
    passages = []
    for _ in range(PASSAGES):
        words: list[str] = []
        while len(words) < PASSAGE_WORDS:
            words.extend(rng.choice(sentences).split())
        passages.append(" ".join(words[: rng.randint(PASSAGE_WORDS - 40, PASSAGE_WORDS)]))
    return queries + passages


Embed = Callable[[Sequence[str]], list[list[float]]]


@dataclass(frozen=True)
class Timed:
    """Vectors of one embedder on a text sample, and how fast it made them."""

    vectors: np.ndarray
    texts_per_s: float


def timed_embed(embed: Embed, texts: Sequence[str], *, warm_up: int = 8) -> Timed:
    """Embed ``texts`` once after a short warm-up (first calls pay for allocation)."""
    embed(texts[:warm_up])
    start = time.perf_counter()
    vectors = np.asarray(embed(texts), dtype=np.float32)
    elapsed = time.perf_counter() - start
    return Timed(vectors, len(texts) / elapsed if elapsed > 0 else float("inf"))


def cosines(vectors: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Row-wise cosine of two equally shaped matrices of vectors."""
    norms = np.linalg.norm(vectors, axis=1) * np.linalg.norm(reference, axis=1)
    return np.asarray((vectors * reference).sum(axis=1) / np.maximum(norms, 1e-12))
