"""Encoder ports: dense (semantic) and sparse (lexical, BM25) text encoders."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from chunkers.base import TokenCounter
from retrieval.index.base import SparseVector


class DenseEncoder(Protocol):
    """Unit-length vectors of ``dim`` floats; ``tokens`` counts the model's word pieces."""

    dim: int

    @property
    def tokens(self) -> TokenCounter: ...

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_one(self, text: str) -> list[float]: ...


class SparseEncoder(Protocol):
    """Term-id -> weight vectors; the index applies IDF, so weights are TF-only."""

    def encode_documents(self, texts: Sequence[str]) -> list[SparseVector]: ...

    def encode_query(self, text: str) -> SparseVector: ...
