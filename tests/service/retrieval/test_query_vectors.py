"""One embedding per question: retrieval and the extractive answer share its vector."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from ingest.folder import ingest_paths, list_files
from ragline.runtime import open_runtime
from retrieval.access import Principal
from retrieval.query_vectors import QueryVectorCache
from tests.conftest import make_settings

pytestmark = pytest.mark.service


class CountingEncoder:
    """The real encoder; counts which texts reach ``embed_one`` (a spy, not a double)."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.dim = real.dim
        self.questions: Counter[str] = Counter()
        self.batches = 0

    @property
    def tokens(self) -> Any:
        return self._real.tokens

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.batches += 1
        return list(self._real.embed(texts))

    def embed_one(self, text: str) -> list[float]:
        self.questions[text] += 1
        return list(self._real.embed_one(text))


def test_a_repeated_question_is_embedded_once_and_the_oldest_is_forgotten(embedder: Any) -> None:
    spy = CountingEncoder(embedder)
    cache = QueryVectorCache(spy, size=2)
    first = cache.embed_one("when does the cafeteria open")
    assert cache.embed_one("when does the cafeteria open") == first
    assert first == embedder.embed_one("when does the cafeteria open")
    cache.embed_one("who signs the visitor book")
    cache.embed_one("where is the archive")  # evicts the cafeteria question
    cache.embed_one("when does the cafeteria open")
    assert spy.questions == Counter(
        {
            "when does the cafeteria open": 2,
            "who signs the visitor book": 1,
            "where is the archive": 1,
        }
    )
    assert (cache.hits, cache.misses) == (1, 4)
    assert len(cache.embed(["a", "b"])) == 2 and spy.batches == 1  # batches pass through


def test_an_extractive_ask_embeds_its_question_once(embedder: Any, tmp_path: Path) -> None:
    spy = CountingEncoder(embedder)
    runtime = open_runtime(make_settings(tmp_path / "data"), dense=spy)
    try:
        folder = tmp_path / "docs"
        folder.mkdir()
        (folder / "cafeteria.txt").write_text(
            "The cafeteria opens at 08:00 and serves breakfast until 10:30 on weekdays."
        )
        ingest_paths(
            runtime.ingestion,
            folder,
            list_files(folder),
            bucket="docs",
            roles=["staff"],
            doc_type=None,
            on_file=lambda _: None,
        )
        question = "When does the cafeteria open?"
        answer = runtime.answers.ask(Principal.from_key("k", ["staff"]), question)
        assert answer.found and "08:00" in answer.text
        embedded = [text for text in spy.questions if "cafeteria" in text.lower()]
        assert embedded and all(spy.questions[text] == 1 for text in embedded)
    finally:
        runtime.close()
