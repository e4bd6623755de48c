"""Budgets on real databases (SQLite files and PostgreSQL), with a clock the test moves.

Team ``search``: daily soft $4, hard $5; monthly soft $8, hard $20. Key ``ci-bot``
(by name): daily hard $2. Spend is written to the ledger as answers would be, and
the guard is asked what to do with the next answer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from kernel.errors import BudgetExceededError
from kernel.models_config import Budgets, Limits
from tests.postgres_db import database_url
from usage.budgets import BudgetDecision, BudgetGuard, BudgetStatus, raise_if_refused
from usage.ledger import UsageEvent, UsageLedger

pytestmark = pytest.mark.service

BACKENDS = ("sqlite", "postgresql")
NOON = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY_START = datetime(2026, 11, 20, tzinfo=UTC)
MONTH_START = datetime(2026, 11, 1, tzinfo=UTC)
TEAM_LIMITS = Limits(daily_soft_usd=4, daily_hard_usd=5, monthly_soft_usd=8, monthly_hard_usd=20)
KEY_LIMITS = Limits(daily_hard_usd=2)
BOT_ID, OTHER_ID = "key-b0b0b0b0b0b0", "key-0e0e0e0e0e0e"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with database_url(request.param, tmp_path) as url:
        engine = create_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture
def ledger(engine: Engine) -> UsageLedger:
    return UsageLedger(engine)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOON)


def guard_for(ledger: UsageLedger, clock: Clock, on_hard_limit: str = "refuse") -> BudgetGuard:
    budgets = Budgets.model_validate(
        {
            "teams": {"search": TEAM_LIMITS},
            "keys": {"ci-bot": KEY_LIMITS},
            "on_hard_limit": on_hard_limit,
        }
    )
    return BudgetGuard(ledger, budgets, clock=clock)


@pytest.fixture
def guard(ledger: UsageLedger, clock: Clock) -> BudgetGuard:
    return guard_for(ledger, clock)


_answers = iter(range(1_000_000))


def spend(
    ledger: UsageLedger,
    cost: float,
    at: datetime,
    *,
    key_id: str = OTHER_ID,
    key_name: str | None = None,
    team: str = "search",
) -> None:
    ledger.record(
        UsageEvent(
            answer_id=f"answer-{next(_answers)}",
            key_id=key_id,
            key_name=key_name,
            team=team,
            deployment="mini",
            prompt_tokens=1000,
            completion_tokens=200,
            cost_usd=cost,
            created_at=at,
        )
    )


def check_other(guard: BudgetGuard) -> BudgetDecision:
    """The next answer of a key of team search without a name."""
    return guard.check(key_id=OTHER_ID, key_name=None, team="search")


def check_bot(guard: BudgetGuard) -> BudgetDecision:
    return guard.check(key_id=BOT_ID, key_name="ci-bot", team="search")


def test_below_the_soft_limits_answers_are_allowed_without_warnings(
    ledger: UsageLedger, guard: BudgetGuard
) -> None:
    spend(ledger, 3.99, NOON - timedelta(hours=1))

    assert check_other(guard) == BudgetDecision("allow", None, ())
    assert guard.alerts(MONTH_START) == []


def test_over_a_soft_limit_answers_are_allowed_with_a_warning_and_one_alert(
    ledger: UsageLedger, guard: BudgetGuard, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    spend(ledger, 4.10, NOON - timedelta(hours=1))
    warning = "team 'search' has spent $4.10 of its $4.00 daily soft budget; resets at 00:00 UTC"

    with caplog.at_level(logging.WARNING, logger="usage"):
        decisions = [check_other(guard) for _ in range(3)]
        # Another process (its own guard) crossing the same limit adds no second alert.
        decisions.append(check_other(guard_for(ledger, clock)))

    assert decisions == [BudgetDecision("allow", None, (warning,))] * 4
    alerts = guard.alerts(MONTH_START)
    assert [(a.scope, a.subject, a.period, a.period_start, a.kind) for a in alerts] == [
        ("team", "search", "day", DAY_START, "soft")
    ]
    assert alerts[0].limit_usd == 4.0
    assert alerts[0].spent_usd == pytest.approx(4.10)
    logged = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in logged] == [f"budget alert (soft limit): {warning}"]
    assert OTHER_ID not in logged[0].getMessage()


def test_over_a_hard_limit_answers_are_refused_with_the_reason(
    ledger: UsageLedger, guard: BudgetGuard
) -> None:
    spend(ledger, 5.02, NOON - timedelta(hours=1))

    decision = check_other(guard)

    message = "team 'search' has spent $5.02 of its $5.00 daily budget; resets at 00:00 UTC"
    assert decision.action == "refuse"
    assert decision.message == message
    assert decision.warnings == (
        "team 'search' has spent $5.02 of its $4.00 daily soft budget; resets at 00:00 UTC",
    )
    with pytest.raises(BudgetExceededError) as refused:
        raise_if_refused(decision)
    assert refused.value.message == message
    kinds = sorted((a.kind, a.period) for a in guard.alerts(MONTH_START))
    assert kinds == [("hard", "day"), ("soft", "day")]


def test_with_downgrade_a_hard_limit_moves_answers_to_the_fast_tier(
    ledger: UsageLedger, clock: Clock
) -> None:
    guard = guard_for(ledger, clock, on_hard_limit="downgrade")
    spend(ledger, 5.02, NOON - timedelta(hours=1))

    decision = check_other(guard)

    assert decision.action == "downgrade"
    assert decision.message == (
        "team 'search' has spent $5.02 of its $5.00 daily budget; resets at 00:00 UTC; "
        "answering on the fast tier"
    )
    raise_if_refused(decision)  # a downgrade answers
    assert guard.on_hard_limit == "downgrade"


def test_a_new_day_resets_the_daily_limits_but_not_the_monthly(
    ledger: UsageLedger, guard: BudgetGuard, clock: Clock
) -> None:
    spend(ledger, 5.02, datetime(2026, 11, 20, 23, 0, tzinfo=UTC))
    clock.now = datetime(2026, 11, 20, 23, 59, 59, tzinfo=UTC)
    assert check_other(guard).action == "refuse"

    clock.now = datetime(2026, 11, 21, 0, 0, 1, tzinfo=UTC)
    assert check_other(guard) == BudgetDecision("allow", None, ())

    spend(ledger, 3.00, datetime(2026, 11, 21, 8, 0, tzinfo=UTC))  # the month: $8.02
    clock.now = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    assert check_other(guard).warnings == (
        "team 'search' has spent $8.02 of its $8.00 monthly soft budget; "
        "resets on 2026-12-01 at 00:00 UTC",
    )

    spend(ledger, 12.00, datetime(2026, 11, 30, 1, 0, tzinfo=UTC))  # the month: $20.02
    clock.now = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    refused = check_other(guard)
    assert refused.action == "refuse"
    # The daily hard limit is named first; both are reached on the 30th.
    assert refused.message is not None and refused.message.endswith(
        "daily budget; resets at 00:00 UTC"
    )

    clock.now = datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC)
    assert check_other(guard) == BudgetDecision("allow", None, ())
    assert sorted((a.period, a.kind, a.period_start) for a in guard.alerts(MONTH_START)) == [
        ("day", "hard", DAY_START),
        ("day", "hard", datetime(2026, 11, 30, tzinfo=UTC)),
        ("day", "soft", DAY_START),
        ("day", "soft", datetime(2026, 11, 30, tzinfo=UTC)),
        ("month", "hard", MONTH_START),
        ("month", "soft", MONTH_START),
    ]


def test_the_monthly_hard_limit_is_named_when_only_it_is_reached(
    ledger: UsageLedger, guard: BudgetGuard, clock: Clock
) -> None:
    for day in range(1, 6):  # $4.50 a day: under the daily soft limit, $22.50 in the month
        spend(ledger, 4.50, datetime(2026, 11, day, 9, 0, tzinfo=UTC))
    clock.now = datetime(2026, 11, 6, 9, 0, tzinfo=UTC)

    decision = check_other(guard)

    assert decision.action == "refuse"
    assert decision.message == (
        "team 'search' has spent $22.50 of its $20.00 monthly budget; "
        "resets on 2026-12-01 at 00:00 UTC"
    )


def test_a_named_key_has_its_own_limits_and_its_teams(
    ledger: UsageLedger, guard: BudgetGuard
) -> None:
    spend(ledger, 2.50, NOON - timedelta(hours=1), key_id=BOT_ID, key_name="ci-bot")

    refused = check_bot(guard)
    assert refused.action == "refuse"
    assert refused.message == (
        "key 'ci-bot' has spent $2.50 of its $2.00 daily budget; resets at 00:00 UTC"
    )
    # The team ($2.50 of $5) and its other keys are not held back by the bot's budget.
    assert check_other(guard) == BudgetDecision("allow", None, ())
    # A key whose name has no budget gets its team's only.
    assert guard.check(key_id=BOT_ID, key_name="nightly", team="search").action == "allow"
    assert [(a.scope, a.subject, a.kind) for a in guard.alerts(MONTH_START)] == [
        ("key", "ci-bot", "hard")
    ]


def test_a_key_without_a_name_gets_only_its_teams_limits(
    ledger: UsageLedger, guard: BudgetGuard
) -> None:
    # $3 spent by the unnamed key: over what `ci-bot` may spend, under the team's limits.
    spend(ledger, 3.00, NOON - timedelta(hours=1))
    assert check_other(guard) == BudgetDecision("allow", None, ())

    spend(ledger, 2.10, NOON - timedelta(minutes=30))  # the team: $5.10
    for decision in (check_other(guard), check_bot(guard)):
        assert decision.action == "refuse"
        assert decision.message is not None and decision.message.startswith(
            "team 'search' has spent $5.10 of its $5.00 daily budget"
        )


def test_a_team_without_a_budget_is_always_allowed(ledger: UsageLedger, guard: BudgetGuard) -> None:
    spend(ledger, 1000.0, NOON - timedelta(hours=1), team="legal")

    assert guard.check(key_id=OTHER_ID, key_name=None, team="legal") == BudgetDecision()


def test_status_lists_every_configured_team_and_key_with_its_state(
    ledger: UsageLedger, guard: BudgetGuard
) -> None:
    spend(ledger, 6.00, datetime(2026, 11, 3, 9, 0, tzinfo=UTC))  # earlier this month
    spend(ledger, 4.25, NOON - timedelta(hours=2))
    spend(ledger, 0.75, NOON - timedelta(hours=1), key_id=BOT_ID, key_name="ci-bot")
    spend(ledger, 9.00, datetime(2026, 10, 31, 23, 0, tzinfo=UTC))  # last month: not counted

    status = guard.status()

    assert status == [
        BudgetStatus("team", "search", 5.00, 11.00, 4, 5, 8, 20, "hard"),
        BudgetStatus("key", "ci-bot", 0.75, 0.75, None, 2, None, None, "ok"),
    ]


def test_the_soft_state_and_a_team_that_spent_nothing(ledger: UsageLedger, clock: Clock) -> None:
    guard = BudgetGuard(
        ledger,
        Budgets(teams={"search": TEAM_LIMITS, "legal": Limits(monthly_hard_usd=50)}),
        clock=clock,
    )
    spend(ledger, 4.50, NOON - timedelta(hours=1))

    assert [(s.subject, s.day_spent_usd, s.month_spent_usd, s.state) for s in guard.status()] == [
        ("legal", 0.0, 0.0, "ok"),
        ("search", 4.50, 4.50, "soft"),
    ]


def test_guards_crossing_a_limit_at_once_record_one_alert(
    ledger: UsageLedger, clock: Clock
) -> None:
    spend(ledger, 4.50, NOON - timedelta(hours=1))
    guards = [guard_for(ledger, clock) for _ in range(6)]  # as six processes would
    start = threading.Barrier(len(guards))
    decisions: list[BudgetDecision] = []
    failures: list[Exception] = []

    def run(guard: BudgetGuard) -> None:
        try:
            start.wait(30)
            decisions.append(check_other(guard))
        except Exception as exc:  # noqa: BLE001  (reported below)
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(g,)) for g in guards]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert failures == []
    assert len(decisions) == len(guards)
    assert all(d.action == "allow" and len(d.warnings) == 1 for d in decisions)
    assert len(guards[0].alerts(MONTH_START)) == 1
