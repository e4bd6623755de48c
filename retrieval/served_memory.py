"""The retrieval gate's memory: what the registry last said, for when it cannot say.

Every ``/ask`` asks the registry which version of each hit's document is served, and
to whom (``HybridRetriever``'s gate). With the database down that question fails, and
so would every answer, although the index could serve them. :class:`ServedMemory`
sits in front of the registry's ``served``: while the registry answers, its answers
are passed through unchanged (fresh, never from memory) and remembered per document;
only when it raises :class:`DependencyUnavailableError` are remembered answers used,
each for at most ``ttl_s`` after the registry last gave it.

Why a stale answer cannot widen access (deny by default still holds):

- The index filter is built from the caller's roles and matched against each chunk's
  payload roles, before the gate. A narrowing of a document's roles is pushed to the
  payload synchronously by the request that narrows it (``ingest.pipeline``:
  ``apply_narrowed_roles``, and ``commit`` for a version built under roles narrowed
  meanwhile), so a remembered wider role set never lets a chunk through that the
  payload now excludes: the gate can only remove hits, never add them.
- A deletion removes the document's chunks from the index in the same request, and a
  new version's commit removes the old version's chunks, so a remembered version
  matches only chunks that are still there and were served a moment ago; at worst the
  new version's hits are dropped (a version mismatch) until the registry is back.
- A document the memory does not know (never seen, or seen longer than ``ttl_s`` ago)
  is not served: its hits are dropped. When none of the hits' documents is known, the
  registry's error is raised again (503): an answer built on nothing would claim the
  documents do not say what they may well say.
- While the database is down nothing can change a document's roles or serve a new
  version anyway: those are commits to the database that is down. The memory bridges
  the outage; ``ttl_s`` bounds what it bridges, and the one case the payload does not
  cover (a narrowing whose index update failed, followed by an outage) is bounded by it.

The memory is bounded (``max_documents``, least recently answered dropped first) and
per process: each API replica remembers what it served.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from kernel.errors import DependencyUnavailableError

log = logging.getLogger(__name__)

DEFAULT_TTL_S = 120.0
DEFAULT_MAX_DOCUMENTS = 100_000


class Served(Protocol):
    """What the gate needs to know of a served document (the registry's answer)."""

    @property
    def version(self) -> int: ...

    @property
    def roles(self) -> frozenset[str]: ...


ServedDocuments = Callable[[Iterable[str]], Mapping[str, Served]]


@dataclass(frozen=True, slots=True)
class _Entry:
    served: Served | None  # None: the registry said it is not served
    seen_at: float


class ServedMemory:
    """A ``ServedDocuments`` that falls back on remembered answers while the registry is down.

    ``clock`` is monotonic seconds (``time.monotonic``); tests pass their own.
    """

    def __init__(
        self,
        served: ServedDocuments,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        max_documents: int = DEFAULT_MAX_DOCUMENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_s < 0:
            raise ValueError("ttl_s must be >= 0 (0 turns the memory off)")
        if max_documents < 1:
            raise ValueError("max_documents must be >= 1")
        self._served = served
        self._ttl_s = ttl_s
        self._max = max_documents
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._fallbacks = 0

    @property
    def fallbacks(self) -> int:
        """How many gate questions were answered from memory (the registry being down)."""
        return self._fallbacks

    def __call__(self, document_ids: Iterable[str]) -> Mapping[str, Served]:
        ids = list(dict.fromkeys(document_ids))
        try:
            fresh = self._served(ids)
        except DependencyUnavailableError:
            remembered = self._recall(ids)
            if remembered is None:
                raise
            return remembered
        self._remember(ids, fresh)
        return fresh

    def usable(self) -> bool:
        """True while some served document is remembered recently enough to answer from."""
        now = self._clock()
        with self._lock:
            # Entries are in the order they were last seen: newest last.
            for entry in reversed(self._entries.values()):
                if now - entry.seen_at > self._ttl_s:
                    return False
                if entry.served is not None:
                    return True
        return False

    def _remember(self, ids: list[str], fresh: Mapping[str, Served]) -> None:
        if self._ttl_s == 0:
            return
        now = self._clock()
        with self._lock:
            for doc_id in ids:
                self._entries[doc_id] = _Entry(fresh.get(doc_id), now)
                self._entries.move_to_end(doc_id)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def _recall(self, ids: list[str]) -> dict[str, Served] | None:
        """The remembered served documents among ``ids``; None when none of ids is known."""
        now = self._clock()
        known = 0
        answer: dict[str, Served] = {}
        with self._lock:
            for doc_id in ids:
                entry = self._entries.get(doc_id)
                if entry is None or now - entry.seen_at > self._ttl_s:
                    continue  # unknown or too old: not served (deny by default)
                known += 1
                if entry.served is not None:
                    answer[doc_id] = entry.served
            if ids and not known:
                return None
            self._fallbacks += 1
        log.warning(
            "registry unavailable: the retrieval gate answered from memory (%d of %d documents)",
            known,
            len(ids),
        )
        return answer
