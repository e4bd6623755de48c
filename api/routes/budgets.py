"""Budgets as an admin watches them: each team's and key's spend against its limits (admin).

Limits come from the models file's ``budgets:``; spend from the usage ledger
(``usage.budgets``). Without a models file there are no budgets: the answer says
``"configured": false`` with empty lists.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import AdminDep, BudgetsDep

router = APIRouter(tags=["budgets"])


class BudgetStatusOut(BaseModel):
    scope: Literal["team", "key"]
    subject: str  # the team, or the key's configured name
    day_spent_usd: float  # this UTC day
    month_spent_usd: float  # this UTC calendar month
    daily_soft_usd: float | None
    daily_hard_usd: float | None
    monthly_soft_usd: float | None
    monthly_hard_usd: float | None
    state: Literal["ok", "soft", "hard"]


class BudgetAlertOut(BaseModel):
    scope: Literal["team", "key"]
    subject: str
    period: Literal["day", "month"]
    period_start: datetime
    kind: Literal["soft", "hard"]
    limit_usd: float
    spent_usd: float  # when the limit was first seen reached
    created_at: datetime


class BudgetsOut(BaseModel):
    configured: bool
    on_hard_limit: Literal["refuse", "downgrade"] | None
    budgets: list[BudgetStatusOut]
    alerts: list[BudgetAlertOut]  # newest first


@router.get(
    "/budgets",
    response_model=BudgetsOut,
    summary="Spend of every team and key with a budget, and the limits reached lately (admin)",
)
def get_budgets(
    _: AdminDep,
    guard: BudgetsDep,
    alert_days: Annotated[
        int, Query(ge=1, le=366, description="Alerts of the last ALERT_DAYS days.")
    ] = 30,
) -> BudgetsOut:
    if guard is None:
        return BudgetsOut(configured=False, on_hard_limit=None, budgets=[], alerts=[])
    since = datetime.now(UTC) - timedelta(days=alert_days)
    return BudgetsOut(
        configured=True,
        on_hard_limit=guard.on_hard_limit,
        budgets=[BudgetStatusOut.model_validate(s, from_attributes=True) for s in guard.status()],
        alerts=[
            BudgetAlertOut.model_validate(a, from_attributes=True) for a in guard.alerts(since)
        ],
    )
