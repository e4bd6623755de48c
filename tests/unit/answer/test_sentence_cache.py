from collections.abc import Sequence

import pytest

from answer.sentence_cache import SentenceVectorCache
from chunkers.base import TokenCounter

pytestmark = pytest.mark.unit


class CountingEncoderDouble:
    """A stand-in for the embedding model that records what it was asked to embed."""

    dim = 2

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    @property
    def tokens(self) -> TokenCounter:
        raise NotImplementedError

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        return [[float(len(t)), 1.0] for t in texts]

    def embed_one(self, text: str) -> list[float]:
        return self.embed([text])[0]


def test_cached_chunks_are_not_embedded_again() -> None:
    encoder = CountingEncoderDouble()
    cache = SentenceVectorCache(encoder)
    first = cache.vectors([("a", ["one", "three"]), ("b", ["xx"])])
    assert encoder.calls == [["one", "three", "xx"]]
    assert first["a"].tolist() == [[3.0, 1.0], [5.0, 1.0]]
    again = cache.vectors([("b", ["xx"]), ("c", ["four"])])
    assert encoder.calls[-1] == ["four"]
    assert again["b"].tolist() == [[2.0, 1.0]]
    assert (cache.hits, cache.misses) == (1, 3)


def test_least_recently_used_chunks_are_evicted() -> None:
    encoder = CountingEncoderDouble()
    cache = SentenceVectorCache(encoder, max_chunks=2)
    cache.vectors([("a", ["s"]), ("b", ["s"])])
    cache.vectors([("a", ["s"])])  # a is now the most recent
    cache.vectors([("c", ["s"])])  # evicts b
    encoder.calls.clear()
    cache.vectors([("a", ["s"]), ("b", ["s"])])
    assert encoder.calls == [["s"]]  # only b was embedded again
