"""Sentence vectors per chunk, kept across questions.

Embedding the retrieved chunks' sentences is most of an extractive answer's cost
(about 150 ms for five chunks on two cores), and popular chunks come back question
after question. Chunk ids name one version of one chunk (they derive from document,
version and position), so a cached entry can never go stale; an LRU bound keeps
memory flat (about 1.5 kB per sentence as float32).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from retrieval.encoders import DenseEncoder

Vectors = NDArray[np.float32]


class SentenceVectorCache:
    def __init__(self, dense: DenseEncoder, *, max_chunks: int = 2048) -> None:
        if max_chunks < 0:
            raise ValueError("max_chunks must be >= 0")
        self._dense = dense
        self._max_chunks = max_chunks
        self._entries: OrderedDict[str, Vectors] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def vectors(self, chunks: Sequence[tuple[str, Sequence[str]]]) -> dict[str, Vectors]:
        """``{chunk_id: one row per sentence}``, embedding only what is not cached."""
        found: dict[str, Vectors] = {}
        missing: list[tuple[str, Sequence[str]]] = []
        with self._lock:
            for chunk_id, sentences in chunks:
                cached = self._entries.get(chunk_id)
                if cached is not None and len(cached) == len(sentences):
                    self._entries.move_to_end(chunk_id)
                    found[chunk_id] = cached
                    self.hits += 1
                else:
                    missing.append((chunk_id, sentences))
                    self.misses += 1
        flat = [s for _, sentences in missing for s in sentences]
        if flat:
            embedded = np.asarray(self._dense.embed(flat), dtype=np.float32)
            start = 0
            with self._lock:
                for chunk_id, sentences in missing:
                    rows = embedded[start : start + len(sentences)]
                    start += len(sentences)
                    found[chunk_id] = rows
                    if self._max_chunks:
                        self._entries[chunk_id] = rows
                        self._entries.move_to_end(chunk_id)
                while len(self._entries) > self._max_chunks:
                    self._entries.popitem(last=False)
        return found
