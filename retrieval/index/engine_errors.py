"""Turn whatever an engine raises into ``DependencyUnavailableError``.

qdrant-edge raises plain ``Exception``; qdrant-client raises ``UnexpectedResponse``,
``httpx``/gRPC errors, ``RuntimeError`` and ``ValueError`` (local mode). Callers of the
index port handle one type. The engine's own text can name files, hosts or internals,
so it goes to the log (with the traceback, chained as ``__cause__``) and the message
says only what failed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from kernel.errors import DependencyUnavailableError, RaglineError

logger = logging.getLogger("retrieval.index")


@contextmanager
def engine_errors(engine: str, action: str) -> Iterator[None]:
    """Re-raise any non-ragline error inside the block as ``DependencyUnavailableError``.

    ``action`` completes "could not ..." ("search", "write chunks") and ends up in the
    user-facing message, so it must not contain data from the request.
    """
    try:
        yield
    except RaglineError:
        raise
    except Exception as exc:
        logger.warning("%s: could not %s", engine, action, exc_info=True)
        raise DependencyUnavailableError(
            f"The search index is unavailable: {engine} could not {action}."
        ) from exc
