"""A bucket as an operator watches it: freshness, schedule, refresh runs (admin)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from api.caller_audit import CallerAuditDep
from api.deps import (
    AdminDep,
    BucketsDep,
    EnqueueRefreshDep,
    RefreshRunsDep,
    RegistryDep,
    SchedulesDep,
    SettingsDep,
)
from api.schemas import (
    BucketDetail,
    ErrorOut,
    FreshnessOut,
    RefreshFailureOut,
    RefreshList,
    RefreshOut,
    ScheduleIn,
    ScheduleOut,
)
from ingest.freshness import bucket_freshness
from ingest.ports import DocumentRegistry, RefreshLog, ScheduleBook
from ingest.records import Bucket, RefreshRun, Schedule
from ingest.refresh import request_refresh
from ingest.scheduling import set_schedule
from kernel.errors import NotFoundError
from kernel.settings import Settings

router = APIRouter(tags=["refresh"])
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut}}


def refresh_out(run: RefreshRun) -> RefreshOut:
    c = run.counts
    return RefreshOut(
        refresh_id=run.id,
        bucket=run.bucket,
        trigger=run.trigger,
        status=run.status,
        queued_at=run.queued_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        total=run.total,
        done=run.done,
        new=c.new,
        changed=c.changed,
        deleted=c.deleted,
        unchanged=c.unchanged,
        failed=c.failed,
        failures=[
            RefreshFailureOut(key=f.key, code=f.code, message=f.message) for f in run.failures
        ],
        error=run.error,
    )


def _schedule_out(schedule: Schedule) -> ScheduleOut:
    return ScheduleOut(
        bucket=schedule.bucket,
        every_s=schedule.every_s,
        cron=schedule.cron,
        timezone=schedule.timezone,
        next_run_at=schedule.next_run_at,
    )


@router.get(
    "/buckets/{name}",
    response_model=BucketDetail,
    responses=_NOT_FOUND,
    summary="A bucket with its index lag, schedule and last refresh (admin)",
)
def get_bucket(
    name: str,
    _: AdminDep,
    settings: SettingsDep,
    catalog: BucketsDep,
    registry: RegistryDep,
    runs: RefreshRunsDep,
    book: SchedulesDep,
) -> BucketDetail:
    return bucket_detail(
        catalog.get_bucket(name), settings, registry, runs, book, datetime.now(UTC)
    )


def bucket_detail(
    bucket: Bucket,
    settings: Settings,
    registry: DocumentRegistry,
    runs: RefreshLog,
    book: ScheduleBook,
    now: datetime,
) -> BucketDetail:
    """The bucket as ``GET /buckets/{name}`` shows it (``ragline buckets`` shows the same)."""
    fresh = bucket_freshness(
        registry, runs, bucket, default_max_lag_s=settings.refresh.default_max_lag_s, now=now
    )
    schedule = book.find(bucket.name)
    latest = runs.list_runs(bucket.name, limit=1)
    return BucketDetail(
        name=bucket.name,
        roles=list(bucket.roles),
        doc_type=bucket.doc_type,
        source=bucket.source,
        max_lag_s=bucket.max_lag_s,
        freshness=FreshnessOut(
            lag_s=fresh.lag_s,
            max_lag_s=fresh.max_lag_s,
            over_sla=fresh.over_sla,
            pending=fresh.pending,
            failed=fresh.failed,
            last_refresh_at=fresh.last_refresh_at,
        ),
        schedule=_schedule_out(schedule) if schedule else None,
        last_refresh=refresh_out(latest[0]) if latest else None,
    )


@router.post(
    "/buckets/{name}/refresh",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RefreshOut,
    responses=_NOT_FOUND,
    summary="Refresh a bucket now; a refresh already queued or running is returned (admin)",
)
def refresh_now(
    name: str,
    _: AdminDep,
    catalog: BucketsDep,
    runs: RefreshRunsDep,
    enqueue: EnqueueRefreshDep,
) -> RefreshOut:
    run, created = request_refresh(catalog, runs, name, "api", datetime.now(UTC))
    if created:
        enqueue(run.id)
    return refresh_out(run)


@router.get(
    "/buckets/{name}/refreshes",
    response_model=RefreshList,
    responses=_NOT_FOUND,
    summary="A bucket's refreshes, newest first (admin)",
)
def list_refreshes(
    name: str,
    _: AdminDep,
    catalog: BucketsDep,
    runs: RefreshRunsDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> RefreshList:
    catalog.get_bucket(name)
    return RefreshList(refreshes=[refresh_out(r) for r in runs.list_runs(name, limit)])


@router.get(
    "/buckets/{name}/refreshes/{refresh_id}",
    response_model=RefreshOut,
    responses=_NOT_FOUND,
    summary="One refresh, with its progress (admin)",
)
def get_refresh(name: str, refresh_id: str, _: AdminDep, runs: RefreshRunsDep) -> RefreshOut:
    run = runs.get(refresh_id)
    if run.bucket != name:
        raise NotFoundError(f"refresh '{refresh_id}' not found")
    return refresh_out(run)


@router.put(
    "/buckets/{name}/schedule",
    response_model=ScheduleOut,
    responses={**_NOT_FOUND, 422: {"model": ErrorOut}},
    summary="Refresh a bucket on a schedule: every period, or on a cron expression (admin)",
)
def put_schedule(
    name: str,
    body: ScheduleIn,
    _: AdminDep,
    settings: SettingsDep,
    catalog: BucketsDep,
    book: SchedulesDep,
    audit: CallerAuditDep,
) -> ScheduleOut:
    schedule = set_schedule(
        book,
        catalog,
        name,
        every=body.every,
        cron=body.cron,
        timezone=body.timezone,
        min_every_s=settings.refresh.min_every_s,
        now=datetime.now(UTC),
    )
    audit.record("bucket.schedule", name, every=body.every, cron=body.cron, timezone=body.timezone)
    return _schedule_out(schedule)


@router.get(
    "/buckets/{name}/schedule",
    response_model=ScheduleOut,
    responses=_NOT_FOUND,
    summary="A bucket's schedule (admin)",
)
def get_schedule(name: str, _: AdminDep, catalog: BucketsDep, book: SchedulesDep) -> ScheduleOut:
    catalog.get_bucket(name)
    return _schedule_out(book.get(name))


@router.delete(
    "/buckets/{name}/schedule",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_NOT_FOUND,
    summary="Stop refreshing a bucket on a schedule (admin)",
)
def delete_schedule(
    name: str, _: AdminDep, catalog: BucketsDep, book: SchedulesDep, audit: CallerAuditDep
) -> None:
    catalog.get_bucket(name)
    book.delete(name)
    audit.record("bucket.schedule", name, removed=True)
