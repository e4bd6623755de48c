from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, status
from starlette.concurrency import run_in_threadpool

from api.caller_audit import CallerAuditDep, actor_of
from api.deps import AdminDep, EnqueueDep, IngestionDep, PrincipalDep, RegistryDep, ServicesDep
from api.schemas import DocumentAccepted, DocumentList, DocumentOut, ErrorOut
from governance.erasure_port import DocumentErasure
from ingest import pipeline, registration
from ingest.answer_erasure import attachment_ids, erase_answer_records
from ingest.ports import DocumentRegistry
from ingest.records import Document
from kernel.errors import NotFoundError
from kernel.settings import ADMIN_ROLE
from retrieval.access import Principal

router = APIRouter(tags=["documents"])
MAX_OFFSET = 1_000_000


def _erasure(services: ServicesDep) -> DocumentErasure:
    return services.erasure


ErasureDep = Annotated[DocumentErasure, Depends(_erasure)]


def _visible(principal: Principal, doc: Document) -> bool:
    """Admins see every document's status; others only documents they could read."""
    return principal.has_role(ADMIN_ROLE) or doc.listable_by(principal.roles)


def _document_out(doc: Document, principal: Principal) -> DocumentOut:
    """The record as ``principal`` may see it: what was read from the content (a
    parsed title, the detected type, the format, the chunk count) only from a version
    served to the caller. A document re-uploaded under new roles keeps its old
    version until the new one commits; its old title is not the new roles' to read."""
    content = principal.has_role(ADMIN_ROLE) or doc.content_readable_by(principal.roles)
    return DocumentOut(
        document_id=doc.id,
        bucket=doc.bucket,
        source=doc.key,
        title=doc.title or (doc.parsed_title if content else None),
        roles=list(doc.roles),
        doc_type=(doc.detected_type if content else None) or doc.doc_type,
        format=doc.format if content else None,
        status=doc.status,
        version=doc.indexed_version,
        chunks=doc.chunks if doc.indexed_version and content else None,
        error=doc.error if doc.status == "failed" else None,
        error_code=doc.error_code if doc.status == "failed" else None,
        attempts=doc.attempts,
        parent_id=doc.parent_id,
        declared_type=doc.declared_type,
        updated_at=doc.updated_at,
        indexed_at=doc.indexed_at,
    )


def _get_visible(registry: DocumentRegistry, principal: Principal, document_id: str) -> Document:
    doc = registry.get(document_id)
    if not _visible(principal, doc):
        # Same answer as for a missing document: existence is not disclosed.
        raise NotFoundError(f"document '{document_id}' not found")
    return doc


@router.get(
    "/documents/{document_id}",
    response_model=DocumentOut,
    responses={404: {"model": ErrorOut}},
    summary="A document's ingestion status",
)
def get_document(document_id: str, principal: PrincipalDep, registry: RegistryDep) -> DocumentOut:
    return _document_out(_get_visible(registry, principal, document_id), principal)


@router.get(
    "/documents", response_model=DocumentList, summary="List documents, e.g. the failed ones"
)
def list_documents(
    principal: PrincipalDep,
    registry: RegistryDep,
    status_: Annotated[
        Literal["queued", "processing", "indexed", "failed"] | None, Query(alias="status")
    ] = None,
    bucket: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> DocumentList:
    # Visibility applies before the page is cut: full pages, and no count of hidden rows.
    readable_by = None if principal.has_role(ADMIN_ROLE) else principal.roles
    docs = registry.list_documents(
        status=status_, bucket=bucket, limit=limit, offset=offset, readable_by=readable_by
    )
    return DocumentList(documents=[_document_out(d, principal) for d in docs])


@router.delete(
    "/documents/{document_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"model": ErrorOut}},
    summary="Remove a document from its bucket and the index (admin)",
)
async def delete_document(
    document_id: str,
    admin: AdminDep,
    ingestion: IngestionDep,
    registry: RegistryDep,
    audit: CallerAuditDep,
    erasure: ErasureDep,
) -> None:
    # Attachments go with the document; their ids are known only until it is deleted.
    attachments = await run_in_threadpool(attachment_ids, registry, document_id)
    await run_in_threadpool(pipeline.delete_document, ingestion, document_id)
    await audit.arecord("document.delete", document_id)
    await run_in_threadpool(
        erase_answer_records, erasure, document_id, attachments, actor_of(admin)
    )


@router.post(
    "/documents/{document_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DocumentAccepted,
    responses={404: {"model": ErrorOut}},
    summary="Queue a document for ingestion again (admin)",
)
def retry_document(
    document_id: str, _: AdminDep, registry: RegistryDep, enqueue: EnqueueDep
) -> DocumentAccepted:
    doc = registration.retry_document(registry, enqueue, document_id)
    return DocumentAccepted(document_id=doc.id, status=doc.status)
