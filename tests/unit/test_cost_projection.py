"""The cost projection's numbers, against values computed by hand.

Ten observed days; team ``search`` made three answers on ``mini`` ($0.50, $1.00,
$1.50 recorded), team ``legal`` one on ``big`` ($2.00). The what-if prices the same
tokens at ``backup`` ($3 per million in, $15 per million out).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kernel.models_config import Deployment
from usage.ledger import UsageEvent
from usage.projection import CostRow, project

pytestmark = pytest.mark.unit

WHEN = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BACKUP = Deployment(
    name="backup", model="openai/backup", input_price_per_mtok=3.0, output_price_per_mtok=15.0
)


def _event(
    n: int, team: str, deployment: str, prompt: int, completion: int, cost: float
) -> UsageEvent:
    return UsageEvent(
        answer_id=f"answer-{n}",
        key_id="key-0123456789ab",
        key_name=None,
        team=team,
        deployment=deployment,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cost_usd=cost,
        created_at=WHEN,
    )


EVENTS = [
    _event(1, "search", "mini", 1000, 200, 0.50),
    _event(2, "legal", "big", 10_000, 1000, 2.00),
    _event(3, "search", "mini", 2000, 400, 1.00),
    _event(4, "search", "mini", 3000, 600, 1.50),
]


def _numbers(row: CostRow) -> tuple[object, ...]:
    return (
        row.team,
        row.deployment,
        row.requests,
        pytest.approx(row.requests_per_day),
        pytest.approx(row.avg_prompt_tokens),
        pytest.approx(row.avg_completion_tokens),
        pytest.approx(row.cost_per_request_usd),
        pytest.approx(row.cost_per_day_usd),
        pytest.approx(row.cost_per_month_usd),
        pytest.approx(row.cost_per_month_buffered_usd),
    )


def test_rows_per_team_and_deployment_and_the_totals() -> None:
    report = project(EVENTS, days=10)

    assert [_numbers(r) for r in report.rows] == [
        # team, deployment, requests, /day, avg in, avg out, $/request, $/day, $/month, +30%
        ("legal", "big", 1, 0.1, 10_000, 1000, 2.00, 0.20, 6.00, 7.80),
        ("search", "mini", 3, 0.3, 2000, 400, 1.00, 0.30, 9.00, 11.70),
    ]
    assert _numbers(report.total) == ("all", "all", 4, 0.4, 4000, 550, 1.25, 0.50, 15.00, 19.50)
    assert report.days == 10
    assert report.repriced_at is None


def test_the_buffer_is_a_parameter() -> None:
    report = project(EVENTS, days=10, buffer=0.5)

    assert report.total.cost_per_month_usd == pytest.approx(15.00)
    assert report.total.cost_per_month_buffered_usd == pytest.approx(22.50)


def test_reprice_prices_the_same_tokens_at_another_deployment() -> None:
    report = project(EVENTS, days=10, reprice=BACKUP)

    # legal: 10,000 x $3/M + 1,000 x $15/M = $0.045; search: $0.006 + $0.012 + $0.018.
    assert [_numbers(r) for r in report.rows] == [
        ("legal", "big -> backup", 1, 0.1, 10_000, 1000, 0.045, 0.0045, 0.135, 0.1755),
        ("search", "mini -> backup", 3, 0.3, 2000, 400, 0.012, 0.0036, 0.108, 0.1404),
    ]
    assert report.total.cost_per_month_usd == pytest.approx(0.243)
    assert report.total.cost_per_month_buffered_usd == pytest.approx(0.3159)
    assert report.repriced_at == "backup"


def test_no_usage_gives_no_rows_and_zero_totals() -> None:
    report = project([], days=30)

    assert report.rows == ()
    assert _numbers(report.total) == ("all", "all", 0, 0, 0, 0, 0, 0, 0, 0)


def test_the_report_is_plain_data_for_json() -> None:
    as_dict = project(EVENTS[:1], days=1).as_dict()

    assert as_dict["rows"][0]["deployment"] == "mini"
    assert as_dict["rows"][0]["cost_per_month_usd"] == pytest.approx(15.0)
    assert as_dict["total"]["requests"] == 1


@pytest.mark.parametrize(("days", "buffer"), [(0, 0.3), (-1, 0.3), (7, -0.1)])
def test_a_window_under_a_day_or_a_negative_buffer_is_refused(days: int, buffer: float) -> None:
    with pytest.raises(ValueError, match=r"window|buffer"):
        project(EVENTS, days=days, buffer=buffer)
