"""Refresh: make a bucket's documents and chunks match what the bucket holds now.

The bucket is the source of truth. A refresh lists it, registers every new or
changed object (a changed listing tag, then a changed content hash), removes the
documents whose objects are gone, skips the rest without reading them, queues the
ingestions and waits for them to settle, then records what it found.

Safety, in order of importance:
- Access: a known document keeps the roles and type it has in the registry (an
  upload may have narrowed them below the bucket's); only a new object takes the
  bucket's roles. Removal goes through ``remove_document``, registry row first.
- One refresh per bucket at a time: the run holds the bucket's lease in the
  database, renewed while it waits; a second request gets the live run back.
- A listing that fails deletes nothing. A document registered after the listing
  began is never removed for being absent from it (an upload racing the refresh).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from governance.audit_port import SYSTEM_ACTOR
from ingest.answer_erasure import attachment_ids, erase_answer_records
from ingest.content_hash import hash_file
from ingest.leases import LeaseKeeper
from ingest.pipeline import IngestionDeps, ingest_document, remove_document
from ingest.ports import Buckets, ListedObject, RefreshLog
from ingest.records import (
    Bucket,
    Document,
    RefreshCounts,
    RefreshFailure,
    RefreshRun,
    RefreshStatus,
)
from ingest.registration import register_object
from kernel.errors import DependencyUnavailableError, InvalidInputError, NotFoundError

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# Queue a registered document's ingestion (a Celery task, or a direct call in the CLI).
Submit = Callable[[str], None]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RefreshPolicy:
    lease_s: int = 120
    # How long a refresh waits for its ingestions before it records them as pending.
    settle_timeout_s: float = 3600.0
    poll_s: float = 0.5


def ingest_inline(deps: IngestionDeps) -> Submit:
    """A ``Submit`` that ingests here and now, attachments included (the CLI, tests)."""

    def submit(document_id: str) -> None:
        pending = [document_id]
        while pending:
            pending.extend(ingest_document(deps, pending.pop()).children)

    return submit


def request_refresh(
    buckets: Buckets, runs: RefreshLog, name: str, trigger: str, now: datetime
) -> tuple[RefreshRun, bool]:
    """Queue a refresh of ``name`` (NotFoundError if unknown): (run, True), or the live
    run already queued or running and False; the caller sends a task only for True."""
    buckets.get_bucket(name)
    return runs.request(name, trigger, now)


@dataclass
class _Tally:
    new: int = 0
    changed: int = 0
    deleted: int = 0
    unchanged: int = 0
    failures: list[RefreshFailure] = field(default_factory=list)

    def counts(self) -> RefreshCounts:
        return RefreshCounts(
            self.new, self.changed, self.deleted, self.unchanged, len(self.failures)
        )

    @property
    def done(self) -> int:
        return self.new + self.changed + self.deleted + self.unchanged + len(self.failures)


def run_refresh(
    deps: IngestionDeps,
    runs: RefreshLog,
    run_id: str,
    *,
    submit: Submit,
    policy: RefreshPolicy = RefreshPolicy(),
    clock: Clock = utc_now,
    on_progress: Callable[[RefreshRun], None] | None = None,
    stopping: Callable[[], bool] = lambda: False,
) -> RefreshRun:
    """Carry out a queued run; returns it as recorded. Never leaves it running.

    A run already ended (a task delivered twice) is returned as it is. ``stopping``
    says the process is shutting down: the run stops waiting for its ingestions and
    is recorded as failed (they stay queued; the next refresh sees where they are).
    """
    if not runs.get(run_id).active:
        return runs.get(run_id)
    if not runs.acquire(run_id, policy.lease_s, clock()):
        if runs.get(run_id).status == "running":
            return runs.get(run_id)  # this very run, delivered twice: its holder goes on
        return runs.finish(
            run_id,
            status="skipped",
            now=clock(),
            error="another refresh of this bucket was running",
        )
    tally = _Tally()
    try:
        _reconcile(deps, runs, run_id, tally, submit, policy, clock, on_progress, stopping)
    except DependencyUnavailableError as exc:
        return _end(runs, run_id, tally, clock, "failed", exc.message)
    except BaseException:
        _end(runs, run_id, tally, clock, "failed", "stopped on an unexpected error; see the log")
        raise
    return _end(runs, run_id, tally, clock, "finished", None)


def _end(
    runs: RefreshLog,
    run_id: str,
    tally: _Tally,
    clock: Clock,
    status: RefreshStatus,
    error: str | None,
) -> RefreshRun:
    return runs.finish(
        run_id,
        status=status,
        now=clock(),
        counts=tally.counts(),
        failures=tally.failures,
        error=error,
    )


def _reconcile(
    deps: IngestionDeps,
    runs: RefreshLog,
    run_id: str,
    tally: _Tally,
    submit: Submit,
    policy: RefreshPolicy,
    clock: Clock,
    on_progress: Callable[[RefreshRun], None] | None,
    stopping: Callable[[], bool],
) -> None:
    bucket = deps.buckets.get_bucket(runs.get(run_id).bucket)
    listed_at = clock()
    listing = list(deps.store.list_objects(bucket.name, bucket.source))
    known = {
        d.key: d
        for d in deps.registry.list_documents(bucket=bucket.name, limit=1 << 40)
        if d.parent_id is None
    }
    present = {o.key for o in listing}
    gone = [d for key, d in known.items() if key not in present]
    total = len(listing) + len(gone)

    def report() -> None:
        runs.progress(run_id, total=total, done=tally.done, counts=tally.counts())
        if on_progress is not None:
            on_progress(runs.get(run_id))

    report()
    lease = LeaseKeeper(
        lambda: runs.renew(run_id, policy.lease_s, clock()), policy.lease_s, job="refresh"
    )
    waiting: dict[str, tuple[str, bool]] = {}  # document id -> (key, is new)
    for obj in listing:
        _offer(deps, bucket, obj, known.get(obj.key), tally, waiting, submit)
        lease.keep()
    for doc in gone:
        if doc.updated_at >= listed_at:
            tally.unchanged += 1  # registered after the listing began: not ours to judge
            continue
        attachments = attachment_ids(deps.registry, doc.id)
        with contextlib.suppress(NotFoundError):  # deleted meanwhile: gone either way
            remove_document(deps, doc.id)
        if deps.erasure is not None:
            erase_answer_records(deps.erasure, doc.id, attachments, SYSTEM_ACTOR)
        tally.deleted += 1
    report()
    _settle(deps, tally, waiting, policy, lease, report, stopping)


def _offer(
    deps: IngestionDeps,
    bucket: Bucket,
    obj: ListedObject,
    doc: Document | None,
    tally: _Tally,
    waiting: dict[str, tuple[str, bool]],
    submit: Submit,
) -> None:
    if doc is not None and doc.source_tag == obj.tag:
        tally.unchanged += 1
        return
    path = deps.store.path_for(bucket.name, bucket.source, obj.key)
    try:
        content_hash = hash_file(path)
    except OSError:
        tally.failures.append(
            RefreshFailure(obj.key, "unreadable", "the object could not be read from the bucket")
        )
        return
    if (
        doc is not None
        and doc.status in ("queued", "processing")
        and (doc.content_hash == content_hash)
    ):
        tally.unchanged += 1  # these bytes are being ingested already: not a change
        return
    try:
        registration = register_object(
            deps,
            bucket=bucket.name,
            key=obj.key,
            content_hash=content_hash,
            size_bytes=obj.size_bytes,
            roles=doc.roles if doc is not None else bucket.roles,
            doc_type=doc.doc_type if doc is not None else bucket.doc_type,
            title=None,
            source_tag=obj.tag,
            changed_at=obj.changed_at,
        )
    except InvalidInputError as exc:
        tally.failures.append(RefreshFailure(obj.key, exc.code, exc.message))
        return
    if not registration.needs_ingest:
        tally.unchanged += 1
        return
    waiting[registration.document.id] = (obj.key, doc is None)
    submit(registration.document.id)


def _settle(
    deps: IngestionDeps,
    tally: _Tally,
    waiting: dict[str, tuple[str, bool]],
    policy: RefreshPolicy,
    lease: LeaseKeeper,
    report: Callable[[], None],
    stopping: Callable[[], bool],
) -> None:
    """Wait for the queued ingestions; each counts as new or changed once indexed."""
    deadline = time.monotonic() + policy.settle_timeout_s
    while waiting:
        settled = False
        for document_id, (key, is_new) in list(waiting.items()):
            try:
                doc = deps.registry.get(document_id)
            except NotFoundError:
                doc = None  # deleted meanwhile: nothing left to wait for
            if doc is not None and doc.status in ("queued", "processing"):
                continue
            del waiting[document_id]
            settled = True
            if doc is not None and doc.status == "failed":
                tally.failures.append(
                    RefreshFailure(key, doc.error_code or "failed", doc.error or "failed")
                )
            elif is_new:
                tally.new += 1
            else:
                tally.changed += 1
        if settled:
            report()
        if not waiting:
            return
        if stopping():
            raise DependencyUnavailableError(
                "the worker shut down while this refresh waited for its ingestions; "
                "they stay queued and the next refresh picks up from there"
            )
        if time.monotonic() > deadline:
            for key, _ in waiting.values():
                tally.failures.append(
                    RefreshFailure(
                        key,
                        "still_pending",
                        f"not indexed within {policy.settle_timeout_s:.0f} s; it stays queued",
                    )
                )
            return
        lease.keep()
        time.sleep(policy.poll_s)
