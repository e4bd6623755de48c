from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile, status
from starlette.concurrency import run_in_threadpool

from api.caller_audit import CallerAuditDep
from api.deps import AdminDep, BucketsDep, EnqueueDep, IngestionDep, SettingsDep
from api.schemas import BucketCreate, BucketOut, DocumentAccepted, ErrorOut
from ingest import buckets
from ingest.records import Bucket
from ingest.registration import accept_upload
from kernel.errors import InvalidInputError

router = APIRouter(tags=["buckets"])


def _bucket_out(bucket: Bucket) -> BucketOut:
    return BucketOut(
        name=bucket.name,
        roles=list(bucket.roles),
        doc_type=bucket.doc_type,
        source=bucket.source,
        max_lag_s=bucket.max_lag_s,
        region=bucket.region,
        sensitivity=bucket.sensitivity,
        pii=bucket.pii,
    )


def _parse_roles(raw: str | None) -> list[str] | None:
    """Roles as a JSON list or a comma-separated string; None when not given."""
    if raw is None or not raw.strip():
        return None
    raw = raw.strip()
    if raw.startswith("["):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            raise InvalidInputError("roles must be a JSON list or comma-separated") from None
        if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
            raise InvalidInputError("roles must be a list of strings")
        roles = value
    else:
        roles = raw.split(",")
    cleaned = sorted({r.strip() for r in roles if r.strip()})
    if not cleaned:
        raise InvalidInputError("roles must not be empty")
    return cleaned


@router.post(
    "/buckets",
    status_code=status.HTTP_201_CREATED,
    response_model=BucketOut,
    responses={403: {"model": ErrorOut}, 409: {"model": ErrorOut}},
    summary="Create an ingestion bucket (admin)",
)
def create_bucket(
    body: BucketCreate, _: AdminDep, ingestion: IngestionDep, audit: CallerAuditDep
) -> BucketOut:
    bucket = _bucket_out(
        buckets.create_bucket(
            ingestion,
            body.name,
            body.roles,
            body.doc_type,
            body.source,
            body.max_lag_s,
            region=body.region,
            sensitivity=body.sensitivity,
            pii=body.pii,
        )
    )
    audit.record(
        "bucket.create",
        bucket.name,
        roles=bucket.roles,
        source=bucket.source,
        region=bucket.region,
        pii=bucket.pii,
    )
    return bucket


@router.get("/buckets", response_model=list[BucketOut], summary="List buckets (admin)")
def list_buckets(_: AdminDep, catalog: BucketsDep) -> list[BucketOut]:
    return [_bucket_out(b) for b in catalog.list_buckets()]


@router.post(
    "/buckets/{name}/documents",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DocumentAccepted,
    responses={
        403: {"model": ErrorOut},
        404: {"model": ErrorOut},
        409: {"model": ErrorOut},
        413: {"model": ErrorOut},
        422: {"model": ErrorOut},
    },
    summary="Upload a document; it is ingested in the background (admin)",
)
async def upload_document(
    name: str,
    _: AdminDep,
    settings: SettingsDep,
    catalog: BucketsDep,
    ingestion: IngestionDep,
    enqueue: EnqueueDep,
    audit: CallerAuditDep,
    file: Annotated[UploadFile, File(description="The document")],
    roles: Annotated[str | None, Form(description="Override the bucket's roles")] = None,
    doc_type: Annotated[str | None, Form()] = None,
    title: Annotated[str | None, Form()] = None,
) -> DocumentAccepted:
    # An over-limit Content-Length never gets here: api/edge_guard.py answers 413 first.
    registration = await run_in_threadpool(
        accept_upload,
        ingestion,
        catalog.get_bucket(name),
        file.filename or "",
        file.file,
        roles=_parse_roles(roles),
        doc_type=doc_type,
        title=title,
        max_bytes=int(settings.limits.max_upload_mb * 1_000_000),
    )
    if registration.needs_ingest:
        enqueue(registration.document.id)
    doc = registration.document
    await audit.arecord(
        "document.upload", doc.id, bucket=name, key=doc.key, changed=registration.needs_ingest
    )
    return DocumentAccepted(
        document_id=registration.document.id, status=registration.document.status
    )
