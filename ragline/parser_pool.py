"""Give a runtime one parser process per worker thread.

The runtime opens a single :class:`~ingest.parsing.isolated.IsolatedParser`, which
serves one document at a time; a process that runs several worker threads swaps in
a :class:`~ingest.parsing.pool.ParserPool` of the same limits, sized to its threads.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from ingest.parsing.pool import ParserPool

if TYPE_CHECKING:
    from ragline.runtime import Runtime


def use_parser_pool(runtime: Runtime, size: int) -> ParserPool:
    from ragline.runtime import open_parser

    pool = ParserPool.of(size, lambda: open_parser(runtime.settings))
    previous = runtime.ingestion.parser
    runtime.ingestion = dataclasses.replace(runtime.ingestion, parser=pool)
    previous.close()  # started lazily, so it never had a child
    return pool
