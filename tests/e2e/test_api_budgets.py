"""``GET /budgets`` as an admin reads it, on the embedded server.

The server runs as ``ragline serve`` builds it; the budget guard is handed to the
API through its dependency (``api.deps.get_budget_guard``), as the process wiring
will hand it when a models file names budgets. Without one the route says budgets
are not configured.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from api.deps import get_budget_guard
from kernel.models_config import Budgets, Limits
from ragline.service import create_app
from tests.conftest import ADMIN_KEY, HR_KEY, make_settings
from tests.e2e.conftest import auth
from usage.budgets import BudgetGuard
from usage.ledger import UsageEvent, UsageLedger

pytestmark = pytest.mark.e2e

NOW = datetime.now(UTC)
TEN_DAYS_AGO = NOW - timedelta(days=10)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[TestClient]:
    settings = make_settings(tmp_path_factory.mktemp("budgets") / "data")
    with TestClient(create_app(settings, dense=embedder)) as test_client:
        yield test_client


@pytest.fixture
def guard(client: TestClient, tmp_path: Path) -> Iterator[BudgetGuard]:
    engine = create_engine(f"sqlite:///{tmp_path / 'usage.db'}")
    ledger = UsageLedger(engine)
    ledger.record(
        UsageEvent(
            answer_id="answer-1",
            key_id="key-0123456789ab",
            key_name="ci-bot",
            team="search",
            deployment="mini",
            prompt_tokens=1000,
            completion_tokens=200,
            cost_usd=4.5,
            created_at=NOW,
        )
    )
    budgets = Budgets(
        teams={"search": Limits(daily_soft_usd=4, daily_hard_usd=5)},
        keys={"ci-bot": Limits(monthly_hard_usd=100)},
        on_hard_limit="downgrade",
    )
    # Ten days ago, team legal crossed a limit a guard of that time had for it.
    ledger.record(
        UsageEvent(
            answer_id="answer-0",
            key_id="key-ba0ba0ba0ba0",
            key_name=None,
            team="legal",
            deployment="mini",
            prompt_tokens=1000,
            completion_tokens=200,
            cost_usd=9.0,
            created_at=TEN_DAYS_AGO,
        )
    )
    then = Budgets(teams={"legal": Limits(daily_soft_usd=1)})
    BudgetGuard(ledger, then, clock=lambda: TEN_DAYS_AGO).check(
        key_id="key-ba0ba0ba0ba0", key_name=None, team="legal"
    )
    guard = BudgetGuard(ledger, budgets, clock=lambda: NOW)
    guard.check(key_id="key-0123456789ab", key_name="ci-bot", team="search")  # the soft alert
    app = client.app
    app.dependency_overrides[get_budget_guard] = lambda: guard  # type: ignore[attr-defined]
    try:
        yield guard
    finally:
        app.dependency_overrides.clear()  # type: ignore[attr-defined]
        engine.dispose()


def test_an_admin_sees_every_budget_and_the_recent_alerts(
    client: TestClient, guard: BudgetGuard
) -> None:
    resp = client.get("/budgets", headers=auth(ADMIN_KEY))

    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["configured"] is True
    assert body["on_hard_limit"] == "downgrade"
    assert body["budgets"] == [
        {
            "scope": "team",
            "subject": "search",
            "day_spent_usd": 4.5,
            "month_spent_usd": 4.5,
            "daily_soft_usd": 4.0,
            "daily_hard_usd": 5.0,
            "monthly_soft_usd": None,
            "monthly_hard_usd": None,
            "state": "soft",
        },
        {
            "scope": "key",
            "subject": "ci-bot",
            "day_spent_usd": 4.5,
            "month_spent_usd": 4.5,
            "daily_soft_usd": None,
            "daily_hard_usd": None,
            "monthly_soft_usd": None,
            "monthly_hard_usd": 100.0,
            "state": "ok",
        },
    ]
    assert [(a["subject"], a["kind"]) for a in body["alerts"]] == [
        ("search", "soft"),  # newest first
        ("legal", "soft"),
    ]
    alert = body["alerts"][0]
    assert {k: alert[k] for k in ("scope", "subject", "period", "kind", "limit_usd")} == {
        "scope": "team",
        "subject": "search",
        "period": "day",
        "kind": "soft",
        "limit_usd": 4.0,
    }
    assert alert["spent_usd"] == 4.5
    day_start = NOW.replace(hour=0, minute=0, second=0, microsecond=0)
    assert datetime.fromisoformat(alert["period_start"]) == day_start


@pytest.mark.usefixtures("guard")
def test_alerts_older_than_asked_are_left_out(client: TestClient) -> None:
    recent = client.get("/budgets?alert_days=5", headers=auth(ADMIN_KEY))

    assert recent.status_code == 200, recent.text
    assert [a["subject"] for a in recent.json()["alerts"]] == ["search"]
    bad = client.get("/budgets?alert_days=0", headers=auth(ADMIN_KEY))
    assert bad.status_code == 422


@pytest.mark.usefixtures("guard")
def test_a_key_without_the_admin_role_is_refused(client: TestClient) -> None:
    resp = client.get("/budgets", headers=auth(HR_KEY))

    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "permission_denied"
    assert client.get("/budgets").status_code == 401


def test_without_a_models_file_budgets_are_not_configured(client: TestClient) -> None:
    resp = client.get("/budgets", headers=auth(ADMIN_KEY))

    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "configured": False,
        "on_hard_limit": None,
        "budgets": [],
        "alerts": [],
    }
