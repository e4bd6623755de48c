"""The log filter: structured identifiers never reach a log line; other records pass as is."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from governance.pii_log_filter import PiiLogFilter, redact_structured
from kernel.settings import PiiSettings

pytestmark = pytest.mark.unit


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A private logger tree with one handler carrying the filter, as the shell installs it."""
    parent = logging.getLogger("ragline-test-pii-log-filter")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    parent.addHandler(handler)
    parent.setLevel(logging.INFO)
    parent.propagate = False
    PiiLogFilter().install(parent)
    try:
        yield parent, stream
    finally:
        parent.removeHandler(handler)


def record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("t", logging.INFO, __file__, 1, msg, args or None, None)


def test_identifiers_in_args_and_message_are_redacted() -> None:
    rec = record(
        "user %s paid with %s from %s", "a.b@example.com", "4111 1111 1111 1111", "10.0.0.5"
    )
    assert PiiLogFilter().filter(rec) is True
    assert rec.getMessage() == "user <EMAIL> paid with <CREDIT_CARD> from <IP_ADDRESS>"
    assert rec.args is None
    inline = record("callback +1 646 813 2290, SSN 536-22-8726")
    PiiLogFilter().filter(inline)
    assert inline.getMessage() == "callback <PHONE>, SSN <US_SSN>"


def test_a_record_without_pii_keeps_its_args() -> None:
    rec = record("order %d shipped in %.1f s to bucket %s", 4815162342, 1.5, "hr")
    PiiLogFilter().filter(rec)
    assert rec.msg == "order %d shipped in %.1f s to bucket %s"
    assert rec.args == (4815162342, 1.5, "hr")


def test_records_of_child_loggers_are_redacted_by_the_handler(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    parent, stream = logged
    child = logging.getLogger(f"{parent.name}.api")
    child.info("login failed for %s", "olga.petrova@yandex.ru")
    try:
        raise ValueError("bad IBAN DE89 3704 0044 0532 0130 00")
    except ValueError:
        child.exception("transfer for %s failed", "a@b.com")
    out = stream.getvalue()
    assert "olga.petrova" not in out and "DE89" not in out and "a@b.com" not in out
    assert f"{child.name} INFO login failed for <EMAIL>" in out
    assert "transfer for <EMAIL> failed" in out
    assert "ValueError: bad IBAN <IBAN>" in out


def test_a_message_that_does_not_format_is_passed_on() -> None:
    rec = record("two %s %s", "only-one")
    assert PiiLogFilter().filter(rec) is True
    assert rec.msg == "two %s %s"


def test_the_settings_choose_the_types_and_names_are_never_looked_for() -> None:
    only_cards = PiiLogFilter.from_settings(PiiSettings(entities=["CREDIT_CARD", "PERSON"]))
    rec = record("John Smith, a@b.com, 4111-1111-1111-1111")
    only_cards.filter(rec)
    assert rec.getMessage() == "John Smith, a@b.com, <CREDIT_CARD>"


def test_installing_twice_adds_the_filter_once() -> None:
    logger = logging.getLogger("ragline-test-pii-install-twice")
    handler = logging.NullHandler()
    logger.addHandler(handler)
    try:
        pii_filter = PiiLogFilter()
        pii_filter.install(logger)
        pii_filter.install(logger)
        assert handler.filters == [pii_filter]
    finally:
        logger.removeHandler(handler)


def test_redact_structured_leaves_plain_text_alone() -> None:
    assert redact_structured("nothing here, version 1.2.3.4") == "nothing here, version 1.2.3.4"
    assert redact_structured("ip 81.2.69.142") == "ip <IP_ADDRESS>"
