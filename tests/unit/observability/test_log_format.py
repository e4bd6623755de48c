"""The JSON formatter and the request-id context: one parseable object per line."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from contextvars import copy_context
from datetime import datetime

from observability.log_context import (
    bind_request_id,
    current_request_id,
    release_request_id,
    request_id_scope,
)
from observability.log_format import TEXT_FORMAT, JsonFormatter, RequestContextFilter


def _record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    logger = logging.getLogger("ragline.test")
    record = logger.makeRecord("ragline.test", logging.INFO, "f.py", 1, msg, args, None)
    for name, value in extra.items():
        setattr(record, name, value)
    return record


def _line(record: logging.LogRecord, formatter: JsonFormatter | None = None) -> dict[str, object]:
    RequestContextFilter().filter(record)
    text = (formatter or JsonFormatter()).format(record)
    assert "\n" not in text
    parsed: dict[str, object] = json.loads(text)
    return parsed


def test_a_line_has_utc_time_level_logger_and_the_formatted_message() -> None:
    line = _line(_record("document %s: %d chunks", "doc-1", 3))
    assert line["level"] == "INFO"
    assert line["logger"] == "ragline.test"
    assert line["message"] == "document doc-1: 3 chunks"
    ts = str(line["ts"])
    assert ts.endswith("Z")
    parsed = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    assert parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert "request_id" not in line and "trace_id" not in line


def test_the_request_id_is_the_one_current_when_the_record_was_made() -> None:
    with request_id_scope("req-7"):
        record = _record("inside")
        RequestContextFilter().filter(record)
    # Formatted later, outside the scope (a queue handler would): still the request's id.
    assert json.loads(JsonFormatter().format(record))["request_id"] == "req-7"
    assert current_request_id() is None


def test_extras_become_fields_and_their_strings_are_masked() -> None:
    record = _record(
        "upload",
        document_id="doc-9",
        size=12,
        owner="ann@example.com",
        nested={"to": ["bob@example.com"], "ok": True},
        obj=object(),
    )
    line = _line(record, JsonFormatter(mask=lambda s: s.replace("@example.com", "@<masked>")))
    assert line["document_id"] == "doc-9" and line["size"] == 12
    assert line["owner"] == "ann@<masked>"
    assert line["nested"] == {"to": ["bob@<masked>"], "ok": True}
    assert str(line["obj"]).startswith("<object object")


def test_an_exception_is_a_field_of_the_same_line() -> None:
    logger = logging.getLogger("ragline.test")
    try:
        raise ValueError("bad thing")
    except ValueError:
        import sys

        record = logger.makeRecord(
            "ragline.test", logging.ERROR, "f.py", 1, "failed", (), sys.exc_info()
        )
    line = _line(record)
    assert line["message"] == "failed"
    assert "ValueError: bad thing" in str(line["exc"]) and "Traceback" in str(line["exc"])


def test_non_ascii_and_quotes_stay_one_valid_line() -> None:
    line = _line(_record('título "quoted"\nsecond line'))
    assert line["message"] == 'título "quoted"\nsecond line'


def test_the_text_format_is_the_previous_one() -> None:
    formatter = logging.Formatter(TEXT_FORMAT)
    text = formatter.format(_record("hello"))
    assert text.endswith(" INFO ragline.test: hello")


def test_the_scope_restores_the_previous_id_and_threads_do_not_share_it() -> None:
    seen: dict[str, str | None] = {}
    with request_id_scope("outer"):
        with request_id_scope("inner"):
            assert current_request_id() == "inner"
        assert current_request_id() == "outer"

        def other() -> None:
            seen["thread"] = current_request_id()

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        # A context copied into a pool (run_in_threadpool does) keeps the id.
        seen["copied"] = copy_context().run(current_request_id)
    assert seen == {"thread": None, "copied": "outer"}
    assert current_request_id() is None


def test_tokens_pair_like_task_signals_and_asyncio_tasks_inherit() -> None:
    token = bind_request_id("task-1")
    assert current_request_id() == "task-1"
    release_request_id(token)
    assert current_request_id() is None

    async def main() -> str | None:
        with request_id_scope("req-async"):
            return await asyncio.create_task(_read())

    async def _read() -> str | None:
        return current_request_id()

    assert asyncio.run(main()) == "req-async"
