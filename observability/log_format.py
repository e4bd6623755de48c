"""Log lines as one JSON object each, for a log pipeline to index without parsing text.

Every line has ``ts`` (ISO-8601, UTC, milliseconds), ``level``, ``logger`` and
``message``; ``request_id`` when the line was written while serving a request or a task
a request sent (:mod:`observability.log_context`); ``trace_id`` and ``span_id`` when a
span is being recorded (so a log search can jump to the trace); the record's own extras
(``log.info("...", extra={"document_id": ...})``) as fields; an exception as ``exc``.

The message and traceback arrive masked (the PII and secret filters run on the handler
before it formats); extras are not seen by those filters, so their string values go
through ``mask`` here. A value that is not JSON is written as its ``repr``-free ``str``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

from observability.log_context import current_request_id

__all__ = ["TEXT_FORMAT", "JsonFormatter", "RequestContextFilter"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Attributes every LogRecord has: whatever else a record carries came from ``extra``.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "request_id", "trace_id", "span_id", "taskName"}
)


class RequestContextFilter(logging.Filter):
    """Stamps the current request id (and span) on the record when it is created.

    A handler may format later or on another thread (a queue handler); the ids are
    those of the code that logged, read here while still in its context.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        if getattr(record, "trace_id", None) is None:
            context = trace.get_current_span().get_span_context()
            if context.is_valid:
                record.trace_id = format(context.trace_id, "032x")
                record.span_id = format(context.span_id, "016x")
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines inside values are escaped)."""

    def __init__(self, mask: Callable[[str], str] | None = None) -> None:
        super().__init__()
        self._mask = mask or (lambda text: text)

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id:
            line["request_id"] = request_id
        for name in ("trace_id", "span_id"):
            value = getattr(record, name, None)
            if value:
                line[name] = value
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_") and name not in line:
                line[name] = self._plain(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)

    def _plain(self, value: Any) -> Any:
        """A JSON-ready copy of an extra, every string in it masked."""
        if isinstance(value, str):
            return self._mask(value)
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, dict):
            return {str(k): self._plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._plain(v) for v in value]
        return self._mask(str(value))
