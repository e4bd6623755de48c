"""What a refresh schedule may say, and when it fires next.

Two forms: ``every`` ("90s", "15m", "1h30m", "1d") for a fixed period, or a
five-field ``cron`` expression read in an IANA ``timezone`` (default UTC), so that
"02:00 in Zurich" stays 02:00 across daylight-saving changes. Every refusal says
what was wrong, because it reaches the user as a 422.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from ingest.records import Schedule
from kernel.errors import InvalidInputError

_EVERY = re.compile(r"(\d+)([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_MAX_EVERY_S = 366 * 86400
# Firings of a cron expression checked against the shortest allowed period.
_CRON_PROBE = 24


@dataclass(frozen=True, slots=True)
class ScheduleRule:
    every_s: int | None
    cron: str | None
    timezone: str = "UTC"


def parse_every(raw: str) -> int:
    """Seconds in "15m", "1h30m", "2d"; InvalidInputError otherwise."""
    text = raw.strip().lower()
    parts = _EVERY.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise InvalidInputError(
            f"every: '{raw}' is not a period; write a number and a unit (s, m, h, d), "
            "e.g. '15m' or '1h30m'"
        )
    return sum(int(n) * _UNIT_S[u] for n, u in parts)


def parse_rule(
    *, every: str | None, cron: str | None, timezone: str | None, min_every_s: int
) -> ScheduleRule:
    if (every is None) == (cron is None):
        raise InvalidInputError("a schedule needs exactly one of 'every' or 'cron'")
    if every is not None:
        if timezone is not None:
            raise InvalidInputError("'timezone' applies to 'cron' schedules only")
        seconds = parse_every(every)
        if seconds < min_every_s or seconds > _MAX_EVERY_S:
            raise InvalidInputError(
                f"every: '{every}' is {seconds} s; allowed is {min_every_s} s to 366 days"
            )
        return ScheduleRule(every_s=seconds, cron=None)
    assert cron is not None
    zone = timezone or "UTC"
    _zone(zone)
    expression = " ".join(cron.split())
    fields = len(expression.split(" "))
    try:
        if fields != 5:  # cronsim would read a sixth field as seconds
            raise CronSimError(f"{fields} fields")
        firings = CronSim(expression, datetime.now(UTC))
        times = [next(firings) for _ in range(_CRON_PROBE)]
    except CronSimError as exc:
        raise InvalidInputError(
            f"cron: '{cron}' is not a cron expression ({exc}); five fields: "
            "minute hour day-of-month month day-of-week, e.g. '*/30 * * * *'"
        ) from None
    shortest = min((b - a).total_seconds() for a, b in itertools.pairwise(times))
    if shortest < min_every_s:
        raise InvalidInputError(
            f"cron: '{cron}' fires {shortest:.0f} s apart; at least {min_every_s} s is allowed"
        )
    return ScheduleRule(every_s=None, cron=expression, timezone=zone)


def next_run(rule: ScheduleRule | Schedule, after: datetime) -> datetime:
    """The first time strictly after ``after`` (aware) that the rule fires, in UTC."""
    if rule.every_s is not None:
        return after + timedelta(seconds=rule.every_s)
    assert rule.cron is not None
    local = after.astimezone(_zone(rule.timezone))
    return next(CronSim(rule.cron, local)).astimezone(UTC)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError(
            f"timezone: '{name}' is not an IANA time zone (e.g. 'Europe/Zurich', 'UTC')"
        ) from None
