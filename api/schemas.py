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
    source: str | None = Field(
        default=None,
        description="Where its objects live: an absolute folder, or s3://bucket/prefix.",
    )
    max_lag_s: int | None = Field(
        default=None,
        ge=1,
        description="Freshness SLA: the oldest change allowed to be unsearchable, in seconds "
        "(default: the server's RAGLINE_REFRESH__DEFAULT_MAX_LAG_S).",
    )
    region: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$",
        description="Data residency: its text is only sent to model deployments of this "
        "region (the models file's `region`); none allowed up, the answer is extractive.",
    )
    sensitivity: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$",
        description="A label the models file's `routing.sensitivity_tiers` maps to a tier.",
    )
    pii: Literal["allow", "redact", "block"] = Field(
        default="allow",
        description="`redact`: personal data in its documents is replaced by typed "
        "placeholders before anything is indexed (search, answers and models never see it); "
        "`block`: a document holding personal data fails as `personal_data_refused`.",
    )


class BucketOut(BaseModel):
    name: str
    roles: list[str]
    doc_type: str | None
    source: str | None
    max_lag_s: int | None = None
    region: str | None = None
    sensitivity: str | None = None
    pii: str = "allow"


class FreshnessOut(BaseModel):
    lag_s: float = Field(description="Age of the oldest change not yet searchable; 0: none.")
    max_lag_s: int
    over_sla: bool
    pending: int = Field(description="Documents queued or being ingested.")
    failed: int = Field(description="Documents whose last ingestion failed.")
    last_refresh_at: datetime | None


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    every: str | None = Field(
        default=None, examples=["15m"], description="A period: 90s, 15m, 1h30m, 1d."
    )
    cron: str | None = Field(default=None, examples=["*/30 * * * *"])
    timezone: str | None = Field(default=None, examples=["Europe/Zurich"], description="For cron.")


class ScheduleOut(BaseModel):
    bucket: str
    every_s: int | None
    cron: str | None
    timezone: str
    next_run_at: datetime


class RefreshFailureOut(BaseModel):
    key: str
    code: str
    message: str


class RefreshOut(BaseModel):
    refresh_id: str
    bucket: str
    trigger: str
    status: Literal["queued", "running", "finished", "failed", "skipped"]
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    total: int
    done: int
    new: int
    changed: int
    deleted: int
    unchanged: int
    failed: int
    failures: list[RefreshFailureOut]
    error: str | None


class RefreshList(BaseModel):
    refreshes: list[RefreshOut]


class BucketDetail(BucketOut):
    freshness: FreshnessOut
    schedule: ScheduleOut | None
    last_refresh: RefreshOut | None


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
    # The content type the container (an e-mail, an Outlook message) declared for this
    # attachment, as detection weighed it; None for uploads and undeclared parts.
    declared_type: str | None = None
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
    stream: bool = Field(
        default=False,
        description="Answer as Server-Sent Events: `token` events as the model writes, then "
        "one `answer` event with the whole response (citations, grounding, usage). The "
        "`answer` event is authoritative: citations are repaired and the grounding policy "
        "applied after generation.",
    )


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


class UsageOut(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float = Field(description="At the models file's prices for the deployment.")


class PromptOut(BaseModel):
    name: str
    version: int
    label: str


class ReleaseRefOut(BaseModel):
    id: str = Field(description="The release whose bundle answered, e.g. rel-3.")
    version: int
    arm: str = Field(description="candidate (being rolled out) or current.")


class AskResponse(BaseModel):
    answer_id: str
    answer: str
    found: bool = Field(description="False when nothing relevant was found (the answer says so).")
    citations: list[Citation]
    grounding: GroundingOut
    model: str = Field(description="The deployment that answered, or `extractive`.")
    latency_ms: float
    degraded: bool = Field(
        default=False,
        description="True when a configured model could not answer (every deployment "
        "failed, none allowed by residency) and the extractive answer stands in.",
    )
    degraded_reason: str | None = None
    usage: UsageOut | None = Field(default=None, description="Generated answers only.")
    prompt: PromptOut | None = Field(default=None, description="The prompt version used.")
    failed_deployments: list[str] = Field(
        default_factory=list, description="Deployments tried before the one that answered."
    )
    citations_removed: int = Field(
        default=0, description="Citations the model made to sources it was not given."
    )
    grounding_action: str | None = Field(
        default=None,
        description="What the low-grounding policy did: flagged, abstained or extractive.",
    )
    budget_warnings: list[str] = Field(default_factory=list)
    release: ReleaseRefOut | None = Field(
        default=None,
        description="The release that answered (`ragline release`); null: no release is"
        " current yet and the service's own settings answered.",
    )


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody
