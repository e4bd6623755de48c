"""Parser children forked from one warm server, not each spawned cold.

A parser child needs unstructured, its partitioners and the PDF stack (torch comes
with it) loaded before it can take a document: about 10 s of CPU on a quiet
machine with two cores, 30 s on a busy one. Spawned (``spawn``), every child paid
it: each of a pool's children, and every replacement after a child was killed for
a timeout or its memory, while documents queued behind it.

Python's ``forkserver`` start method pays it once per process: a clean server
process (started with ``spawn``'s fresh interpreter, never forked from a service
that runs torch thread pools) imports :data:`PRELOAD_MODULES`, then forks each
child from itself, with those modules already in memory. A child is ready in the
time its warm-up takes on top (spaCy's model, about a second).

The server is one per process, started on first use (and again if it died) and
shared by every pool of the process: it is ``multiprocessing``'s own singleton.
Its environment is the caller's at that moment plus ``unstructured_runtime.ENVIRONMENT``: those
variables must be set before ``unstructured`` and ``huggingface_hub`` are
imported (they are read at import), and setting them in the caller's own
environment would turn the caller's model downloads off too, so they are set only
while the server starts, under a lock.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from multiprocessing import forkserver
from multiprocessing.context import ForkServerContext
from typing import Final

from . import unstructured_runtime

#: Imported by the fork server before it forks any child (an import that fails is
#: skipped). ``__main__`` is the caller's main script, which every child would
#: otherwise import again (as a spawned one does).
PRELOAD_MODULES: Final[tuple[str, ...]] = (
    "__main__",
    "ingest.parsing.child",
    "ingest.parsing.unstructured_parser",
    *unstructured_runtime.PARTITION_MODULES,
    "unstructured.nlp.tokenize",
    # What loading spaCy's model imports: spaCy itself, the model package, and the
    # factory presidio registers with spaCy (it brings transformers and sympy),
    # 12 of the 13 s a child's warm-up took on a busy machine; the load is then ~1.5 s.
    "spacy",
    unstructured_runtime.BUNDLED_SPACY_MODEL,
    "presidio_analyzer.nlp_engine.huggingface_token_pipe",
)

_lock = threading.Lock()


def parser_context() -> ForkServerContext:
    """The ``forkserver`` context with its server running and warm."""
    context = multiprocessing.get_context("forkserver")
    with _lock:
        context.set_forkserver_preload(list(PRELOAD_MODULES))
        with _environment(unstructured_runtime.ENVIRONMENT):
            forkserver.ensure_running()
    return context


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` with ``values`` set, for the block only."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
