"""LLM-as-judge scores for the answers eval: llama-index's evaluators, through the gateway.

Two verdicts per answered question, each a YES/NO from a judge model:

- *faithfulness* (llama-index's ``FaithfulnessEvaluator``): is the answer supported by
  the text of the chunks it cites? It catches what the grounding score cannot: a
  claim that shares its words with a source but not its meaning;
- *relevancy* (``RelevancyEvaluator``): do the answer and its cited text respond to
  the question?

An abstention is not judged (there is no claim to check), so the scores are over
answered questions, like ``grounding.*``. Every judge prompt goes through ragline's
model gateway (:class:`generation.gateway.ModelGateway`): fallbacks, cooldowns and the
models file's prices apply, and the route carries the cited chunks' bucket policies,
so text of a bucket pinned to a region reaches only a judge deployment of that region.
A question the judge could not score (every deployment failed, no route, bucket
policies unreadable) is recorded with the reason and left out of the means; the other
questions are still judged.

The judge is one named deployment (``--judge NAME``), not the routing default: a
score is only comparable with a score by the same judge, and the default route is the
model that wrote the answers, which grades its own work kindly. The judge's gateway
is built on :func:`judge_models`, the models file narrowed to that deployment and its
fallbacks. The llama-index adapter (``evals.judge_llm``) is imported on first use.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from answer.ports import BucketPolicies
from evals.retrieval_eval import Progress
from generation.gateway import Generation, GenerationFailedError, ModelGateway
from generation.routing import RouteRequest
from kernel.errors import DependencyUnavailableError, InvalidInputError
from kernel.models_config import Budgets, Deployment, ModelsFile, Routing

if TYPE_CHECKING:
    from llama_index.core.evaluation import EvaluationResult
    from llama_index.core.evaluation.base import BaseEvaluator

    from evals.judge_llm import GatewayLLM

ASPECTS: Final = ("faithfulness", "relevancy")
FEEDBACK_CHARS: Final = 300  # of the judge's raw reply kept in the report


@dataclass(frozen=True, slots=True)
class Judged:
    """The judge's verdicts on one answer; a verdict is None when it could not be had."""

    question_id: str
    faithful: bool | None
    relevant: bool | None
    feedback: Mapping[str, str]  # aspect -> the judge's reply, trimmed
    errors: Mapping[str, str]  # aspect -> why there is no verdict
    generations: tuple[Generation, ...]  # every judge call, in order

    @property
    def deployments(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(g.deployment for g in self.generations))

    def failures(self) -> list[str]:
        """A NO verdict, as a reason the question counts against the set."""
        reasons = []
        if self.faithful is False:
            reasons.append("judge: not supported by the cited text")
        if self.relevant is False:
            reasons.append("judge: does not respond to the question")
        return reasons


def judge_models(models: ModelsFile, deployment: str) -> ModelsFile:
    """``models`` narrowed to ``deployment`` and its fallbacks, routed to it first.

    The tier and bucket rules of the answers' routing are dropped (they choose among
    answer models, not judges); fallbacks, cooldowns, retries and regions are kept.
    Raises InvalidInputError when the models file has no such deployment.
    """
    try:
        judge = models.deployment(deployment)
    except KeyError:
        known = ", ".join(d.name for d in models.deployments)
        raise InvalidInputError(
            f"--judge {deployment}: the models file has no such deployment (it has {known})"
        ) from None
    fallbacks = [n for n in models.routing.fallbacks.get(deployment, []) if n != deployment]
    routing = Routing.model_validate(
        {
            **models.routing.model_dump(),
            "default_tier": judge.tier,
            "fast_below_chars": 0,
            "bucket_tiers": {},
            "sensitivity_tiers": {},
            "fallbacks": {deployment: fallbacks} if fallbacks else {},
        }
    )
    return ModelsFile(
        deployments=[judge, *(models.deployment(n) for n in fallbacks)],
        routing=routing,
        budgets=Budgets(),
    )


