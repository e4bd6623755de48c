"""``EdgeIndex``: the chunk index inside the ragline process, on qdrant-edge.

qdrant-edge is Qdrant's engine as a library (HNSW, sparse vectors with the IDF modifier,
payload indexes, a write-ahead log), so the embedded mode needs no server. One process
owns a shard directory: a second open, from any process, fails on the WAL lock and is
reported as "in use by another process". Within the process one ``EdgeIndex`` is shared
by all threads: searches run concurrently; writes, opening and closing take a lock.

The shard is opened (created if the directory holds none) by ``ensure_ready`` or by the
first operation that needs it. Upserts are durable once ``upsert`` returns (the WAL),
without ``flush``.

Generations (``GenerationalIndex``): each is a shard folder under the index path, and a
pointer file names the live one (``edge_layout``). This object holds the live shard, the
one being built (every write goes to both, under the one write lock, so a write is
never half-mirrored) and the retired ones not yet dropped. A search *pins* the shard it
reads; ``switch_to`` swaps the live reference under the state lock, and
``drop_generation`` waits for the pins on a shard to go before closing it, so a search
running across a switch finishes on the generation it started on.

Optimisation (``optimize``): qdrant-edge writes every point into a plain, appendable
segment and builds no HNSW graph on its own; a search there scores every point under
the filter (at 100k chunks, 20 ms of a 2-core machine's time per dense side). Its
optimisers (HNSW graph, segment merges, vacuum of deleted points) run only when
``EdgeShard.optimize`` is called, and only on segments past the indexing threshold
(between 6,000 and 9,000 chunks of 384 dimensions here), so below it a call costs
microseconds. qdrant-edge 0.9 holds the GIL for the whole call: nothing else in the
process runs meanwhile (no search waits on a half-built graph, but none is answered
either), for minutes at 100k chunks on 2 cores. So it runs where no reader waits: when
the index is opened (``ensure_ready``: before a server takes requests; a no-op on an
index already optimised, as the optimised segments stay across restarts) and when a
process that wrote closes it (the end of ``ragline ingest`` or of a re-index in the
CLI), unless it was opened with ``optimize_on_close=False``: a server, which must stop
within its supervisor's grace period, leaves what it ingested to its next start.
Optimisation rewrites segments, never payloads: the role filter reads the same roles
before and after, and writes made before it are kept (``tests/service/retrieval``).

Known difference from qdrant-client's local mode: edge computes IDF from its sparse
index, which (like a Qdrant server) keeps counting deleted points until a segment
optimisation drops them, while local mode counts live points only. BM25 scores, hence
hybrid orders, can differ slightly between the two after deletions; on the same live
data they agree (``tests/contract``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from qdrant_edge import (
    CountRequest,
    Distance,
    EdgeConfig,
    EdgeShard,
    EdgeSparseVectorParams,
    EdgeVectorParams,
    FieldCondition,
    Filter,
    MatchValue,
    Modifier,
    PayloadSchemaType,
    QueryBatchRequest,
    QueryRequest,
    UpdateOperation,
)

from kernel.errors import (
    ConfigurationError,
    ConflictError,
    DependencyUnavailableError,
    NotFoundError,
)
from retrieval.index import edge_layout, edge_requests
from retrieval.index.base import (
    DEFAULT_FUSION,
    INTEGER_INDEXED_FIELDS,
    KEYWORD_INDEXED_FIELDS,
    Fusion,
    Hit,
    IndexedChunk,
    SearchFilter,
    SearchMode,
    Side,
    SideRanking,
    SparseVector,
    StoredVectors,
)
from retrieval.index.engine_errors import engine_errors, logger
from retrieval.index.ranking import SearchPlan, hits_of, plan_search

ENGINE = "qdrant-edge"
DENSE, SPARSE = edge_requests.DENSE, edge_requests.SPARSE


@dataclass(eq=False)
class _Generation:
    """One open shard. ``readers`` counts the searches pinned on it (under the state lock)."""

    number: int
    shard: EdgeShard
    readers: int = 0
    dropped: bool = False
    # Written through this process since it was opened: worth optimising at close.
    written: bool = False


class EdgeIndex:
    """``GenerationalIndex`` over qdrant-edge shards under ``path``, ``dim``-sized dense vectors.

    Raises ``ValueError`` for a non-positive ``dim`` or ``batch_size`` (and, from its
    methods, for malformed chunks or queries); ``ConfigurationError`` when the shard at
    ``path`` was built with another vector size; ``DependencyUnavailableError`` for every
    engine failure, including a shard held by another process or an index already closed.
    """

    def __init__(
        self, path: Path, dim: int, *, batch_size: int = 512, optimize_on_close: bool = True
    ) -> None:
        if dim < 1:
            raise ValueError("dim must be >= 1")
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.path = Path(path)
        self.dim = dim
        self._batch_size = batch_size
        self._optimize_on_close = optimize_on_close
        # Writes, opening, switching, dropping and closing; never held by a search.
        self._write_lock = threading.Lock()
        # Guards the references below and the pins; waited on by a drop.
        self._state = threading.Condition()
        self._live: _Generation | None = None
        self._building: _Generation | None = None
        self._retired: dict[int, _Generation] = {}
        self._closed = False

    # -- ChunkIndex ---------------------------------------------------------------------

    def ensure_ready(self) -> None:
        """Open the live shard, create the payload indexes, optimise what needs it."""
        with self._write_lock:
            live = self._open_live_locked()
            _create_payload_indexes(live.shard)
            # A failure is logged by engine_errors; an unoptimised index still answers.
            with suppress(DependencyUnavailableError):
                _optimize(live, "open")

    def optimize(self) -> bool:
        """Index the live shard's segments past the threshold; True if any changed.

        Blocks this whole process (GIL) until done: call it where no request waits.
        """
        with self._write_lock:
            live = self._open_live_locked()
            return _optimize(live, "request")

    def upsert(self, chunks: Sequence[IndexedChunk]) -> None:
        # Every chunk is validated before any is written.
        points = [edge_requests.point(chunk, self.dim) for chunk in chunks]
        if points:
            self._write(None, edge_requests.upserts(points, self._batch_size), "write chunks")

    def search(
        self,
        *,
        dense: Sequence[float] | None,
        sparse: SparseVector | None,
        flt: SearchFilter,
        limit: int,
        mode: SearchMode = "hybrid",
        prefetch_limit: int = 50,
        fusion: Fusion = DEFAULT_FUSION,
    ) -> list[Hit]:
        plan = self._plan(dense, sparse, flt, limit, mode, prefetch_limit, fusion)
        return self._search(None, plan, flt)

    def rank_sides(
        self,
        *,
        dense: Sequence[float] | None,
        sparse: SparseVector | None,
        flt: SearchFilter,
        limit: int,
        mode: SearchMode = "hybrid",
        prefetch_limit: int = 50,
    ) -> dict[Side, SideRanking]:
        plan = self._plan(dense, sparse, flt, limit, mode, prefetch_limit, DEFAULT_FUSION)
        return self._rank_sides(None, plan, flt)

    def stored_payloads(self, ids: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        return self._stored_payloads(None, ids)

    def stored_vectors(self, ids: Sequence[str]) -> dict[str, StoredVectors]:
        return self._stored_vectors(None, ids)

    def stored_texts(self, ids: Sequence[str]) -> dict[str, str]:
        return self._stored_texts(None, ids)

    def delete_document(self, document_id: str, *, keep_version: int | None = None) -> None:
        op = edge_requests.delete_document_op(document_id, keep_version)
        self._write(None, [op], "delete a document's chunks")

    def delete_version(self, document_id: str, version: int) -> None:
        self._write(
            None,
            [edge_requests.delete_version_op(document_id, version)],
            "delete a version's chunks",
        )

    def set_roles(self, document_id: str, roles: Sequence[str]) -> None:
        self._write(
            None, [edge_requests.set_roles_op(document_id, roles)], "change a document's roles"
        )

    def count(self, *, document_id: str | None = None) -> int:
        return self._count(None, document_id)

    def close(self) -> None:
        """Release every shard and its WAL lock; idempotent; later operations raise.

        Best effort: a failure to optimise, flush or close is logged, not raised, so
        shutting down never fails because the engine already broke (the WAL holds
        acknowledged writes). A live shard this process wrote to is optimised first
        (unless ``optimize_on_close`` is off), so the next process opens it indexed
        (module docstring).
        """
        with self._write_lock:
            live = self._live
            if live is not None and live.written and self._optimize_on_close and not self._closed:
                # A failure is logged by engine_errors; the next open tries again.
                with suppress(DependencyUnavailableError):
                    _optimize(live, "close")
            with self._state:
                self._closed = True
                generations = [self._live, self._building, *self._retired.values()]
                self._live, self._building, self._retired = None, None, {}
            for generation in generations:
                if generation is not None:
                    _close_shard(generation)

    def __enter__(self) -> EdgeIndex:
        self.ensure_ready()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- GenerationalIndex ----------------------------------------------------------------

    def live_generation(self) -> int:
        return self._open_live().number

    def generations(self) -> list[int]:
        live = self._open_live()
        return sorted({live.number, *edge_layout.list_generations(self.path)})

    def create_generation(self) -> EdgeGeneration:
        with self._write_lock:
            live = self._open_live_locked()
            if self._building is not None:
                raise ConflictError(
                    f"generation {self._building.number} of the index is being built already"
                )
            number = max([live.number, *edge_layout.list_generations(self.path)]) + 1
            path = edge_layout.generation_path(self.path, number)
            shard = self._load(path)
            generation = _Generation(number, shard)
            try:
                _create_payload_indexes(shard)
            except BaseException:
                self._discard(generation)
                raise
            with self._state:
                self._building = generation
            return EdgeGeneration(self, generation)

    def switch_to(self, generation: int) -> None:
        with self._write_lock:
            live = self._open_live_locked()
            if generation == live.number:
                return
            target = self._known_locked(generation)
            if target is None:
                if generation not in edge_layout.list_generations(self.path):
                    raise NotFoundError(f"index generation {generation} does not exist")
                target = _Generation(
                    generation, self._load(edge_layout.generation_path(self.path, generation))
                )
                with self._state:  # tracked, so a drop or close releases it if this fails
                    self._retired[generation] = target
            with engine_errors(ENGINE, "make a generation live"):
                target.shard.flush()
            try:
                edge_layout.write_live(self.path, generation)
            except OSError as exc:
                logger.warning("%s: could not write the live pointer", ENGINE, exc_info=True)
                raise DependencyUnavailableError(
                    f"The search index is unavailable: {ENGINE} could not switch generations."
                ) from exc
            with self._state:
                if self._building is target:
                    self._building = None
                self._retired.pop(generation, None)
                self._retired[live.number] = live
                self._live = target

    def drop_generation(self, generation: int) -> None:
        with self._write_lock:
            live = self._open_live_locked()
            if generation == live.number:
                raise ConflictError(f"index generation {generation} is live; switch first")
            known = self._known_locked(generation)
            if known is not None:
                self._discard(known)
            if generation in edge_layout.list_generations(self.path):
                try:
                    edge_layout.remove_generation(self.path, generation)
                except OSError as exc:
                    logger.warning("%s: could not remove a generation", ENGINE, exc_info=True)
                    raise DependencyUnavailableError(
                        f"The search index is unavailable: {ENGINE} could not drop a generation."
                    ) from exc

    # -- shared by the live index and its generations --------------------------------------

    def _write(
        self, generation: _Generation | None, ops: list[UpdateOperation], action: str
    ) -> None:
        """Apply ``ops`` to ``generation``, or to the live one and the one being built."""
        if generation is None:
            self._open_live()
        with self._write_lock:
            if generation is not None:
                with engine_errors(ENGINE, action):
                    self._check_usable(generation)
                    generation.written = True
                    for op in ops:
                        generation.shard.update(op)
                return
            live = self._usable_live()
            with engine_errors(ENGINE, action):
                live.written = True
                for op in ops:
                    live.shard.update(op)
            building = self._building
            if building is None:
                return
            building.written = True
            try:
                for op in ops:
                    building.shard.update(op)
            except Exception:  # noqa: BLE001 - the live write stands; the builder reconciles
                logger.warning(
                    "%s: could not mirror a write to generation %d being built",
                    ENGINE,
                    building.number,
                    exc_info=True,
                )

    def _plan(
        self,
        dense: Sequence[float] | None,
        sparse: SparseVector | None,
        flt: SearchFilter,
        limit: int,
        mode: SearchMode,
        prefetch_limit: int,
        fusion: Fusion,
    ) -> SearchPlan | None:
        return plan_search(
            dense=dense,
            sparse=sparse,
            flt=flt,
            limit=limit,
            mode=mode,
            prefetch_limit=prefetch_limit,
            fusion=fusion,
            dim=self.dim,
        )

    def _search(
        self, generation: _Generation | None, plan: SearchPlan | None, flt: SearchFilter
    ) -> list[Hit]:
        """The plan's side queries, fused, and the payloads: all from one pinned shard."""
        if plan is None:
            return []
        requests = _side_requests(plan, flt)
        with self._reading(generation) as shard, engine_errors(ENGINE, "search"):
            ranked = plan.combine(_side_answers(shard, requests))
            payloads = _payloads(shard, [point_id for point_id, _ in ranked])
        return hits_of(ranked, payloads)

    def _rank_sides(
        self, generation: _Generation | None, plan: SearchPlan | None, flt: SearchFilter
    ) -> dict[Side, SideRanking]:
        if plan is None:
            return {}
        requests = _side_requests(plan, flt)
        with self._reading(generation) as shard, engine_errors(ENGINE, "search"):
            return plan.rank(_side_answers(shard, requests))

    def _stored_payloads(
        self, generation: _Generation | None, ids: Sequence[str]
    ) -> dict[str, Mapping[str, Any]]:
        if not ids:
            return {}
        with self._reading(generation) as shard, engine_errors(ENGINE, "read chunk payloads"):
            return _payloads(shard, ids)

    def _stored_vectors(
        self, generation: _Generation | None, ids: Sequence[str]
    ) -> dict[str, StoredVectors]:
        if not ids:
            return {}
        with self._reading(generation) as shard, engine_errors(ENGINE, "read vectors"):
            records = shard.retrieve(list(ids), with_payload=False, with_vector=True)
        return edge_requests.vectors_of(records)

    def _stored_texts(self, generation: _Generation | None, ids: Sequence[str]) -> dict[str, str]:
        if not ids:
            return {}
        with self._reading(generation) as shard, engine_errors(ENGINE, "read chunk texts"):
            records = shard.retrieve(list(ids), with_payload=True, with_vector=False)
        return edge_requests.texts_of(records)

    def _count(self, generation: _Generation | None, document_id: str | None) -> int:
        flt = None
        if document_id is not None:
            flt = Filter(must=[FieldCondition("document_id", match=MatchValue(document_id))])
        with self._reading(generation) as shard, engine_errors(ENGINE, "count chunks"):
            return shard.count(CountRequest(exact=True, filter=flt))

    @contextmanager
    def _reading(self, generation: _Generation | None) -> Iterator[EdgeShard]:
        """Pin ``generation`` (default: the live one) for one read; a drop waits for it."""
        if generation is None:
            self._open_live()
        with self._state:
            target = generation if generation is not None else self._live
            if self._closed or target is None:
                raise DependencyUnavailableError("The search index is closed.")
            self._check_usable(target)
            target.readers += 1
        try:
            yield target.shard
        finally:
            with self._state:
                target.readers -= 1
                self._state.notify_all()

    def _check_usable(self, generation: _Generation) -> None:
        if self._closed:
            raise DependencyUnavailableError("The search index is closed.")
        if generation.dropped:
            raise DependencyUnavailableError("This generation of the search index was dropped.")

    def _usable_live(self) -> _Generation:
        live = self._live
        if self._closed or live is None:
            raise DependencyUnavailableError("The search index is closed.")
        return live

    def _open_live(self) -> _Generation:
        live = self._live
        if live is not None and not self._closed:
            return live
        with self._write_lock:
            return self._open_live_locked()

    def _open_live_locked(self) -> _Generation:
        if self._closed:
            raise DependencyUnavailableError("The search index is closed.")
        if self._live is not None:
            return self._live
        number = edge_layout.read_live(self.path)
        fresh = number is None
        number = 1 if number is None else number
        shard = self._load(edge_layout.generation_path(self.path, number))
        if fresh:
            try:
                edge_layout.write_live(self.path, number)
            except OSError as exc:
                shard.close()
                raise _open_error(exc) from exc
        live = _Generation(number, shard)
        with self._state:
            self._live = live
        return live

    def _known_locked(self, number: int) -> _Generation | None:
        building = self._building
        if building is not None and building.number == number:
            return building
        return self._retired.get(number)

    def _discard(self, generation: _Generation) -> None:
        """Stop using an open non-live generation: wait for its readers, close its shard."""
        with self._state:
            if self._building is generation:
                self._building = None
            self._retired.pop(generation.number, None)
            generation.dropped = True
            while generation.readers:
                self._state.wait()
        _close_shard(generation)

    def _load(self, path: Path) -> EdgeShard:
        config = EdgeConfig(
            vectors={DENSE: EdgeVectorParams(size=self.dim, distance=Distance.Cosine)},
            sparse_vectors={SPARSE: EdgeSparseVectorParams(modifier=Modifier.Idf)},
        )
        try:
            path.mkdir(parents=True, exist_ok=True)
            # With a config, load creates the shard in an empty directory and checks an
            # existing one against it.
            return EdgeShard.load(str(path), config)
        except Exception as exc:
            raise _open_error(exc) from exc


