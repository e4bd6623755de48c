"""Budgets per team and per key: checked before a generated answer, reported to admins.

Limits come from the models file (``kernel.models_config.Budgets``): per team, and
per key by the key's configured ``name``; each has a daily and a monthly limit, soft
and hard, in US dollars. Periods are the UTC day and the UTC calendar month, and
spend is what the ledger holds for them (``usage.ledger``): a team's by its name, a
key's by its fingerprint (``key_id``), since a key's name is only a label.

Before each generated answer the caller asks :meth:`BudgetGuard.check`:

- spend at or over a hard limit: ``refuse`` (the caller raises
  :class:`BudgetExceededError`, a 429, with the decision's message; see
  :func:`raise_if_refused`) or ``downgrade`` (the caller answers on the fast tier),
  as ``on_hard_limit`` says;
- spend at or over a soft limit: ``allow``, with the limit in ``warnings``.

A limit reached is recorded in ``budget_alerts`` once per subject, period and kind
(and logged as a WARNING then, naming the team or key name, never the key or the
question); the table's unique constraint keeps one row when several processes cross
it at once. The check is made before the answer, so the answer that crosses a limit
is given and the next one is refused.

With the database down the check cannot know the spend: it allows the answer and
logs it, as ``/ask`` keeps answering through an outage; the spend of an outage is
bounded by its length, a refused answer for every caller is not.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from kernel.errors import BudgetExceededError, DependencyUnavailableError
from kernel.models_config import Budgets, Limits
from usage.ledger import AlertKind, BudgetAlert, Period, Scope, UsageLedger

log = logging.getLogger(__name__)

Action = Literal["allow", "downgrade", "refuse"]
State = Literal["ok", "soft", "hard"]
Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class BudgetDecision:
    """What to do with the next generated answer; ``message`` says why when not allowed."""

    action: Action = "allow"
    message: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """A team's or a key's spend this UTC day and month against its limits."""

    scope: Scope
    subject: str
    day_spent_usd: float
    month_spent_usd: float
    daily_soft_usd: float | None
    daily_hard_usd: float | None
    monthly_soft_usd: float | None
    monthly_hard_usd: float | None
    state: State


def raise_if_refused(decision: BudgetDecision) -> None:
    """Raise :class:`BudgetExceededError` (429) with the decision's message if it refuses."""
    if decision.action == "refuse":
        raise BudgetExceededError(decision.message or "the budget for these answers is spent")


def usd(amount: float) -> str:
    """Dollars as people read them: cents from a dollar up, two significant digits below."""
    if amount == 0 or abs(amount) >= 1:
        return f"${amount:,.2f}"
    decimals = max(2, 1 - math.floor(math.log10(abs(amount))))
    return f"${amount:.{decimals}f}"


@dataclass(frozen=True, slots=True)
class _Periods:
    now: datetime
    day_start: datetime
    month_start: datetime

    @classmethod
    def at(cls, now: datetime) -> _Periods:
        now = now.astimezone(UTC)
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return cls(now=now, day_start=day, month_start=day.replace(day=1))

    def start(self, period: Period) -> datetime:
        return self.day_start if period == "day" else self.month_start

    def resets(self, period: Period) -> str:
        if period == "day":
            return "resets at 00:00 UTC"
        following = (self.month_start + timedelta(days=32)).replace(day=1)
        return f"resets on {following:%Y-%m-%d} at 00:00 UTC"


@dataclass(frozen=True, slots=True)
class _Breach:
    """A limit a subject's spend has reached."""

    scope: Scope
    subject: str
    period: Period
    kind: AlertKind
    limit_usd: float
    spent_usd: float

    def describe(self, periods: _Periods) -> str:
        budget = "daily" if self.period == "day" else "monthly"
        soft = " soft" if self.kind == "soft" else ""
        return (
            f"{self.scope} '{self.subject}' has spent {usd(self.spent_usd)} of its "
            f"{usd(self.limit_usd)} {budget}{soft} budget; {periods.resets(self.period)}"
        )


def _breaches(
    scope: Scope, subject: str, limits: Limits, spent: dict[Period, float]
) -> list[_Breach]:
    """The limits reached, hard before soft, day before month."""
    found: list[_Breach] = []
    for kind in ("hard", "soft"):
        for period in ("day", "month"):
            limit = _limit(limits, period, kind)
            if limit is not None and period in spent and spent[period] >= limit:
                found.append(_Breach(scope, subject, period, kind, limit, spent[period]))
    return found


def _limit(limits: Limits, period: Period, kind: AlertKind) -> float | None:
    if period == "day":
        return limits.daily_hard_usd if kind == "hard" else limits.daily_soft_usd
    return limits.monthly_hard_usd if kind == "hard" else limits.monthly_soft_usd


def _periods_limited(limits: Limits) -> list[Period]:
    periods: list[Period] = []
    if limits.daily_soft_usd is not None or limits.daily_hard_usd is not None:
        periods.append("day")
    if limits.monthly_soft_usd is not None or limits.monthly_hard_usd is not None:
        periods.append("month")
    return periods


