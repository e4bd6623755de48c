"""``QdrantClientIndex``: the chunk index on a Qdrant server, or qdrant-client's local mode.

The distributed deployment points every process at one Qdrant server (``from_url``).
qdrant-client's local mode (``from_local_path``) runs the same client calls against a
pure-Python engine: slow and single-process, it is what the contract tests use to check
this adapter here, where no server can run.

A search is one ``query_batch_points`` call (a dense and a sparse query, each under the
caller's filter) and one ``retrieve`` of the payloads of the final hits; ranking and RRF
are done by ``retrieval.index.ranking`` exactly as for ``EdgeIndex``. ``rank_sides`` and
``stored_payloads`` are the first call and the second on their own; each also looks up
the live collection, so the retriever's first search (both, apart) costs a server one
``get_aliases`` round trip more than a ``search``; its feedback search saves the BM25
side's query and the re-read of payloads already read. Writes use ``wait=True`` so a
search issued after ``upsert`` or ``delete_document`` returns sees them.

Generations (``GenerationalIndex``) are collections behind aliases (``client_layout``).
Every operation first asks the server which collection is live and which is being
built (one ``get_aliases`` call), then works on those concrete names: a search reads
both of its calls from one generation even if a switch lands in between, and a write
goes to the live one and to the one being built. Looking up before writing is what
makes a concurrent switch safe: if the switch lands after the look-up, the write still
reaches the new generation as its mirror. If the collection an operation used vanished
meanwhile (switched away and dropped by another process), it runs again on the new one.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import SecretStr
from qdrant_client import QdrantClient, models

from kernel.errors import (
    ConflictError,
    DependencyUnavailableError,
    NotFoundError,
)
from retrieval.index import client_collection as collection_ops
from retrieval.index import client_layout as layout
from retrieval.index.base import (
    DEFAULT_FUSION,
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
from retrieval.index.ranking import SearchPlan, plan_search

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

ENGINE = "qdrant"
DENSE = "dense"
SPARSE = "sparse"
# How many times an operation follows the live collection when it moves under it.
_FOLLOW_SWITCHES = 3

T = TypeVar("T")


class QdrantClientIndex:
    """``GenerationalIndex`` over the collections behind ``collection`` (an alias, or a
    collection made before generations) of a ``QdrantClient``, ``dim``-sized vectors.

    ``serialize_reads`` makes searches take the write lock too: local mode's engine is
    plain Python data structures, not safe to read while another thread writes. A server
    needs no such lock. The index owns ``client`` and closes it in ``close``.

    Raises ``ValueError`` for a non-positive ``dim`` or ``batch_size`` (and, from its
    methods, for malformed chunks or queries); ``ConfigurationError`` from
    ``ensure_ready`` when the collection exists with other vector settings;
    ``DependencyUnavailableError`` for every engine failure or after ``close``.
    """

    def __init__(
        self,
        client: QdrantClient,
        collection: str,
        dim: int,
        *,
        batch_size: int = 256,
        serialize_reads: bool = False,
    ) -> None:
        if dim < 1:
            raise ValueError("dim must be >= 1")
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        if not collection:
            raise ValueError("collection must be a non-empty name")
        self.collection = collection
        self.dim = dim
        self._client = client
        self._batch_size = batch_size
        self._write_lock = threading.Lock()
        self._read_lock: AbstractContextManager[object] = (
            self._write_lock if serialize_reads else contextlib.nullcontext()
        )
        self._closed = False

    # -- ChunkIndex ---------------------------------------------------------------------

    def ensure_ready(self) -> None:
        self._check_open()
        with self._write_lock, engine_errors(ENGINE, "prepare the collection"):
            targets = layout.resolve(self._client, self.collection)
            live = targets.live
            if live is None:
                live = self._create_first_generation()
            elif live not in (self.collection, targets.aliases.get(self.collection)):
                self._finish_switch(live)  # a switch away from generation 0 was interrupted
            collection_ops.prepare_collection(self._client, live, self.dim)

    def upsert(self, chunks: Sequence[IndexedChunk]) -> None:
        # Every chunk is validated before any is written.
        points = [collection_ops.point(chunk, self.dim) for chunk in chunks]
        if not points:
            return
        self._write("write chunks", lambda name: self._upsert_into(name, points))

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
        plan = _plan(dense, sparse, flt, limit, mode, prefetch_limit, fusion, self.dim)
        if plan is None:
            return []
        self._check_open()
        return self._on_live(
            "search",
            self._read_lock,
            lambda t: collection_ops.search_in(self._client, t.live, plan, flt),
        )

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
        plan = _plan(dense, sparse, flt, limit, mode, prefetch_limit, DEFAULT_FUSION, self.dim)
        if plan is None:
            return {}
        self._check_open()
        return self._on_live(
            "search",
            self._read_lock,
            lambda t: collection_ops.rank_sides_in(self._client, t.live, plan, flt),
        )

    def stored_payloads(self, ids: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        if not ids:
            return {}
        self._check_open()
        return self._on_live(
            "read chunk payloads",
            self._read_lock,
            lambda t: collection_ops.payloads_in(self._client, t.live, ids),
        )

    def stored_vectors(self, ids: Sequence[str]) -> dict[str, StoredVectors]:
        if not ids:
            return {}
        self._check_open()
        return self._on_live(
            "read vectors",
            self._read_lock,
            lambda t: collection_ops.stored_vectors_in(self._client, t.live, ids),
        )

    def stored_texts(self, ids: Sequence[str]) -> dict[str, str]:
        if not ids:
            return {}
        self._check_open()
        return self._on_live(
            "read chunk texts",
            self._read_lock,
            lambda t: collection_ops.stored_texts_in(self._client, t.live, ids),
        )

    def delete_document(self, document_id: str, *, keep_version: int | None = None) -> None:
        selector = collection_ops.document_selector(document_id, keep_version)
        self._write(
            "delete a document's chunks",
            lambda name: self._client.delete(name, points_selector=selector, wait=True),
        )

    def delete_version(self, document_id: str, version: int) -> None:
        selector = collection_ops.version_selector(document_id, version)
        self._write(
            "delete a version's chunks",
            lambda name: self._client.delete(name, points_selector=selector, wait=True),
        )

    def set_roles(self, document_id: str, roles: Sequence[str]) -> None:
        self._write(
            "change a document's roles",
            lambda name: collection_ops.set_roles_in(self._client, name, document_id, roles),
        )

    def count(self, *, document_id: str | None = None) -> int:
        self._check_open()
        return self._on_live(
            "count chunks",
            self._read_lock,
            lambda t: collection_ops.count_in(self._client, t.live, document_id),
        )

    def close(self) -> None:
        """Close the client (local mode: release its folder); idempotent; later calls raise.

        Best effort: a failure is logged, not raised, so shutting down never fails.
        """
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._client.close()
            except Exception:  # noqa: BLE001 - shutdown is best effort; logged with traceback
                logger.warning("%s: could not close the client cleanly", ENGINE, exc_info=True)

    # -- GenerationalIndex ----------------------------------------------------------------

    def live_generation(self) -> int:
        self._check_open()
        with self._read_lock, engine_errors(ENGINE, "find the live generation"):
            return self._live_number(layout.resolve(self._client, self.collection))

    def generations(self) -> list[int]:
        self._check_open()
        with self._read_lock, engine_errors(ENGINE, "list generations"):
            return layout.existing_generations(self._client, self.collection)

    def create_generation(self) -> ClientGeneration:
        self._check_open()
        with self._write_lock, engine_errors(ENGINE, "create a generation"):
            targets = layout.resolve(self._client, self.collection)
            live_number = self._live_number(targets)
            if targets.building is not None:
                raise ConflictError(
                    f"generation {targets.building} of the index is being built already"
                )
            assert targets.live is not None  # _live_number refused None
            existing = layout.existing_generations(self._client, self.collection)
            number = max([live_number, *existing]) + 1
            name = layout.generation_name(self.collection, number)
            self._create_like(name, targets.live)
            collection_ops.prepare_collection(self._client, name, self.dim)
            self._client.update_collection_aliases(
                change_aliases_operations=[
                    layout.create_alias(layout.next_alias(self.collection), name)
                ]
            )
            return ClientGeneration(self, name, number)

    def switch_to(self, generation: int) -> None:
        self._check_open()
        target = layout.generation_name(self.collection, generation)
        with self._write_lock, engine_errors(ENGINE, "switch generations"):
            targets = layout.resolve(self._client, self.collection)
            if targets.live == target:
                self._finish_switch(target)
                return
            if generation == 0 or not self._client.collection_exists(target):
                raise NotFoundError(f"index generation {generation} does not exist")
            ops: list[models.AliasOperations] = []
            if targets.aliases.get(layout.next_alias(self.collection)) == target:
                ops.append(layout.delete_alias(layout.next_alias(self.collection)))
            if self.collection in targets.aliases:
                ops.append(layout.delete_alias(self.collection))
            elif targets.live == self.collection:
                # Generation 0 holds the name the alias needs: the one two-step switch.
                self._client.delete_collection(self.collection)
            ops.append(layout.create_alias(self.collection, target))
            self._client.update_collection_aliases(change_aliases_operations=ops)

    def drop_generation(self, generation: int) -> None:
        self._check_open()
        name = layout.generation_name(self.collection, generation)
        with self._write_lock, engine_errors(ENGINE, "drop a generation"):
            targets = layout.resolve(self._client, self.collection)
            if targets.live == name:
                raise ConflictError(f"index generation {generation} is live; switch first")
            next_alias = layout.next_alias(self.collection)
            if targets.aliases.get(next_alias) == name:
                self._client.update_collection_aliases(
                    change_aliases_operations=[layout.delete_alias(next_alias)]
                )
            if generation in layout.existing_generations(self._client, self.collection):
                self._client.delete_collection(name)

    # -- internals -------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise DependencyUnavailableError("The search index is closed.")

    def _on_live(
        self,
        action: str,
        lock: AbstractContextManager[object],
        operation: Callable[[_LiveTargets], T],
    ) -> T:
        """Run ``operation`` on the collections live and being built right now.

        If it fails because the live collection moved under it (another process switched
        and dropped the old one), it runs again on the new one.
        """
        for attempt in range(_FOLLOW_SWITCHES):
            with lock:
                self._check_open()
                with engine_errors(ENGINE, action):
                    targets = _live_targets(self._client, self.collection, action)
                try:
                    with engine_errors(ENGINE, action):
                        return operation(targets)
                except DependencyUnavailableError:
                    if attempt == _FOLLOW_SWITCHES - 1 or not self._moved(targets.live):
                        raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _moved(self, live: str) -> bool:
        try:
            return layout.resolve(self._client, self.collection).live != live
        except Exception:  # noqa: BLE001 - the operation's own error is what gets raised
            return False

    def _write(self, action: str, write: Callable[[str], object]) -> None:
        """Write to the live collection, and mirror to the one being built (best effort)."""

        def both(targets: _LiveTargets) -> None:
            write(targets.live)
            if targets.building is None:
                return
            try:
                write(targets.building)
            except Exception:  # noqa: BLE001 - the live write stands; the builder reconciles
                logger.warning(
                    "%s: could not mirror a write to the generation being built",
                    ENGINE,
                    exc_info=True,
                )

        self._check_open()
        self._on_live(action, self._write_lock, both)

    def _upsert_into(self, name: str, points: list[models.PointStruct]) -> None:
        for batch in collection_ops.batches(points, self._batch_size):
            self._client.upsert(name, points=batch, wait=True)

    def _live_number(self, targets: layout.Targets) -> int:
        number = (
            None
            if targets.live is None
            else layout.generation_number(self.collection, targets.live)
        )
        if number is None:
            raise DependencyUnavailableError(
                "The search index is not ready: its collection does not exist yet."
            )
        return number

    def _create_first_generation(self) -> str:
        """A fresh index: generation 1 behind the alias (another process may race us)."""
        name = layout.generation_name(self.collection, 1)
        collection_ops.create_collection(self._client, name, self.dim)
        try:
            self._client.update_collection_aliases(
                change_aliases_operations=[layout.create_alias(self.collection, name)]
            )
        except Exception:
            live = layout.resolve(self._client, self.collection).live
            if live is None:
                raise
            return live
        return name

    def _finish_switch(self, live: str) -> None:
        """Give the alias to ``live`` if a switch from generation 0 stopped half-way."""
        aliases = {a.alias_name: a.collection_name for a in self._client.get_aliases().aliases}
        if aliases.get(self.collection) == live or self._client.collection_exists(self.collection):
            return
        ops: list[models.AliasOperations] = []
        if aliases.get(layout.next_alias(self.collection)) == live:
            ops.append(layout.delete_alias(layout.next_alias(self.collection)))
        ops.append(layout.create_alias(self.collection, live))
        self._client.update_collection_aliases(change_aliases_operations=ops)

    def _create_like(self, name: str, live: str) -> None:
        """A new collection with the live one's vectors and cluster layout (shards, replicas)."""
        params = self._client.get_collection(live).config.params
        self._client.create_collection(
            name,
            vectors_config=params.vectors,
            sparse_vectors_config=params.sparse_vectors,
            shard_number=params.shard_number,
            replication_factor=params.replication_factor,
            write_consistency_factor=params.write_consistency_factor,
            on_disk_payload=params.on_disk_payload,
        )


