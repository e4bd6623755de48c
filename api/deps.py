"""Dependencies: the services built once at start-up, and the authenticated caller."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from answer.service import AnswerService
from api.auth import PRINCIPAL_STATE_KEY, KeyRing
from governance.audit_port import AuditTrail
from governance.erasure_port import DocumentErasure
from governance.keys import KeyStore
from governance.review import ReviewQueue
from governance.tokens import TokenVerifier
from ingest.pipeline import IngestionDeps
from ingest.ports import Buckets, DocumentRegistry, RefreshLog, ScheduleBook
from ingest.reindex import ReindexLog
from kernel.errors import AuthenticationError, PermissionDeniedError
from kernel.settings import ADMIN_ROLE, KeyIdentity, Settings
from observability.latency_slo import LatencyWindow
from observability.metrics import Metrics
from prompts.book import PromptBook
from releases.service import ReleaseService
from retrieval.access import Principal
from usage.budgets import BudgetGuard


@dataclass(frozen=True)
class AppServices:
    """What the process wiring hands the API, built once at start-up (``ragline.service``)."""

    settings: Settings
    registry: DocumentRegistry
    ingestion: IngestionDeps
    answers: AnswerService
    enqueue_ingest: Callable[[str], None]
    keys: dict[str, KeyIdentity]
    # Readiness of ingestion: {"broker": ..., "worker": ...}, each "ok" or "unavailable".
    ingestion_checks: Callable[[], dict[str, str]]
    # True while /ask can answer with the registry down: retrieval's gate remembers
    # documents it served recently (retrieval.served_memory).
    answers_without_registry: Callable[[], bool]
    refresh_runs: RefreshLog
    schedules: ScheduleBook
    enqueue_refresh: Callable[[str], None]
    reindex_runs: ReindexLog
    enqueue_reindex: Callable[[str], None]
    # Versioned prompts, labels and traffic splits (prompts.book).
    prompts: PromptBook
    # Releases with staged rollout and gates (releases.service).
    releases: ReleaseService
    # The human review queue and answer feedback (governance.review).
    review: ReviewQueue
    # The hash-chained audit log (governance.audit_log): events and answer records.
    audit: AuditTrail
    # Erases a deleted document from the answer records citing it (governance.erasure).
    erasure: DocumentErasure
    # This process's Prometheus series (observability.metrics), served on GET /metrics.
    metrics: Metrics
    # Recent latencies of the routes with objectives (observability.latency_slo): GET /slo.
    latency: LatencyWindow
    # Budgets of the models file (usage.budgets); None: no models file, no budgets.
    budgets: BudgetGuard | None = None
    # Managed API keys (governance.keys); None: only the configured keys.
    managed_keys: KeyStore | None = None
    # OIDC/JWT bearer tokens (governance.tokens); None: tokens are off.
    tokens: TokenVerifier | None = None


def get_services(request: Request) -> AppServices:
    services: AppServices = request.app.state.services
    return services


ServicesDep = Annotated[AppServices, Depends(get_services)]


def _settings(services: ServicesDep) -> Settings:
    return services.settings


def _registry(services: ServicesDep) -> DocumentRegistry:
    return services.registry


def _ingestion(services: ServicesDep) -> IngestionDeps:
    return services.ingestion


def _buckets(services: ServicesDep) -> Buckets:
    return services.ingestion.buckets


def _answers(services: ServicesDep) -> AnswerService:
    return services.answers


def _enqueue(services: ServicesDep) -> Callable[[str], None]:
    return services.enqueue_ingest


def _refresh_runs(services: ServicesDep) -> RefreshLog:
    return services.refresh_runs


def _schedules(services: ServicesDep) -> ScheduleBook:
    return services.schedules


def _enqueue_refresh(services: ServicesDep) -> Callable[[str], None]:
    return services.enqueue_refresh


def _reindex_runs(services: ServicesDep) -> ReindexLog:
    return services.reindex_runs


def _enqueue_reindex(services: ServicesDep) -> Callable[[str], None]:
    return services.enqueue_reindex


def _prompts(services: ServicesDep) -> PromptBook:
    return services.prompts


def _releases(services: ServicesDep) -> ReleaseService:
    return services.releases


def _review(services: ServicesDep) -> ReviewQueue:
    return services.review


def _audit(services: ServicesDep) -> AuditTrail:
    return services.audit


def get_budget_guard(services: ServicesDep) -> BudgetGuard | None:
    return services.budgets


SettingsDep = Annotated[Settings, Depends(_settings)]
RegistryDep = Annotated[DocumentRegistry, Depends(_registry)]
IngestionDep = Annotated[IngestionDeps, Depends(_ingestion)]
BucketsDep = Annotated[Buckets, Depends(_buckets)]
AnswersDep = Annotated[AnswerService, Depends(_answers)]
EnqueueDep = Annotated[Callable[[str], None], Depends(_enqueue)]
RefreshRunsDep = Annotated[RefreshLog, Depends(_refresh_runs)]
SchedulesDep = Annotated[ScheduleBook, Depends(_schedules)]
EnqueueRefreshDep = Annotated[Callable[[str], None], Depends(_enqueue_refresh)]
ReindexRunsDep = Annotated[ReindexLog, Depends(_reindex_runs)]
EnqueueReindexDep = Annotated[Callable[[str], None], Depends(_enqueue_reindex)]
PromptsDep = Annotated[PromptBook, Depends(_prompts)]
ReleasesDep = Annotated[ReleaseService, Depends(_releases)]
ReviewDep = Annotated[ReviewQueue, Depends(_review)]
AuditDep = Annotated[AuditTrail, Depends(_audit)]
BudgetsDep = Annotated[BudgetGuard | None, Depends(get_budget_guard)]

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer <key>`")


def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller the edge guard authenticated before the body was read (api/edge_guard.py)."""
    principal = getattr(request.state, PRINCIPAL_STATE_KEY, None)
    if isinstance(principal, Principal):
        return principal
    if credentials is None or not credentials.credentials:
        raise AuthenticationError("missing API key: send 'Authorization: Bearer <key>'")
    keyring: KeyRing = request.app.state.edge.keyring
    return keyring.from_key(credentials.credentials)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_admin(principal: PrincipalDep) -> Principal:
    if not principal.has_role(ADMIN_ROLE):
        raise PermissionDeniedError(f"this needs the '{ADMIN_ROLE}' role")
    return principal


AdminDep = Annotated[Principal, Depends(require_admin)]