class BudgetGuard:
    """Budgets of the models file, enforced on the ledger's spend.

    ``clock`` tells the time (UTC); tests move it across a day or a month.
    """

    def __init__(
        self,
        ledger: UsageLedger,
        budgets: Budgets,
        *,
        clock: Clock = _utc_now,
        key_limits: Callable[[str], Limits | None] | None = None,
    ) -> None:
        self._ledger = ledger
        self._budgets = budgets
        self._clock = clock
        # A managed key's own limits (governance.keys), looked up by its id; they take
        # precedence over the models file's limits for the key's name.
        self._key_limits = key_limits
        # Alerts this process knows are stored: no query per check once a limit is reached.
        self._stored: set[tuple[Scope, str, Period, datetime, AlertKind]] = set()
        self._lock = threading.Lock()

    @property
    def on_hard_limit(self) -> Literal["refuse", "downgrade"]:
        return self._budgets.on_hard_limit

    def check(self, *, key_id: str, key_name: str | None, team: str) -> BudgetDecision:
        """What to do with the caller's next generated answer.

        ``key_id`` is the key's fingerprint (its spend), ``key_name`` its configured
        name (its limits; a key without one has only its team's limits).
        """
        subjects: list[tuple[Scope, str, Limits, Callable[[datetime], float]]] = []
        team_limits = self._budgets.teams.get(team)
        if team_limits is not None:
            subjects.append(
                (
                    "team",
                    team,
                    team_limits,
                    lambda since: self._ledger.spent(team=team, since=since),
                )
            )
        key_limits = self._key_limits(key_id) if self._key_limits else None
        if key_limits is None and key_name:
            key_limits = self._budgets.keys.get(key_name)
        if key_limits is not None:
            subjects.append(
                (
                    "key",
                    key_name or key_id,
                    key_limits,
                    lambda since: self._ledger.spent(key_id=key_id, since=since),
                )
            )
        if not subjects:
            return BudgetDecision()
        periods = _Periods.at(self._clock())
        try:
            breaches = [
                breach
                for scope, subject, limits, spend in subjects
                for breach in _breaches(
                    scope,
                    subject,
                    limits,
                    {p: spend(periods.start(p)) for p in _periods_limited(limits)},
                )
            ]
        except DependencyUnavailableError:
            log.warning(
                "budgets of team %r not checked: the database is unavailable; answering", team
            )
            return BudgetDecision()
        for breach in breaches:
            self._record(breach, periods)
        warnings = tuple(b.describe(periods) for b in breaches if b.kind == "soft")
        hard = [b for b in breaches if b.kind == "hard"]
        if not hard:
            return BudgetDecision("allow", None, warnings)
        message = hard[0].describe(periods)
        if self._budgets.on_hard_limit == "downgrade":
            return BudgetDecision("downgrade", f"{message}; answering on the fast tier", warnings)
        return BudgetDecision("refuse", message, warnings)

    def status(self) -> list[BudgetStatus]:
        """Every configured team, then every configured key, by name.

        A key's spend here is summed by the name recorded with each answer (the
        status knows names, not fingerprints): it differs from what :meth:`check`
        sees only if several keys share a name.
        """
        periods = _Periods.at(self._clock())
        rows: list[BudgetStatus] = []
        configured: list[tuple[Scope, dict[str, Limits]]] = [
            ("team", self._budgets.teams),
            ("key", self._budgets.keys),
        ]
        for scope, table in configured:
            for subject, limits in sorted(table.items()):
                by = {"team": subject} if scope == "team" else {"key_name": subject}
                spent: dict[Period, float] = {
                    p: self._ledger.spent(since=periods.start(p), **by) for p in ("day", "month")
                }
                kinds = {b.kind for b in _breaches(scope, subject, limits, spent)}
                state: State = "hard" if "hard" in kinds else "soft" if "soft" in kinds else "ok"
                rows.append(
                    BudgetStatus(
                        scope=scope,
                        subject=subject,
                        day_spent_usd=spent["day"],
                        month_spent_usd=spent["month"],
                        daily_soft_usd=limits.daily_soft_usd,
                        daily_hard_usd=limits.daily_hard_usd,
                        monthly_soft_usd=limits.monthly_soft_usd,
                        monthly_hard_usd=limits.monthly_hard_usd,
                        state=state,
                    )
                )
        return rows

    def alerts(self, since: datetime) -> list[BudgetAlert]:
        """Limits reached since ``since``, newest first (what the metrics layer reads)."""
        return self._ledger.alerts(since)

    def _record(self, breach: _Breach, periods: _Periods) -> None:
        """Store the breach's alert once per period, and log it when this call stored it."""
        start = periods.start(breach.period)
        identity = (breach.scope, breach.subject, breach.period, start, breach.kind)
        with self._lock:
            if identity in self._stored:
                return
        try:
            present = self._ledger.has_alert(
                scope=breach.scope,
                subject=breach.subject,
                period=breach.period,
                period_start=start,
                kind=breach.kind,
            )
            stored = not present and self._ledger.record_alert(
                BudgetAlert(
                    scope=breach.scope,
                    subject=breach.subject,
                    period=breach.period,
                    period_start=start,
                    kind=breach.kind,
                    limit_usd=breach.limit_usd,
                    spent_usd=breach.spent_usd,
                    created_at=periods.now,
                )
            )
        except DependencyUnavailableError:
            return  # the next check records it
        with self._lock:
            # Forget past periods' alerts: the set holds the current periods' only.
            self._stored = {known for known in self._stored if known[3] >= periods.start(known[2])}
            self._stored.add(identity)
        if stored:
            log.warning("budget alert (%s limit): %s", breach.kind, breach.describe(periods))
