"""Request and response bodies: the public contract, as OpenAPI shows it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"


def _utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; they are UTC, and the contract says so."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


class BucketCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=_NAME, examples=["handbook"])
    roles: list[str] = Field(min_length=1, description="Roles that may read its documents.")
    doc_type: str | None = Field(default=None, description="Chunking strategy for its documents.")
    source: str | None = Field(default=None, description="A local folder that holds its objects.")


class BucketOut(BaseModel):
    name: str
    roles: list[str]
    doc_type: str | None
    source: str | None


class DocumentAccepted(BaseModel):
    document_id: str
    status: Literal["queued", "processing", "indexed", "failed"]


class DocumentOut(BaseModel):
    document_id: str
    bucket: str
    source: str
    title: str | None
    roles: list[str]
    doc_type: str | None
    format: str | None
    status: Literal["queued", "processing", "indexed", "failed"]
    version: int
    chunks: int | None = None
    error: str | None = None
    error_code: str | None = None
    attempts: int
    parent_id: str | None = None
    updated_at: UtcDatetime
    indexed_at: UtcDatetime | None


class DocumentList(BaseModel):
    documents: list[DocumentOut]


class AskFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    doc_type: list[str] | None = None
    bucket: list[str] | None = None


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, examples=["How many vacation days do employees get?"])
    top_k: int | None = Field(default=None, ge=1, le=50)
    filters: AskFilters | None = None


class Citation(BaseModel):
    document_id: str
    source: str | None
    title: str | None
    page: int | None
    section: str | None
    chunk_id: str
    text: str
    score: float


class GroundingOut(BaseModel):
    score: float = Field(ge=0, le=1)
    unsupported: list[str]


class AskResponse(BaseModel):
    answer_id: str
    answer: str
    found: bool = Field(description="False when nothing relevant was found (the answer says so).")
    citations: list[Citation]
    grounding: GroundingOut
    model: str
    latency_ms: float


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody
