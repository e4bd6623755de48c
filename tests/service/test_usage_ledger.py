"""The usage ledger on real databases: SQLite files and PostgreSQL (tests/postgres_db.py).

Each test gets a database made by the migrations, as production has it, and checks
what the ledger sums and lists. The outage test stops a PostgreSQL cluster of its
own (tests/private_services.py) under a ledger: an answer already given must never
fail for its ledger line.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from ingest.registry import Registry
from kernel.models_config import Budgets, Limits
from ragline.schema import ensure_schema
from tests.postgres_db import database_url
from tests.private_services import PrivatePostgres
from usage.budgets import BudgetGuard
from usage.ledger import UsageEvent, UsageLedger
from usage.tables import UsageBase

pytestmark = pytest.mark.service

BACKENDS = ("sqlite", "postgresql")
DAY = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with database_url(request.param, tmp_path) as url:
        ensure_schema(url, auto_upgrade=True)
        engine = create_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture
def ledger(engine: Engine) -> UsageLedger:
    return UsageLedger(engine)


def event(
    answer_id: str,
    *,
    cost: float,
    at: datetime,
    team: str = "search",
    key_id: str = "key-aaaaaaaaaaaa",
    key_name: str | None = "ci-bot",
    deployment: str = "mini",
) -> UsageEvent:
    return UsageEvent(
        answer_id=answer_id,
        key_id=key_id,
        key_name=key_name,
        team=team,
        deployment=deployment,
        prompt_tokens=1200,
        completion_tokens=300,
        cost_usd=cost,
        created_at=at,
    )


def test_the_models_are_exactly_what_the_migrations_build(engine: Engine) -> None:
    tables = set(UsageBase.metadata.tables)
    assert tables == {"usage_events", "budget_alerts"}
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_name": lambda name, kind, _: kind != "table" or name in tables,
            },
        )
        assert compare_metadata(context, UsageBase.metadata) == []


def test_spent_sums_a_team_or_a_key_from_the_window_start(ledger: UsageLedger) -> None:
    ledger.record(event("a1", cost=1.25, at=DAY + timedelta(hours=1)))
    ledger.record(event("a2", cost=0.50, at=DAY + timedelta(hours=2), key_id="key-bbbbbbbbbbbb"))
    ledger.record(event("a3", cost=2.00, at=DAY + timedelta(hours=3), team="legal"))
    ledger.record(event("a4", cost=4.00, at=DAY - timedelta(seconds=1)))  # the day before

    assert ledger.spent(team="search", since=DAY) == pytest.approx(1.75)
    assert ledger.spent(team="search", since=DAY - timedelta(days=1)) == pytest.approx(5.75)
    assert ledger.spent(team="legal", since=DAY) == pytest.approx(2.00)
    assert ledger.spent(key_id="key-aaaaaaaaaaaa", since=DAY) == pytest.approx(3.25)
    assert ledger.spent(key_id="key-bbbbbbbbbbbb", since=DAY) == pytest.approx(0.50)
    assert ledger.spent(key_name="ci-bot", since=DAY) == pytest.approx(3.75)
    # The window starts at `since` inclusive.
    assert ledger.spent(team="search", since=DAY + timedelta(hours=1)) == pytest.approx(1.75)
    assert ledger.spent(team="search", since=DAY + timedelta(hours=2)) == pytest.approx(0.50)
    assert ledger.spent(team="nobody", since=DAY) == 0.0


def test_spent_needs_exactly_one_subject(ledger: UsageLedger) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        ledger.spent(since=DAY)
    with pytest.raises(ValueError, match="exactly one"):
        ledger.spent(team="search", key_id="key-aaaaaaaaaaaa", since=DAY)


def test_events_lists_a_window_oldest_first_in_utc(ledger: UsageLedger) -> None:
    zurich_winter = timezone(timedelta(hours=1))
    ledger.record(event("late", cost=1.0, at=DAY + timedelta(hours=5)))
    # 02:00 in UTC+1 is 01:00 UTC: stored and compared as UTC.
    ledger.record(event("early", cost=1.0, at=datetime(2026, 11, 20, 2, 0, tzinfo=zurich_winter)))
    ledger.record(event("next-day", cost=1.0, at=DAY + timedelta(days=1)))
    ledger.record(event("before", cost=1.0, at=DAY - timedelta(hours=1)))

    window = ledger.events(DAY, DAY + timedelta(days=1))  # `until` is exclusive

    assert [e.answer_id for e in window] == ["early", "late"]
    assert window[0].created_at == DAY + timedelta(hours=1)
    assert window[0].created_at.tzinfo is not None
    assert window[0] == event("early", cost=1.0, at=DAY + timedelta(hours=1))
    assert [e.answer_id for e in ledger.events(DAY)] == ["early", "late", "next-day"]


def test_a_second_line_for_one_answer_keeps_the_first(ledger: UsageLedger) -> None:
    ledger.record(event("a1", cost=1.0, at=DAY))
    ledger.record(event("a1", cost=9.0, at=DAY))

    assert [e.cost_usd for e in ledger.events(DAY)] == [1.0]
    assert ledger.unrecorded == 0


def test_a_time_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        event("a1", cost=1.0, at=datetime(2026, 11, 20, 12, 0))


# -- the database down ----------------------------------------------------------


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivatePostgres]:
    with PrivatePostgres.create() as server:
        ensure_schema(server.url, auto_upgrade=True)
        yield server


def test_an_answer_never_fails_for_its_ledger_line_during_an_outage(
    postgres: PrivatePostgres, caplog: pytest.LogCaptureFixture
) -> None:
    # The registry's engine, as in production: its connection failures are outages.
    registry = Registry(postgres.url)
    try:
        ledger = UsageLedger(registry.engine)
        guard = BudgetGuard(
            ledger,
            Budgets(teams={"search": Limits(daily_hard_usd=1.0)}),
            clock=lambda: DAY + timedelta(hours=12),
        )
        ledger.record(event("before", cost=5.0, at=DAY + timedelta(hours=1)))
        assert guard.check(key_id="key-aaaaaaaaaaaa", key_name=None, team="search").action == (
            "refuse"
        )

        postgres.stop()
        try:
            with caplog.at_level(logging.WARNING, logger="usage"):
                ledger.record(event("during", cost=1.0, at=DAY + timedelta(hours=2)))
                # Spend unknown: the answer is allowed, as /ask answers through an outage.
                decision = guard.check(key_id="key-aaaaaaaaaaaa", key_name=None, team="search")
        finally:
            postgres.start()

        assert ledger.unrecorded == 1
        assert decision.action == "allow"
        missed = [r.getMessage() for r in caplog.records if "during" in r.getMessage()]
        assert len(missed) == 1
        assert "key-aaaaaaaaaaaa" in missed[0]
        assert "not recorded" in missed[0]

        # Back: the same ledger records again, and the guard sees the spend again.
        ledger.record(event("after", cost=1.0, at=DAY + timedelta(hours=3)))
        assert [e.answer_id for e in ledger.events(DAY)] == ["before", "after"]
        assert guard.check(key_id="key-aaaaaaaaaaaa", key_name=None, team="search").action == (
            "refuse"
        )
    finally:
        registry.close()