class AnswerJudge:
    """Judges answers with llama-index's evaluators, each prompt through ``gateway``.

    ``gateway`` should be built on :func:`judge_models` for ``deployment``;
    ``bucket_policies`` is the registry's (``GenerationDeps.bucket_policies``).
    """

    def __init__(
        self, gateway: ModelGateway, bucket_policies: BucketPolicies, deployment: Deployment
    ) -> None:
        self._gateway = gateway
        self._bucket_policies = bucket_policies
        self._deployment = deployment

    @property
    def deployment(self) -> str:
        return self._deployment.name

    def judge(
        self, question_id: str, question: str, answer: str, cited: Sequence[tuple[str, str]]
    ) -> Judged:
        """Both verdicts on ``answer``; ``cited`` is (bucket, text) of each cited chunk."""
        buckets = frozenset(bucket for bucket, _ in cited if bucket)
        try:
            policies = self._bucket_policies(buckets)
        except DependencyUnavailableError:
            reason = "bucket policies are unavailable: residency cannot be checked"
            return Judged(question_id, None, None, {}, dict.fromkeys(ASPECTS, reason), ())
        route = RouteRequest(
            question_chars=len(question),
            buckets=buckets,
            policies=tuple(policies[b] for b in sorted(buckets) if b in policies),
        )
        from evals.judge_llm import GatewayLLM

        llm = GatewayLLM(
            self._gateway,
            route,
            model_name=self._deployment.model,
            num_output=self._deployment.max_output_tokens,
        )
        contexts = [text for _, text in cited]
        results = asyncio.run(_evaluate(llm, question, answer, contexts))
        verdicts: dict[str, bool | None] = {}
        feedback: dict[str, str] = {}
        errors: dict[str, str] = {}
        for aspect, result in zip(ASPECTS, results, strict=True):
            if isinstance(result, GenerationFailedError):
                verdicts[aspect] = None
                errors[aspect] = result.reason
            else:
                verdicts[aspect] = bool(result.passing)
                feedback[aspect] = (result.feedback or "").strip()[:FEEDBACK_CHARS]
        return Judged(
            question_id,
            faithful=verdicts["faithfulness"],
            relevant=verdicts["relevancy"],
            feedback=feedback,
            errors=errors,
            generations=tuple(llm.generations),
        )


async def _evaluate(
    llm: GatewayLLM, question: str, answer: str, contexts: list[str]
) -> list[EvaluationResult | GenerationFailedError]:
    """Each evaluator in turn (the gateway is synchronous); a failed one does not stop the other.

    Run under ``asyncio.run`` rather than llama-index's ``evaluate``, which re-raises any
    RuntimeError as a nested-loop error and leaves its event loop open.
    """
    from llama_index.core.evaluation import FaithfulnessEvaluator, RelevancyEvaluator

    evaluators: list[BaseEvaluator] = [
        FaithfulnessEvaluator(llm=llm),
        RelevancyEvaluator(llm=llm),
    ]
    results: list[EvaluationResult | GenerationFailedError] = []
    for evaluator in evaluators:
        try:
            results.append(
                await evaluator.aevaluate(query=question, response=answer, contexts=contexts)
            )
        except GenerationFailedError as exc:
            results.append(exc)
    return results


def judge_answers(
    judge: AnswerJudge,
    answers: Sequence[tuple[str, str, str, Sequence[tuple[str, str]]]],
    progress: Progress,
) -> dict[str, Judged]:
    """Verdicts on each (question id, question, answer, cited) in turn, by question id."""
    progress.stage("judging", len(answers))
    judged = {}
    for question_id, question, answer, cited in answers:
        judged[question_id] = judge.judge(question_id, question, answer, cited)
        progress.advance()
    return judged


# --- scoring (pure) -------------------------------------------------------------------


def judge_metrics(judged: Iterable[Judged]) -> dict[str, float]:
    """``judge.faithfulness`` / ``judge.relevancy``: share of YES among the verdicts had.

    A metric without a single verdict is left out (a baseline that has it then
    reports it as stopped being measured).
    """
    found: dict[str, float] = {}
    rows = list(judged)
    for name, verdicts in (
        ("judge.faithfulness", [j.faithful for j in rows if j.faithful is not None]),
        ("judge.relevancy", [j.relevant for j in rows if j.relevant is not None]),
    ):
        if verdicts:
            found[name] = sum(verdicts) / len(verdicts)
    return found


def judge_summary(judged: Sequence[Judged], deployment: str) -> dict[str, Any]:
    """The report's ``details.judge``: who judged, what it cost, which questions it could not."""
    generations = [g for j in judged for g in j.generations]
    return {
        "deployment": deployment,
        "deployments_used": sorted({g.deployment for g in generations}),
        "judged": len(judged),
        "calls": len(generations),
        "prompt_tokens": sum(g.prompt_tokens for g in generations),
        "completion_tokens": sum(g.completion_tokens for g in generations),
        "cost_usd": round(sum(g.cost_usd for g in generations), 8),
        "errors": {j.question_id: dict(j.errors) for j in judged if j.errors},
    }


def add_verdicts(details: dict[str, Any], judged: Mapping[str, Judged], deployment: str) -> None:
    """The verdicts into an answers report's ``details``: per question, as failures, a summary."""
    for entry in details["questions"]:
        if (verdicts := judged.get(entry["id"])) is not None:
            entry["judge"] = judge_entry(verdicts)
    for question_id, verdicts in judged.items():
        if reasons := verdicts.failures():
            details["failures"].setdefault(question_id, []).extend(reasons)
    details["judge"] = judge_summary(list(judged.values()), deployment)


def judge_entry(judged: Judged) -> dict[str, Any]:
    """One question's verdicts, as its ``details.questions[].judge``."""
    return {
        "faithful": judged.faithful,
        "relevant": judged.relevant,
        "feedback": dict(judged.feedback),
        "errors": dict(judged.errors),
        "deployments": list(judged.deployments),
        "cost_usd": round(sum(g.cost_usd for g in judged.generations), 8),
    }
