"""Re-index: rebuild the whole search index beside the live one, then switch, without downtime.

A change of chunking or of the embedding model changes every chunk, so every document
has to be built again. Search must not stop meanwhile and must never show a half-built
index, so the rebuild goes into a new *generation* of the index (``GenerationalIndex``)
while the live one keeps answering, and one atomic switch makes it live.

In order:
1. claim: one re-index at a time, across every process on the database (the run's
   lease, renewed while it works; a second request gets the live run back).
   Generations left behind by a re-index that died are dropped first.
2. build: for every document the registry serves, its object is parsed, chunked and
   embedded again by the pipeline's own functions, into the new generation, at the
   version the registry serves and with the roles it serves (``served_roles``: never
   wider than what readers may see now). The version numbers are kept, so the
   registry's gate accepts the new chunks after the switch without any registry write.
3. catch up: the registry is read again and compared with what this run wrote; a
   document indexed anew, deleted or narrowed during the build is fixed in the new
   generation; passes repeat until one finds nothing to do.
4. switch, atomically; then one more catch-up on what is now the live index (for what
   committed in the instant before the switch), and the old generation is dropped.

Writes by ordinary ingestion during a re-index: **written to both generations.** The
index adapter mirrors every write made through the live index (an upsert, a deletion, a
narrowing of roles), from this process or any other, into the generation being built
(see ``GenerationalIndex.create_generation``), and a write is applied under the same
look-up as the switch, so it cannot land only in a generation about to be retired.
The alternative, catching up before the switch under an exclusive section, would need
that section to hold off every ingestion worker on every machine between the last pass
and the switch: a distributed lock on the ingestion path, for a rare operation. Mirroring
needs no lock, and a document committed in the last instant is already in the new
generation. The catch-up passes remain, as the safety net: they repair writes that raced
the start of mirroring and mirror writes that failed (mirroring is best effort, never an
error for the writer), using the registry, which is the truth about what is served.
Every deletion this run makes removes only versions it wrote itself, so it can never
remove what a concurrent ingestion put there.

Failure: an infrastructure error (the index, the parser pool, the database) stops the
run before the switch; the new generation is dropped and the live one was never
touched. Documents that cannot be rebuilt (their object is gone, they no longer parse)
are recorded; more than the run's ``max_failures`` of them (default 0) fail the run the
same way, since switching would take those documents out of search.

Known limit: the re-index runs with this process's embedding model, and queries are
embedded with the same one, so a change of model is served consistently only after the
switch; a model with another vector size needs the live index opened with its own size
(not handled here: the service refuses to start on an index of another size).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal, Protocol

from ingest.content_hash import hash_file
from ingest.leases import LeaseKeeper
from ingest.pipeline import (
    IngestionDeps,
    build_chunks,
    chunked,
    object_path,
    parse_document,
)
from ingest.records import Document
from kernel.errors import (
    ConfigurationError,
    DependencyUnavailableError,
    DocumentError,
    EmptyDocumentError,
    InvalidInputError,
    NotFoundError,
    ObjectMissingError,
    RaglineError,
)
from retrieval.index.base import ChunkIndex, GenerationalIndex, IndexedChunk

log = logging.getLogger(__name__)

ReindexStatus = Literal["queued", "running", "finished", "failed", "skipped"]
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ReindexFailure:
    document_id: str
    key: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class ReindexProgress:
    total: int = 0  # documents served when the build began
    done: int = 0
    caught_up: int = 0  # documents fixed after the build (changed while it ran)
    failures: tuple[ReindexFailure, ...] = ()
    from_generation: int | None = None
    to_generation: int | None = None


@dataclass(frozen=True, slots=True)
class ReindexRun:
    """One re-index, as recorded."""

    id: str
    trigger: str
    status: ReindexStatus
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    max_failures: int
    progress: ReindexProgress
    error: str | None

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")


class ReindexLog(Protocol):
    """Re-index runs and the lease that keeps them one at a time (``ingest.reindex_log``)."""

    def request(
        self, trigger: str, now: datetime, *, max_failures: int = 0
    ) -> tuple[ReindexRun, bool]:
        """A new queued run, or the live one (queued or running) and False."""
        ...

    def get(self, run_id: str) -> ReindexRun: ...

    def list_runs(self, limit: int = 20) -> list[ReindexRun]:
        """Newest first."""
        ...

    def acquire(self, run_id: str, lease_s: int, now: datetime) -> bool: ...

    def renew(self, run_id: str, lease_s: int, now: datetime) -> bool: ...

    def progress(self, run_id: str, progress: ReindexProgress) -> None: ...

    def finish(
        self,
        run_id: str,
        *,
        status: ReindexStatus,
        now: datetime,
        progress: ReindexProgress | None = None,
        error: str | None = None,
    ) -> ReindexRun:
        """End the run and free the lease."""
        ...


@dataclass(frozen=True, slots=True)
class ReindexPolicy:
    lease_s: int = 120
    # Catch-up passes before (and after) the switch; each one repeats only if the
    # previous found documents that changed while it ran.
    catch_up_passes: int = 5


def generational(index: ChunkIndex) -> GenerationalIndex:
    """``index`` as a ``GenerationalIndex``; ``ConfigurationError`` if it cannot be one."""
    if not isinstance(index, GenerationalIndex):
        raise ConfigurationError("this search index cannot be rebuilt beside the live one")
    return index


def request_reindex(
    runs: ReindexLog, trigger: str, now: datetime, *, max_failures: int = 0
) -> tuple[ReindexRun, bool]:
    """Queue a re-index: (run, True), or the live run already queued or running and
    False; the caller starts a task only for True. ``InvalidInputError`` for a negative
    ``max_failures``."""
    if max_failures < 0:
        raise InvalidInputError("max_failures must be 0 or more")
    return runs.request(trigger, now, max_failures=max_failures)


def run_reindex(
    deps: IngestionDeps,
    runs: ReindexLog,
    run_id: str,
    *,
    policy: ReindexPolicy = ReindexPolicy(),
    clock: Clock = utc_now,
    on_progress: Callable[[ReindexRun], None] | None = None,
    stopping: Callable[[], bool] = lambda: False,
) -> ReindexRun:
    """Carry out a queued run; returns it as recorded. Never leaves it running.

    A run already ended, or running in another delivery of the same task, is returned as
    it is; a run that finds another re-index holding the lease ends as ``skipped``.
    ``stopping`` says the process is shutting down: a run not yet switched stops between
    two documents and is recorded as failed, its generation dropped (start it again).
    """
    index = generational(deps.index)
    if not runs.get(run_id).active:
        return runs.get(run_id)
    if not runs.acquire(run_id, policy.lease_s, clock()):
        current = runs.get(run_id)
        if current.status == "running":
            return current  # this very run, delivered twice: its holder goes on
        return runs.finish(
            run_id, status="skipped", now=clock(), error="another re-index was running"
        )
    job = _Job(deps, index, runs, runs.get(run_id), policy, clock, on_progress, stopping)
    try:
        note = job.run()
    except RaglineError as exc:
        return job.end("failed", exc.message)
    except BaseException:
        job.end("failed", "stopped on an unexpected error; see the log")
        raise
    return job.end("finished", note)


class _Job:
    """One run's state: what it wrote where, and what failed."""

    def __init__(
        self,
        deps: IngestionDeps,
        index: GenerationalIndex,
        runs: ReindexLog,
        run: ReindexRun,
        policy: ReindexPolicy,
        clock: Clock,
        on_progress: Callable[[ReindexRun], None] | None,
        stopping: Callable[[], bool],
    ) -> None:
        self.deps, self.index, self.runs, self.run_id = deps, index, runs, run.id
        self.max_failures = run.max_failures
        self.policy, self.clock, self.on_progress = policy, clock, on_progress
        self.stopping = stopping
        self.lease = LeaseKeeper(
            lambda: runs.renew(run.id, policy.lease_s, clock()), policy.lease_s, job="re-index"
        )
        # What this run put in the new generation: document id -> (version, roles).
        self.written: dict[str, tuple[int, frozenset[str]]] = {}
        # Documents that could not be rebuilt, at the version that failed.
        self.failed: dict[str, tuple[int, ReindexFailure]] = {}
        self.total = self.done = self.caught_up = 0
        self.from_generation: int | None = None
        self.to_generation: int | None = None

    def run(self) -> str | None:
        """Build, catch up, switch; returns a note if something after the switch failed."""
        live = self.index.live_generation()
        for stale in self.index.generations():
            if stale != live:
                log.info("re-index: dropping generation %d left by an earlier run", stale)
                self.index.drop_generation(stale)
        generation = self.index.create_generation()
        self.from_generation, self.to_generation = live, generation.number
        try:
            self._build(generation)
            self._catch_up(generation)
            if len(self.failed) > self.max_failures:
                raise RaglineError(
                    f"{len(self.failed)} documents could not be rebuilt (see failures; "
                    f"{self.max_failures} allowed); the live index is unchanged"
                )
            self.index.switch_to(generation.number)
        except BaseException:
            self._abandon(generation.number)
            raise
        finally:
            generation.close()
        log.info("re-index: generation %d is live", generation.number)
        try:
            self._catch_up(self.index)
            self.index.drop_generation(live)
        except RaglineError as exc:
            log.warning("re-index: after the switch: %s", exc.message)
            return f"switched to generation {generation.number}; then: {exc.message}"
        return None

    def end(self, status: ReindexStatus, error: str | None) -> ReindexRun:
        return self.runs.finish(
            self.run_id, status=status, now=self.clock(), progress=self._progress(), error=error
        )

    # -- steps -----------------------------------------------------------------------

    def _build(self, target: ChunkIndex) -> None:
        documents = self._served()
        self.total = len(documents)
        self._report()
        for doc in documents:
            self._go_on()
            self._rebuild(target, doc)
            self.done += 1
            self._report()
            self.lease.keep()

    def _catch_up(self, target: ChunkIndex) -> None:
        """Fix what changed since it was written, until a pass finds nothing."""
        for _ in range(self.policy.catch_up_passes):
            if not self._catch_up_pass(target):
                return
            self._report()

    def _catch_up_pass(self, target: ChunkIndex) -> int:
        current = {doc.id: doc for doc in self._served()}
        fixed = 0
        for doc_id in [d for d in self.written if d not in current]:
            # Deleted meanwhile: remove what this run wrote (mirroring removed the rest).
            target.delete_version(doc_id, self.written.pop(doc_id)[0])
            fixed += 1
        for doc_id in [d for d in self.failed if d not in current]:
            del self.failed[doc_id]
        for doc in current.values():
            version, roles = doc.indexed_version, frozenset(doc.served_roles)
            written = self.written.get(doc.id)
            if written is not None and written[0] == version:
                if written[1] != roles:
                    target.set_roles(doc.id, sorted(roles))
                    self.written[doc.id] = (version, roles)
                    fixed += 1
                continue
            failed = self.failed.get(doc.id)
            if failed is not None and failed[0] == version:
                continue  # recorded already; retrying the same bytes will not help
            if written is not None:
                target.delete_version(doc.id, self.written.pop(doc.id)[0])
            self._go_on()
            self._rebuild(target, doc)
            fixed += 1
            self.lease.keep()
        self.caught_up += fixed
        return fixed

    def _rebuild(self, target: ChunkIndex, doc: Document) -> None:
        try:
            chunks = served_chunks(self.deps, doc)
        except (DocumentError, InvalidInputError) as exc:
            failure = ReindexFailure(doc.id, doc.key, exc.code, exc.message)
            self.failed[doc.id] = (doc.indexed_version, failure)
            log.info("re-index: document %s could not be rebuilt: %s", doc.id, exc.code)
            return
        self.failed.pop(doc.id, None)
        target.upsert(chunks)
        self._settle(target, doc.id, doc.indexed_version, frozenset(doc.served_roles))

    def _settle(self, target: ChunkIndex, doc_id: str, version: int, roles: frozenset[str]) -> None:
        """Check what was just written against the registry now; keep it only if current.

        The registry may have moved while the document was being built: deleted (its
        chunks here would be leftovers), a newer version served (the next pass builds
        it), or its roles narrowed (the chunks must not stay wider).
        """
        try:
            now = self.deps.registry.get(doc_id)
        except NotFoundError:
            target.delete_version(doc_id, version)
            return
        if now.indexed_version != version:
            target.delete_version(doc_id, version)
            return
        served = frozenset(now.served_roles)
        if served != roles:
            target.set_roles(doc_id, sorted(served))
        self.written[doc_id] = (version, served)

    def _abandon(self, number: int) -> None:
        """Drop the generation a failed run built; the live one stays as it was."""
        try:
            if self.index.live_generation() == number:
                return  # the switch happened; what failed came after it
            self.index.drop_generation(number)
        except RaglineError:
            log.warning(
                "re-index: could not drop generation %d; the next re-index drops it",
                number,
                exc_info=True,
            )

    # -- helpers ---------------------------------------------------------------------

    def _go_on(self) -> None:
        """Stop here if the process is shutting down and nothing was switched yet."""
        if self.stopping() and self.index.live_generation() != self.to_generation:
            raise DependencyUnavailableError(
                "the worker shut down during the re-index; the live index is unchanged: "
                "start the re-index again"
            )

    def _served(self) -> list[Document]:
        documents = self.deps.registry.list_documents(limit=1 << 40)
        return [doc for doc in documents if doc.indexed_version > 0]

    def _progress(self) -> ReindexProgress:
        return ReindexProgress(
            total=self.total,
            done=self.done,
            caught_up=self.caught_up,
            failures=tuple(failure for _, failure in self.failed.values()),
            from_generation=self.from_generation,
            to_generation=self.to_generation,
        )

    def _report(self) -> None:
        self.runs.progress(self.run_id, self._progress())
        if self.on_progress is not None:
            self.on_progress(self.runs.get(self.run_id))


def served_chunks(deps: IngestionDeps, doc: Document) -> list[IndexedChunk]:
    """The chunks of ``doc``'s served version, built again from its object now.

    Same version number, so the registry's gate serves them; the served roles, so they
    are never wider than what readers may see; the pipeline's parse, chunk and embed
    steps (the bucket's personal-data policy included) with this process's settings.
    Raises ``DocumentError`` when the object is gone or no longer yields text. If the
    object changed since that version was built (its new version is queued), these
    chunks hold the new bytes, with their content hash, until that ingestion replaces
    them.
    """
    path = object_path(deps, doc)
    if not path.is_file():
        raise ObjectMissingError(f"object '{doc.key}' is no longer in bucket '{doc.bucket}'")
    content_hash = hash_file(path)
    parsed = parse_document(deps, doc, path)
    as_served, parsed, drafts, doc_type = chunked(
        deps, replace(doc, roles=doc.served_roles), parsed
    )
    if not drafts:
        raise EmptyDocumentError("the document has no text to index")
    return build_chunks(
        deps,
        as_served,
        parsed,
        drafts,
        version=doc.indexed_version,
        content_hash=content_hash,
        doc_type=doc_type,
    )
