"""What answering needs from the rooms around it, as narrow interfaces.

The composition root (``ragline.runtime``) plugs in the real ones: the prompt book
(``prompts``), the budget guard and usage ledger (``usage``), the registry's bucket
policies (``ingest``), the LiteLLM gateway (``generation``). Answering without a
models file needs none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from generation.gateway import Generation, ModelGateway
from generation.routing import BucketPolicy
from retrieval.access import Principal

if TYPE_CHECKING:
    from answer.service import Answer


class ResolvedPrompt(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def label(self) -> str: ...
    @property
    def system(self) -> str: ...
    @property
    def user(self) -> str: ...


class PromptSource(Protocol):
    def resolve(self, name: str, sticky_key: str) -> ResolvedPrompt:
        """The version of prompt ``name`` this caller gets (its label, or a split's pick)."""
        ...


@dataclass(frozen=True, slots=True)
class BudgetVerdict:
    action: Literal["allow", "downgrade", "refuse"]
    message: str | None = None
    warnings: tuple[str, ...] = ()


class BudgetCheck(Protocol):
    def __call__(self, principal: Principal) -> BudgetVerdict: ...


class UsageSink(Protocol):
    def __call__(self, answer_id: str, principal: Principal, generation: Generation) -> None: ...


class BucketPolicies(Protocol):
    def __call__(self, buckets_named: Iterable[str]) -> dict[str, BucketPolicy]: ...


class PiiRedaction(Protocol):
    """One request's placeholders (``governance.pii.Redaction``): a value keeps its placeholder."""

    def redact(self, text: str) -> str: ...

    def restore(self, text: str) -> str: ...

    @property
    def counts(self) -> dict[str, int]: ...


class RecordQueue(Protocol):
    """Where an answer's record is written (``governance.record_writer``): behind the answer.

    ``submit`` runs the job later, in order, or at once; either way exactly once.
    """

    def submit(self, job: Callable[[], None]) -> None: ...


class PiiFound(Protocol):
    @property
    def entity_type(self) -> str: ...


class PiiScreen(Protocol):
    """Finds personal data (``governance.pii.PiiDetector``) and opens a redaction per request."""

    def find(self, text: str) -> Sequence[PiiFound]: ...

    def redaction(self) -> PiiRedaction: ...


@dataclass(frozen=True)
class GenerationDeps:
    """Everything a generated answer needs; None on the service means extractive only."""

    gateway: ModelGateway
    prompts: PromptSource
    check_budget: BudgetCheck
    record_usage: UsageSink
    bucket_policies: BucketPolicies


class AnswerObserver(Protocol):
    """Told of every answer given (``observability.answer_metrics``): metrics, not records.

    ``stages`` holds the seconds spent in each stage that ran (retrieve, generate or
    extract, ground, redact, record); ``team`` is the caller's. It is called after the
    answer is recorded; whatever it raises is logged and the answer still returned.
    """

    def observe(self, answer: Answer, stages: Mapping[str, float], team: str) -> None: ...


class ReleaseAssignment(Protocol):
    """What a release changes for one request (``releases.router.Assignment``).

    None in a field means: as the service is configured. ``release_id`` None: no
    release is current yet, the service's own settings answer.
    """

    @property
    def release_id(self) -> str | None: ...
    @property
    def version(self) -> int | None: ...
    @property
    def arm(self) -> str: ...
    @property
    def prompt(self) -> ResolvedPrompt | None: ...
    @property
    def route(self) -> str | None: ...
    @property
    def extractive(self) -> bool: ...
    @property
    def top_k(self) -> int | None: ...
    @property
    def fusion(self) -> str | None: ...
    @property
    def dense_weight(self) -> float | None: ...
    @property
    def min_relevance(self) -> float | None: ...
    @property
    def min_grounding(self) -> float | None: ...


class ReleaseRouting(Protocol):
    """Picks the release a caller's request answers with, and counts how it went
    (``releases.router.ReleaseRouter``): what the rollout's gates judge."""

    def assign(self, principal: Principal) -> ReleaseAssignment | None: ...

    def count(
        self,
        assignment: ReleaseAssignment,
        *,
        error: bool,
        degraded: bool = False,
        abstained: bool = False,
        grounding: float | None = None,
        latency_s: float = 0.0,
        cost_usd: float = 0.0,
    ) -> None: ...
