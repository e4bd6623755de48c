"""What finance asks: at the traffic of the last days, what will a month of answers cost?

Pure functions over usage lines (``usage.ledger.UsageEvent``): rows per team and
deployment with requests per day, average tokens, cost per request, per day and
per month (30 days), and the month with a safety buffer (30% by default). The
what-if (``reprice``) prices the same traffic, token for token, at another
deployment's prices: what moving a team to another model would cost.

The window is the ``days`` asked for, not the span between the first and last
line: a team that started using answers yesterday shows its traffic spread over
the whole window, which understates a fresh team and never overstates one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from kernel.models_config import Deployment
from usage.ledger import UsageEvent

MONTH_DAYS = 30
DEFAULT_BUFFER = 0.30
ALL = "all"


@dataclass(frozen=True, slots=True)
class CostRow:
    """One team on one deployment (or the totals, with ``team`` and ``deployment`` "all")."""

    team: str
    deployment: str
    requests: int
    requests_per_day: float
    avg_prompt_tokens: float
    avg_completion_tokens: float
    cost_per_request_usd: float
    cost_per_day_usd: float
    cost_per_month_usd: float
    cost_per_month_buffered_usd: float


@dataclass(frozen=True, slots=True)
class CostReport:
    days: int
    buffer: float
    # The deployment the traffic was repriced at (the what-if); None: as recorded.
    repriced_at: str | None
    rows: tuple[CostRow, ...]
    total: CostRow

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def project(
    events: Iterable[UsageEvent],
    *,
    days: int,
    buffer: float = DEFAULT_BUFFER,
    reprice: Deployment | None = None,
) -> CostReport:
    """The cost report of ``events``, observed over the last ``days`` days.

    Raises ValueError when ``days`` is below 1 or ``buffer`` is negative.
    """
    if days < 1:
        raise ValueError("the observed window must be at least one day")
    if buffer < 0:
        raise ValueError("the buffer cannot be negative")
    groups: dict[tuple[str, str], list[tuple[UsageEvent, float]]] = defaultdict(list)
    for event in events:
        cost = (
            event.cost_usd
            if reprice is None
            else reprice.cost_usd(event.prompt_tokens, event.completion_tokens)
        )
        groups[(event.team, event.deployment)].append((event, cost))
    rows = tuple(
        _row(
            team,
            deployment if reprice is None else f"{deployment} -> {reprice.name}",
            priced,
            days,
            buffer,
        )
        for (team, deployment), priced in sorted(groups.items())
    )
    everything = [item for priced in groups.values() for item in priced]
    return CostReport(
        days=days,
        buffer=buffer,
        repriced_at=reprice.name if reprice is not None else None,
        rows=rows,
        total=_row(ALL, ALL, everything, days, buffer),
    )


def _row(
    team: str,
    deployment: str,
    priced: Sequence[tuple[UsageEvent, float]],
    days: int,
    buffer: float,
) -> CostRow:
    requests = len(priced)
    cost = sum(c for _, c in priced)
    per_day = cost / days
    return CostRow(
        team=team,
        deployment=deployment,
        requests=requests,
        requests_per_day=requests / days,
        avg_prompt_tokens=_mean(sum(e.prompt_tokens for e, _ in priced), requests),
        avg_completion_tokens=_mean(sum(e.completion_tokens for e, _ in priced), requests),
        cost_per_request_usd=_mean(cost, requests),
        cost_per_day_usd=per_day,
        cost_per_month_usd=per_day * MONTH_DAYS,
        cost_per_month_buffered_usd=per_day * MONTH_DAYS * (1 + buffer),
    )


def _mean(total: float, count: int) -> float:
    return total / count if count else 0.0
