"""Wiring of generated answers: the models file, the gateway, prompts, budgets, usage.

No models file (the embedded default): nothing here is built, and answers are
extractive. With one, a mistake in it (or a key variable that is not set) stops the
process at start-up with the reason, before any request depends on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from answer.ports import BudgetVerdict, GenerationDeps
from generation.gateway import Generation
from generation.litellm_gateway import LiteLLMGateway
from generation.routing import BucketPolicy
from governance.keys import MANAGED_ID_PREFIX, KeyStore
from ingest.ports import Buckets
from kernel.errors import NotFoundError
from kernel.models_config import Limits, ModelsFile, load_models_file
from kernel.settings import Settings
from prompts.book import PromptBook
from retrieval.access import Principal
from usage.budgets import BudgetGuard
from usage.ledger import UsageEvent, UsageLedger


@dataclass(frozen=True)
class Generating:
    """What the process holds when a models file is configured."""

    models: ModelsFile
    deps: GenerationDeps
    guard: BudgetGuard
    ledger: UsageLedger


def open_generation(
    settings: Settings,
    prompts: PromptBook,
    buckets: Buckets,
    ledger: UsageLedger,
    managed_keys: KeyStore | None = None,
) -> Generating | None:
    if settings.models_file is None:
        return None
    models = load_models_file(settings.models_file)
    gateway = LiteLLMGateway(models)

    def key_limits(key_id: str) -> Limits | None:
        """A managed key's own budget; None for a configured key or a token."""
        if managed_keys is None or not key_id.startswith(MANAGED_ID_PREFIX):
            return None
        try:
            budget = managed_keys.get(key_id).budget
        except NotFoundError:
            return None
        return Limits(**budget) if budget else None

    guard = BudgetGuard(ledger, models.budgets, key_limits=key_limits)

    def check_budget(principal: Principal) -> BudgetVerdict:
        decision = guard.check(
            key_id=principal.key_id, key_name=principal.name, team=principal.team
        )
        return BudgetVerdict(decision.action, decision.message, tuple(decision.warnings))

    def record_usage(answer_id: str, principal: Principal, generation: Generation) -> None:
        ledger.record(
            UsageEvent(
                answer_id=answer_id,
                key_id=principal.key_id,
                key_name=principal.name,
                team=principal.team,
                deployment=generation.deployment,
                prompt_tokens=generation.prompt_tokens,
                completion_tokens=generation.completion_tokens,
                cost_usd=generation.cost_usd,
                created_at=datetime.now(UTC),
            )
        )

    def bucket_policies(buckets_named: Iterable[str]) -> dict[str, BucketPolicy]:
        found = {name: buckets.find_bucket(name) for name in buckets_named}
        return {
            name: BucketPolicy(region=b.region, sensitivity=b.sensitivity)
            for name, b in found.items()
            if b is not None
        }

    deps = GenerationDeps(
        gateway=gateway,
        prompts=prompts,
        check_budget=check_budget,
        record_usage=record_usage,
        bucket_policies=bucket_policies,
    )
    return Generating(models=models, deps=deps, guard=guard, ledger=ledger)
