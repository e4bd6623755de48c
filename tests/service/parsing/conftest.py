"""One real IsolatedParser for the whole session: its child loads unstructured once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from chunking import minilm_tokens

from chunkers.token_counting import TransformersTokenCounter
from ingest.parsing import IsolatedParser

MAX_BYTES = 20_000_000


@pytest.fixture(scope="session")
def parser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IsolatedParser]:
    isolated = IsolatedParser(
        timeout_s=120,
        memory_mb=3072,
        max_bytes=MAX_BYTES,
        scratch_dir=tmp_path_factory.mktemp("parser") / "scratch",
    )
    isolated.start()
    yield isolated
    isolated.close()


@pytest.fixture(scope="session")
def tokens() -> TransformersTokenCounter:
    counter: TransformersTokenCounter = minilm_tokens()
    return counter
