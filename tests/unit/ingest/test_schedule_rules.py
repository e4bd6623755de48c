"""What a refresh schedule may say, and when it fires next."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest.schedule_rules import ScheduleRule, next_run, parse_every, parse_rule
from kernel.errors import InvalidInputError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("90s", 90), ("15m", 900), ("1h30m", 5400), ("2d", 172800), (" 1H ", 3600)],
)
def test_periods_read_as_seconds(raw: str, seconds: int) -> None:
    assert parse_every(raw) == seconds


@pytest.mark.parametrize("raw", ["", "soon", "15", "m15", "1.5h", "15 m", "-5m", "1w"])
def test_a_period_that_is_not_one_says_how_to_write_it(raw: str) -> None:
    with pytest.raises(InvalidInputError, match="number and a unit"):
        parse_every(raw)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"every": None, "cron": None, "timezone": None}, "exactly one"),
        ({"every": "1m", "cron": "* * * * *", "timezone": None}, "exactly one"),
        ({"every": "10s", "cron": None, "timezone": None}, "allowed is 60 s"),
        ({"every": "400d", "cron": None, "timezone": None}, "366 days"),
        ({"every": "5m", "cron": None, "timezone": "UTC"}, "cron' schedules only"),
        ({"every": None, "cron": "61 * * * *", "timezone": None}, "Bad minute"),
        ({"every": None, "cron": "* * *", "timezone": None}, "five fields"),
        ({"every": None, "cron": "* * * * *", "timezone": "Mars/Olympus"}, "IANA"),
    ],
)
def test_bad_schedules_are_refused_with_the_reason(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_rule(**kwargs, min_every_s=60)


def test_every_fires_one_period_later() -> None:
    rule = parse_rule(every="15m", cron=None, timezone=None, min_every_s=60)
    at = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    assert rule == ScheduleRule(every_s=900, cron=None)
    assert next_run(rule, at) == datetime(2026, 11, 29, 10, 15, tzinfo=UTC)


def test_cron_is_read_in_its_time_zone_across_daylight_saving() -> None:
    rule = parse_rule(every=None, cron="0  2 * * *", timezone="Europe/Zurich", min_every_s=60)
    assert rule.cron == "0 2 * * *"
    # 02:00 in Zurich is 01:00 UTC in winter and 00:00 UTC in summer.
    winter = next_run(rule, datetime(2026, 11, 29, 12, 0, tzinfo=UTC))
    summer = next_run(rule, datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    assert winter == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    assert summer == datetime(2026, 7, 2, 0, 0, tzinfo=UTC)


def test_cron_next_run_is_strictly_later() -> None:
    rule = parse_rule(every=None, cron="*/30 * * * *", timezone=None, min_every_s=60)
    at = datetime(2026, 11, 29, 10, 30, tzinfo=UTC)
    assert next_run(rule, at) == datetime(2026, 11, 29, 11, 0, tzinfo=UTC)


def test_a_six_field_cron_is_refused_not_read_as_seconds() -> None:
    with pytest.raises(InvalidInputError, match="6 fields"):
        parse_rule(every=None, cron="* * * * * *", timezone=None, min_every_s=60)


def test_a_cron_that_fires_more_often_than_allowed_is_refused() -> None:
    assert parse_rule(every=None, cron="* * * * *", timezone=None, min_every_s=60).cron
    with pytest.raises(InvalidInputError, match="60 s apart; at least 300 s"):
        parse_rule(every=None, cron="0,1 * * * *", timezone=None, min_every_s=300)
