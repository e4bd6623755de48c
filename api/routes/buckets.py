from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile, status
from starlette.concurrency import run_in_threadpool

from api.deps import AdminDep, ServicesDep
from api.schemas import BucketCreate, BucketOut, DocumentAccepted, ErrorOut
from chunkers.registry import DOC_TYPES
from ingest.registration import register_object
from ingest.registry import Bucket
from ingest.storage import registered_in, resolve_source, safe_key
from ragline.errors import InvalidInputError, PayloadTooLargeError
from ragline.settings import Settings

router = APIRouter(tags=["buckets"])
_MULTIPART_OVERHEAD = 64 * 1024


def _bucket_out(bucket: Bucket) -> BucketOut:
    return BucketOut(
        name=bucket.name, roles=list(bucket.roles), doc_type=bucket.doc_type, source=bucket.source
    )


def _source_roots(settings: Settings) -> list[Path]:
    return list(settings.buckets.allowed_roots) or [settings.data_dir / "sources"]


def _check_doc_type(doc_type: str | None) -> str | None:
    if doc_type and doc_type not in DOC_TYPES:
        raise InvalidInputError(f"unknown doc_type '{doc_type}'; use one of {', '.join(DOC_TYPES)}")
    return doc_type or None


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
def create_bucket(body: BucketCreate, _: AdminDep, services: ServicesDep) -> BucketOut:
    roles = sorted({r.strip() for r in body.roles if r.strip()})
    if not roles:
        raise InvalidInputError("a bucket needs at least one role")
    settings = services.runtime.settings
    source = (
        None
        if body.source is None
        else str(resolve_source(body.source, _source_roots(settings), settings.data_dir))
    )
    bucket = services.runtime.registry.create_bucket(
        body.name, roles, _check_doc_type(body.doc_type), source
    )
    return _bucket_out(bucket)


@router.get("/buckets", response_model=list[BucketOut], summary="List buckets (admin)")
def list_buckets(_: AdminDep, services: ServicesDep) -> list[BucketOut]:
    return [_bucket_out(b) for b in services.runtime.registry.list_buckets()]


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
    request: Request,
    _: AdminDep,
    services: ServicesDep,
    file: Annotated[UploadFile, File(description="The document")],
    roles: Annotated[str | None, Form(description="Override the bucket's roles")] = None,
    doc_type: Annotated[str | None, Form()] = None,
    title: Annotated[str | None, Form()] = None,
) -> DocumentAccepted:
    runtime = services.runtime
    max_bytes = int(runtime.settings.limits.max_upload_mb * 1_000_000)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes + _MULTIPART_OVERHEAD:
        raise PayloadTooLargeError(
            f"file is larger than the {runtime.settings.limits.max_upload_mb:.0f} MB upload limit"
        )
    bucket = runtime.registry.get_bucket(name)
    doc_roles = _parse_roles(roles) or list(bucket.roles)
    chosen_type = _check_doc_type(doc_type) or bucket.doc_type
    filename = file.filename or ""
    safe_key(filename)  # a bad name is refused before the body is copied
    stored = await run_in_threadpool(
        runtime.ingestion.store.write,
        bucket.name,
        bucket.source,
        filename,
        file.file,
        max_bytes=max_bytes,
        registered=registered_in(runtime.registry, bucket.name),
    )
    registration = register_object(
        runtime.ingestion,
        bucket=bucket.name,
        key=stored.key,
        content_hash=stored.content_hash,
        size_bytes=stored.size_bytes,
        roles=doc_roles,
        doc_type=chosen_type,
        title=title.strip() if title and title.strip() else None,
    )
    if registration.needs_ingest:
        services.enqueue_ingest(registration.document.id)
    return DocumentAccepted(
        document_id=registration.document.id, status=registration.document.status
    )