class EdgeGeneration:
    """``IndexGeneration``: one non-live generation of an ``EdgeIndex``, written directly.

    It shares its index's locks and shard, so a switch makes exactly what was written
    here live. ``close`` lets go of the handle; the generation stays.
    """

    def __init__(self, index: EdgeIndex, generation: _Generation) -> None:
        self._index = index
        self._generation = generation
        self._closed = False

    @property
    def number(self) -> int:
        return self._generation.number

    def ensure_ready(self) -> None:
        self._target()

    def upsert(self, chunks: Sequence[IndexedChunk]) -> None:
        points = [edge_requests.point(chunk, self._index.dim) for chunk in chunks]
        if points:
            self._index._write(
                self._target(),
                edge_requests.upserts(points, self._index._batch_size),
                "write chunks",
            )

    def search(
        self,
        *,
        dense: Sequence[float] | None,
        sparse: SparseVector | None,
        flt: SearchFilter,
        limit: int,
        mode: SearchMode = "hybrid",
        prefetch_limit: int = 50,
        fusion: Fusion = DEFAULT_FUSION,
    ) -> list[Hit]:
        target = self._target()
        plan = self._index._plan(dense, sparse, flt, limit, mode, prefetch_limit, fusion)
        return self._index._search(target, plan, flt)

    def rank_sides(
        self,
        *,
        dense: Sequence[float] | None,
        sparse: SparseVector | None,
        flt: SearchFilter,
        limit: int,
        mode: SearchMode = "hybrid",
        prefetch_limit: int = 50,
    ) -> dict[Side, SideRanking]:
        target = self._target()
        plan = self._index._plan(dense, sparse, flt, limit, mode, prefetch_limit, DEFAULT_FUSION)
        return self._index._rank_sides(target, plan, flt)

    def stored_payloads(self, ids: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        return self._index._stored_payloads(self._target(), ids)

    def stored_vectors(self, ids: Sequence[str]) -> dict[str, StoredVectors]:
        return self._index._stored_vectors(self._target(), ids)

    def stored_texts(self, ids: Sequence[str]) -> dict[str, str]:
        return self._index._stored_texts(self._target(), ids)

    def delete_document(self, document_id: str, *, keep_version: int | None = None) -> None:
        op = edge_requests.delete_document_op(document_id, keep_version)
        self._index._write(self._target(), [op], "delete a document's chunks")

    def delete_version(self, document_id: str, version: int) -> None:
        op = edge_requests.delete_version_op(document_id, version)
        self._index._write(self._target(), [op], "delete a version's chunks")

    def set_roles(self, document_id: str, roles: Sequence[str]) -> None:
        op = edge_requests.set_roles_op(document_id, roles)
        self._index._write(self._target(), [op], "change a document's roles")

    def count(self, *, document_id: str | None = None) -> int:
        return self._index._count(self._target(), document_id)

    def close(self) -> None:
        self._closed = True

    def _target(self) -> _Generation:
        if self._closed:
            raise DependencyUnavailableError("This handle on the search index is closed.")
        return self._generation


def _side_requests(plan: SearchPlan, flt: SearchFilter) -> list[QueryRequest]:
    engine_filter = edge_requests.engine_filter(flt)
    return [edge_requests.side_request(side, engine_filter) for side in plan.sides]


def _side_answers(shard: EdgeShard, requests: list[QueryRequest]) -> list[list[tuple[str, float]]]:
    """The engine's ``(id, score)`` for each side's request, in one batched call."""
    if len(requests) == 1:
        answers = [shard.query(requests[0])]
    else:
        answers = shard.query_batch(QueryBatchRequest(requests))
    return [[(str(p.id), p.score) for p in answer] for answer in answers]


def _payloads(shard: EdgeShard, ids: Sequence[str]) -> dict[str, Mapping[str, Any]]:
    records = shard.retrieve(list(ids), with_payload=True, with_vector=False)
    return {str(record.id): record.payload or {} for record in records}


def _create_payload_indexes(shard: EdgeShard) -> None:
    with engine_errors(ENGINE, "create payload indexes"):
        existing = shard.info().payload_schema
        for name in KEYWORD_INDEXED_FIELDS:
            if name not in existing:
                shard.update(UpdateOperation.create_field_index(name, PayloadSchemaType.Keyword))
        for name in INTEGER_INDEXED_FIELDS:
            if name not in existing:
                shard.update(UpdateOperation.create_field_index(name, PayloadSchemaType.Integer))


def _optimize(generation: _Generation, when: str) -> bool:
    """Run the shard's optimisers; logs what it did and how long the process stood still."""
    started = time.perf_counter()
    with engine_errors(ENGINE, "optimise the index"):
        changed = generation.shard.optimize()
        if changed:
            info = generation.shard.info()
            logger.info(
                "%s: optimised generation %d at %s in %.1f s (%d points, %d segments)",
                ENGINE,
                generation.number,
                when,
                time.perf_counter() - started,
                info.points_count,
                info.segments_count,
            )
    generation.written = False  # optimize returns once nothing more is planned
    return changed


def _close_shard(generation: _Generation) -> None:
    try:
        generation.shard.flush()
        generation.shard.close()
    except Exception:  # noqa: BLE001 - closing is best effort; logged with traceback
        logger.warning(
            "%s: could not close generation %d cleanly", ENGINE, generation.number, exc_info=True
        )


def _open_error(exc: Exception) -> Exception:
    """Name the two failures an operator can act on; everything else is an outage."""
    text = str(exc)
    logger.warning("%s: could not open the index", ENGINE, exc_info=True)
    if "incompatible" in text.lower():
        return ConfigurationError(
            "The search index was built with a different vector configuration "
            "(embedding size); re-index or point the service at a new index."
        )
    if "WAL" in text or "WouldBlock" in text:
        return DependencyUnavailableError(
            "The search index is in use by another process; only one process may open "
            "the embedded index at a time (send writes through the running server)."
        )
    return DependencyUnavailableError(
        f"The search index is unavailable: {ENGINE} could not open the index."
    )