class ClientGeneration:
    """``IndexGeneration``: one collection of a ``QdrantClientIndex``, written directly.

    It shares the index's client and locks. ``close`` lets go of the handle only.
    """

    def __init__(self, index: QdrantClientIndex, collection: str, number: int) -> None:
        self._index = index
        self.collection = collection
        self._number = number
        self._closed = False

    @property
    def number(self) -> int:
        return self._number

    def ensure_ready(self) -> None:
        self._run("prepare the collection", lambda c: c.get_collection(self.collection))

    def upsert(self, chunks: Sequence[IndexedChunk]) -> None:
        points = [collection_ops.point(chunk, self._index.dim) for chunk in chunks]
        if points:
            self._run("write chunks", lambda _: self._index._upsert_into(self.collection, points))

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
        plan = _plan(dense, sparse, flt, limit, mode, prefetch_limit, fusion, self._index.dim)
        if plan is None:
            return []
        return self._run(
            "search", lambda c: collection_ops.search_in(c, self.collection, plan, flt)
        )

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
        plan = _plan(
            dense, sparse, flt, limit, mode, prefetch_limit, DEFAULT_FUSION, self._index.dim
        )
        if plan is None:
            return {}
        return self._run(
            "search", lambda c: collection_ops.rank_sides_in(c, self.collection, plan, flt)
        )

    def stored_payloads(self, ids: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        if not ids:
            return {}
        return self._run(
            "read chunk payloads",
            lambda c: collection_ops.payloads_in(c, self.collection, ids),
        )

    def stored_vectors(self, ids: Sequence[str]) -> dict[str, StoredVectors]:
        if not ids:
            return {}
        return self._run(
            "read vectors",
            lambda c: collection_ops.stored_vectors_in(c, self.collection, ids),
        )

    def stored_texts(self, ids: Sequence[str]) -> dict[str, str]:
        if not ids:
            return {}
        return self._run(
            "read chunk texts",
            lambda c: collection_ops.stored_texts_in(c, self.collection, ids),
        )

    def delete_document(self, document_id: str, *, keep_version: int | None = None) -> None:
        selector = collection_ops.document_selector(document_id, keep_version)
        self._run(
            "delete a document's chunks",
            lambda c: c.delete(self.collection, points_selector=selector, wait=True),
        )

    def delete_version(self, document_id: str, version: int) -> None:
        selector = collection_ops.version_selector(document_id, version)
        self._run(
            "delete a version's chunks",
            lambda c: c.delete(self.collection, points_selector=selector, wait=True),
        )

    def set_roles(self, document_id: str, roles: Sequence[str]) -> None:
        self._run(
            "change a document's roles",
            lambda c: collection_ops.set_roles_in(c, self.collection, document_id, roles),
        )

    def count(self, *, document_id: str | None = None) -> int:
        return self._run(
            "count chunks", lambda c: collection_ops.count_in(c, self.collection, document_id)
        )

    def close(self) -> None:
        self._closed = True

    def _run(self, action: str, operation: Callable[[QdrantClient], T]) -> T:
        index = self._index
        if self._closed:
            raise DependencyUnavailableError("This handle on the search index is closed.")
        index._check_open()
        with index._write_lock, engine_errors(ENGINE, action):
            if not index._client.collection_exists(self.collection):
                raise DependencyUnavailableError("This generation of the search index was dropped.")
            return operation(index._client)


def _plan(
    dense: Sequence[float] | None,
    sparse: SparseVector | None,
    flt: SearchFilter,
    limit: int,
    mode: SearchMode,
    prefetch_limit: int,
    fusion: Fusion,
    dim: int,
) -> SearchPlan | None:
    return plan_search(
        dense=dense,
        sparse=sparse,
        flt=flt,
        limit=limit,
        mode=mode,
        prefetch_limit=prefetch_limit,
        fusion=fusion,
        dim=dim,
    )


@dataclass(frozen=True, slots=True)
class _LiveTargets:
    live: str
    building: str | None


def _live_targets(client: QdrantClient, base: str, action: str) -> _LiveTargets:
    targets = layout.resolve(client, base)
    if targets.live is None:
        logger.warning("%s: collection %s is missing", ENGINE, base)
        raise DependencyUnavailableError(
            f"The search index is unavailable: {ENGINE} could not {action} "
            "(its collection is missing)."
        )
    return _LiveTargets(targets.live, targets.building)


def from_url(
    url: str,
    api_key: SecretStr | str | None,
    collection: str,
    dim: int,
    *,
    timeout_s: int = 10,
) -> QdrantClientIndex:
    """An index on the Qdrant server at ``url``; nothing is contacted until first use.

    The client's background version check is off: it would contact the server from the
    constructor and report only through warnings; ``ensure_ready`` is the real check.
    """
    key = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
    client = QdrantClient(
        url=url, api_key=key or None, timeout=timeout_s, check_compatibility=False
    )
    return QdrantClientIndex(client, collection, dim)


def from_local_path(path: Path, collection: str, dim: int) -> QdrantClientIndex:
    """An index in qdrant-client's local mode under ``path`` (one process at a time).

    Raises ``DependencyUnavailableError`` when another client holds the folder.
    """
    try:
        client = QdrantClient(path=str(path))
    except Exception as exc:
        raise DependencyUnavailableError(
            "The search index is in use by another client; local mode allows one at a time."
        ) from exc
    return QdrantClientIndex(client, collection, dim, serialize_reads=True)
