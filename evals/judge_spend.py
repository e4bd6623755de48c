"""What the eval's judge spends, in the usage ledger, under the payer's budget.

``ragline eval answers --judge`` pays a model for every verdict. That spend belongs
where every other model spend is (``usage_events``), so ``ragline cost`` and
``GET /budgets`` show it beside the answers', and a team's budget bounds it. The
judge's gateway is wrapped in a :class:`ChargedGateway`, which:

- checks the payer's budget before each call. A hard limit stops the judge: the
  call, and every call after it in this run, fails with the budget's message
  without reaching a model. The judge is never moved to the fast tier, whatever
  ``on_hard_limit`` says: another model would be another instrument, and its scores
  would not compare with the last run's. A soft limit is kept as a warning;
- writes one ledger line per call that a model answered, with the deployment that
  answered (a fallback's name when the judge fell back) and its tokens and cost. A
  call that failed before reaching a model (every deployment down, the budget
  spent) writes nothing.

The payer is an :class:`EvalPayer`: a team (``eval`` unless the user says which
team pays), the key name ``eval-judge``, and a key id naming this run, so one run's
lines can be found and told apart from another's.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from generation.gateway import Generation, GenerationFailedError, Message, ModelGateway, OnToken
from generation.routing import RouteRequest
from kernel.errors import BudgetExceededError
from kernel.models_config import Budgets
from usage.budgets import BudgetGuard
from usage.ledger import UsageEvent, UsageLedger

EVAL_TEAM: Final = "eval"
JUDGE_KEY_NAME: Final = "eval-judge"
RUN_PREFIX: Final = "eval:"


@dataclass(frozen=True, slots=True)
class EvalPayer:
    """Who the judge's calls are charged to, as a ledger line names a caller."""

    team: str
    key_id: str  # "eval:<run id>": one run's lines
    key_name: str = JUDGE_KEY_NAME

    @classmethod
    def for_run(cls, team: str = EVAL_TEAM) -> EvalPayer:
        """A payer with a key id of its own: a new run id, 12 hex digits."""
        if not team.strip():
            raise ValueError("the team that pays for the judge cannot be empty")
        return cls(team=team, key_id=f"{RUN_PREFIX}{uuid.uuid4().hex[:12]}")


def judge_budgets(budgets: Budgets) -> Budgets:
    """The models file's budgets as the judge obeys them: a hard limit always stops it."""
    return budgets.model_copy(update={"on_hard_limit": "refuse"})


class ChargedGateway:
    """A :class:`ModelGateway` that charges each answered call to ``payer``, within budget.

    ``guard`` should be built on :func:`judge_budgets` of the models file's budgets, over
    the same ``ledger``. Thread-safe: the counters are guarded by a lock.
    """

    def __init__(
        self, inner: ModelGateway, ledger: UsageLedger, guard: BudgetGuard, payer: EvalPayer
    ) -> None:
        self._inner = inner
        self._ledger = ledger
        self._guard = guard
        self.payer = payer
        self._lock = threading.Lock()
        self._recorded = 0
        self._unrecorded_before = ledger.unrecorded
        self._stopped: str | None = None
        self._warnings: dict[str, None] = {}

    @property
    def stopped(self) -> str | None:
        """Why the judge was stopped (a hard limit reached), or None while it may go on."""
        return self._stopped

    def preflight(self) -> None:
        """Refuse to start a judge whose payer has already reached a hard limit.

        Raises :class:`BudgetExceededError` with the budget's message.
        """
        self._check()
        if self._stopped is not None:
            raise BudgetExceededError(f"the judge was not started: {self._stopped}")

    def generate(
        self,
        messages: Sequence[Message],
        request: RouteRequest,
        *,
        on_token: OnToken | None = None,
    ) -> Generation:
        self._check()
        if self._stopped is not None:
            raise GenerationFailedError(f"the judge stopped: {self._stopped}")
        generation = self._inner.generate(messages, request, on_token=on_token)
        self._ledger.record(
            UsageEvent(
                answer_id=str(uuid.uuid4()),
                key_id=self.payer.key_id,
                key_name=self.payer.key_name,
                team=self.payer.team,
                deployment=generation.deployment,
                prompt_tokens=generation.prompt_tokens,
                completion_tokens=generation.completion_tokens,
                cost_usd=generation.cost_usd,
                created_at=datetime.now(UTC),
            )
        )
        with self._lock:
            self._recorded += 1
        return generation

    def receives_pii(self, request: RouteRequest) -> bool:
        return self._inner.receives_pii(request)

    def summary(self) -> dict[str, Any]:
        """The report's ``details.judge.ledger``: who paid, what was written, what stopped it.

        ``recorded`` counts the lines handed to the ledger; ``unrecorded`` those of them
        lost to a database outage (logged by the ledger).
        """
        with self._lock:
            recorded = self._recorded
            warnings = list(self._warnings)
        unrecorded = self._ledger.unrecorded - self._unrecorded_before
        return {
            "team": self.payer.team,
            "key_id": self.payer.key_id,
            "key_name": self.payer.key_name,
            "recorded": recorded - unrecorded,
            "unrecorded": unrecorded,
            "budget_stopped": self._stopped,
            "budget_warnings": warnings,
        }

    def _check(self) -> None:
        """Ask the budget once per call until a hard limit stops the run for good."""
        if self._stopped is not None:
            return
        decision = self._guard.check(
            key_id=self.payer.key_id, key_name=self.payer.key_name, team=self.payer.team
        )
        with self._lock:
            self._warnings.update(dict.fromkeys(decision.warnings))
            if decision.action != "allow":
                self._stopped = decision.message or "the judge's budget is spent"
