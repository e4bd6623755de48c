"""The real embedder, remembering query vectors, for tests that ask the same few
questions hundreds of times: embedding them again would be most of such a test's time
on 2 cores. Passages are embedded as they come."""

from __future__ import annotations

from collections.abc import Sequence

from chunkers.base import TokenCounter
from retrieval.encoders import DenseEncoder


class RememberedQuestions:
    """A ``DenseEncoder`` over ``inner`` whose ``embed_one`` answers each text once."""

    def __init__(self, inner: DenseEncoder) -> None:
        self._inner = inner
        self.dim = inner.dim
        self._vectors: dict[str, list[float]] = {}

    @property
    def tokens(self) -> TokenCounter:
        return self._inner.tokens

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return self._inner.embed(texts)

    def embed_one(self, text: str) -> list[float]:
        if text not in self._vectors:
            self._vectors[text] = self._inner.embed_one(text)
        return self._vectors[text]
