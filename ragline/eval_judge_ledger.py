"""The eval judge's gateway, charged to the configured usage ledger (``evals.judge_spend``).

The eval ingests and answers in a scratch data directory, but the judge's spend is
real money: it goes to the ledger ``ragline cost`` and ``GET /budgets`` read, the
configured database (``RAGLINE_DATABASE_URL``, or the embedded registry under
``RAGLINE_DATA_DIR``), opened as the other operator commands open it. Budgets are
the models file's (``RAGLINE_MODELS_FILE``); a payer already at a hard limit stops
the command before anything is ingested.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from evals.judge_spend import ChargedGateway, EvalPayer, judge_budgets
from ingest.db_outages import report_outages
from kernel.errors import InvalidInputError
from kernel.models_config import ModelsFile, load_models_file
from ragline.cli_database import configured_database
from usage.budgets import BudgetGuard
from usage.ledger import UsageLedger


@contextmanager
def charged_judge_gateway(judge_file: ModelsFile, team: str) -> Iterator[ChargedGateway]:
    """The judge's gateway over ``judge_file``, charging ``team``; open while judging.

    Raises :class:`BudgetExceededError` when ``team`` (or the ``eval-judge`` key
    name) is already at a hard limit, InvalidInputError for an empty team; an
    unusable database ends the command with one line (``configured_database``).
    """
    try:
        payer = EvalPayer.for_run(team)
    except ValueError as exc:
        raise InvalidInputError(f"--team: {exc}") from None
    with configured_database() as (engine, settings):
        # A database lost mid-run costs ledger lines (logged, counted), not the eval.
        report_outages(engine)
        ledger = UsageLedger(engine)
        assert settings.models_file is not None  # the judge's models file came from it
        budgets = judge_budgets(load_models_file(settings.models_file).budgets)
        from generation.litellm_gateway import LiteLLMGateway

        gateway = ChargedGateway(
            LiteLLMGateway(judge_file), ledger, BudgetGuard(ledger, budgets), payer
        )
        gateway.preflight()
        yield gateway
