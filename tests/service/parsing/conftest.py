"""One real IsolatedParser for the whole session: its child loads unstructured once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ingest.parsing import IsolatedParser

MAX_BYTES = 20_000_000


@pytest.fixture(scope="session")
def parser() -> Iterator[IsolatedParser]:
    isolated = IsolatedParser(timeout_s=120, memory_mb=3072, max_bytes=MAX_BYTES)
    isolated.start()
    yield isolated
    isolated.close()
