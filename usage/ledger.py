"""The usage ledger: what each generated answer cost, and who it is charged to.

One line per generated answer (``usage_events``), written after the answer is
made, and the budget alerts raised on that spend (``budget_alerts``). Budgets
(``usage.budgets``) and the cost projection (``usage.projection``) read it; nothing
else writes it.

With the database down an answer already given must not fail for its ledger line:
the miss is logged (ids only) and counted in :attr:`UsageLedger.unrecorded`, as
``governance.audit_answers`` does for answer records. A line recorded twice for one answer
(a retried write) keeps the first.

Times are stored in UTC. SQLite keeps them without a zone and PostgreSQL with one;
every time handed in is converted to UTC first, so comparisons agree on both, and
every time handed back is aware UTC.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from kernel.errors import DependencyUnavailableError
from usage.tables import BudgetAlertRow, UsageBase, UsageEventRow

log = logging.getLogger(__name__)

Scope = Literal["team", "key"]
Period = Literal["day", "month"]
AlertKind = Literal["soft", "hard"]


@dataclass(frozen=True, slots=True)
class UsageEvent:
    """One generated answer's tokens and cost; ``key_id`` is the key's fingerprint."""

    answer_id: str
    key_id: str
    key_name: str | None
    team: str
    deployment: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    created_at: datetime

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None:
            raise ValueError("UsageEvent.created_at must be timezone-aware (UTC)")
        if self.prompt_tokens < 0 or self.completion_tokens < 0 or self.cost_usd < 0:
            raise ValueError("UsageEvent tokens and cost cannot be negative")


@dataclass(frozen=True, slots=True)
class BudgetAlert:
    """A limit reached: recorded once per (scope, subject, period, period_start, kind)."""

    scope: Scope
    subject: str
    period: Period
    period_start: datetime
    kind: AlertKind
    limit_usd: float
    spent_usd: float
    created_at: datetime


def _utc(moment: datetime) -> datetime:
    """Aware UTC; a naive time (SQLite hands those back) is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _event(row: UsageEventRow) -> UsageEvent:
    return UsageEvent(
        answer_id=row.answer_id,
        key_id=row.key_id,
        key_name=row.key_name,
        team=row.team,
        deployment=row.deployment,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        cost_usd=row.cost_usd,
        created_at=_utc(row.created_at),
    )


def _alert(row: BudgetAlertRow) -> BudgetAlert:
    return BudgetAlert(
        scope=row.scope,  # type: ignore[arg-type]
        subject=row.subject,
        period=row.period,  # type: ignore[arg-type]
        period_start=_utc(row.period_start),
        kind=row.kind,  # type: ignore[arg-type]
        limit_usd=row.limit_usd,
        spent_usd=row.spent_usd,
        created_at=_utc(row.created_at),
    )


class UsageLedger:
    """Usage lines and budget alerts on a SQLAlchemy engine (the registry's, in production).

    The tables are created if missing, so a bare SQLite engine works in tests; in
    production the migrations made them already.
    """

    def __init__(self, engine: Engine) -> None:
        UsageBase.metadata.create_all(engine)
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._lock = threading.Lock()
        self._unrecorded = 0

    @property
    def unrecorded(self) -> int:
        """Usage lines lost since start-up because the database was down."""
        return self._unrecorded

    def record(self, event: UsageEvent) -> None:
        """Write the line; with the database down, log and count the miss instead of raising."""
        try:
            with self._sessions.begin() as s:
                s.add(
                    UsageEventRow(
                        answer_id=event.answer_id,
                        key_id=event.key_id,
                        key_name=event.key_name,
                        team=event.team,
                        deployment=event.deployment,
                        prompt_tokens=event.prompt_tokens,
                        completion_tokens=event.completion_tokens,
                        cost_usd=event.cost_usd,
                        created_at=_utc(event.created_at),
                    )
                )
        except IntegrityError:
            log.warning("usage of answer %s was already recorded; kept the first", event.answer_id)
        except DependencyUnavailableError:
            with self._lock:
                self._unrecorded += 1
                missed = self._unrecorded
            # Ids only: never the key, the question or the answer.
            log.warning(
                "usage of answer %s (key %s) was not recorded: the database is unavailable "
                "(%d unrecorded since start-up)",
                event.answer_id,
                event.key_id,
                missed,
            )

    def spent(
        self,
        *,
        team: str | None = None,
        key_id: str | None = None,
        key_name: str | None = None,
        since: datetime,
    ) -> float:
        """US dollars spent since ``since`` by a team, a key (fingerprint) or a key name.

        Exactly one of ``team``, ``key_id`` and ``key_name`` is given (ValueError
        otherwise). Raises :class:`DependencyUnavailableError` with the database down.
        """
        subjects = [
            (column, value)
            for column, value in (
                (UsageEventRow.team, team),
                (UsageEventRow.key_id, key_id),
                (UsageEventRow.key_name, key_name),
            )
            if value is not None
        ]
        if len(subjects) != 1:
            raise ValueError("spent() needs exactly one of team, key_id and key_name")
        column, value = subjects[0]
        statement = select(func.coalesce(func.sum(UsageEventRow.cost_usd), 0.0)).where(
            column == value, UsageEventRow.created_at >= _utc(since)
        )
        with self._sessions.begin() as s:
            return float(s.scalar(statement) or 0.0)

    def events(self, since: datetime, until: datetime | None = None) -> list[UsageEvent]:
        """Lines made at or after ``since`` and before ``until``, oldest first."""
        statement = select(UsageEventRow).where(UsageEventRow.created_at >= _utc(since))
        if until is not None:
            statement = statement.where(UsageEventRow.created_at < _utc(until))
        statement = statement.order_by(UsageEventRow.created_at, UsageEventRow.answer_id)
        with self._sessions.begin() as s:
            return [_event(row) for row in s.scalars(statement)]

    def record_alert(self, alert: BudgetAlert) -> bool:
        """Store the alert unless its period already has one; True when this call stored it.

        Safe under concurrency: two processes crossing the same limit at once both
        try, the unique constraint keeps one row, and the other gets False.
        """
        try:
            with self._sessions.begin() as s:
                s.add(
                    BudgetAlertRow(
                        scope=alert.scope,
                        subject=alert.subject,
                        period=alert.period,
                        period_start=_utc(alert.period_start),
                        kind=alert.kind,
                        limit_usd=alert.limit_usd,
                        spent_usd=alert.spent_usd,
                        created_at=_utc(alert.created_at),
                    )
                )
        except IntegrityError:
            return False
        return True

    def has_alert(
        self, *, scope: Scope, subject: str, period: Period, period_start: datetime, kind: AlertKind
    ) -> bool:
        statement = select(BudgetAlertRow.id).where(
            BudgetAlertRow.scope == scope,
            BudgetAlertRow.subject == subject,
            BudgetAlertRow.period == period,
            BudgetAlertRow.period_start == _utc(period_start),
            BudgetAlertRow.kind == kind,
        )
        with self._sessions.begin() as s:
            return s.scalars(statement.limit(1)).first() is not None

    def alerts(self, since: datetime) -> list[BudgetAlert]:
        """Alerts raised at or after ``since``, newest first."""
        statement = (
            select(BudgetAlertRow)
            .where(BudgetAlertRow.created_at >= _utc(since))
            .order_by(BudgetAlertRow.created_at.desc(), BudgetAlertRow.id.desc())
        )
        with self._sessions.begin() as s:
            return [_alert(row) for row in s.scalars(statement)]
