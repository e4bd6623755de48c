"""A question's vector, computed once per question rather than once per stage.

An ``/ask`` embeds the question twice with the same model: the retriever for the
dense search, then the extractive answer to rank sentences against it. On two CPU
cores a query embedding is several milliseconds with torch, a large share of a
goal of tens of milliseconds per answer. Serving-side components share one
:class:`QueryVectorCache`, so the second stage (and a repeated popular question)
gets the first one's vector. Batch calls (document chunks, sentences) pass
through untouched: they are not questions and would only evict them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from chunkers.base import TokenCounter
from retrieval.encoders import DenseEncoder


class QueryVectorCache:
    """A :class:`DenseEncoder` whose ``embed_one`` remembers the last ``size`` texts."""

    def __init__(self, encoder: DenseEncoder, *, size: int = 1024) -> None:
        if size < 1:
            raise ValueError("size must be >= 1")
        self._encoder = encoder
        self._size = size
        self._vectors: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()
        self.dim = encoder.dim
        self.hits = 0
        self.misses = 0

    @property
    def tokens(self) -> TokenCounter:
        return self._encoder.tokens

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return self._encoder.embed(texts)

    def embed_one(self, text: str) -> list[float]:
        with self._lock:
            found = self._vectors.get(text)
            if found is not None:
                self._vectors.move_to_end(text)
                self.hits += 1
                return list(found)
        vector = self._encoder.embed_one(text)
        with self._lock:
            self.misses += 1
            self._vectors[text] = list(vector)
            while len(self._vectors) > self._size:
                self._vectors.popitem(last=False)
        return list(vector)
