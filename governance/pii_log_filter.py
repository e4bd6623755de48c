"""A logging filter that keeps structured identifiers out of every log line.

Only the validated finders of :mod:`governance.pii_recognizers` run here, never the NER
model: a filter runs on every record of every thread and must cost microseconds (a
record without a digit or an "@" costs one regex scan). Names in logs are the job of
the code that logs: it logs ids, not people.

Install it on handlers, not on a logger: a logger's own filters see only the records
logged through that logger, while a handler's filters see every record it writes,
whichever logger it came from (:meth:`PiiLogFilter.install`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from governance.pii_recognizers import STRUCTURED_TYPES, find_structured
from kernel.settings import PiiSettings


def redact_structured(text: str, entity_types: Iterable[str] = STRUCTURED_TYPES) -> str:
    """``text`` with each structured identifier replaced by its type (``<EMAIL>``)."""
    findings = find_structured(text, entity_types)
    if not findings:
        return text
    parts: list[str] = []
    at = 0
    for finding in findings:
        parts.append(text[at : finding.start])
        parts.append(f"<{finding.entity_type}>")
        at = finding.end
    parts.append(text[at:])
    return "".join(parts)


class PiiLogFilter(logging.Filter):
    """Redacts a record's formatted message (its args merged in) and its traceback text.

    A record with nothing to redact is left exactly as it came, args and all, so
    handlers that read ``record.args`` still can; one with something to redact gets its
    message formatted once, redacted, and its args dropped. Never drops a record.
    """

    def __init__(self, entity_types: Iterable[str] = STRUCTURED_TYPES) -> None:
        super().__init__()
        self._types = tuple(t for t in entity_types if t in STRUCTURED_TYPES)

    @classmethod
    def from_settings(cls, settings: PiiSettings) -> PiiLogFilter:
        return cls(settings.entities)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a message that does not format is logging's error to report
        redacted = redact_structured(message, self._types)
        if redacted != message:
            record.msg = redacted
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_structured(record.exc_text, self._types)
        if record.stack_info:
            record.stack_info = redact_structured(record.stack_info, self._types)
        return True

    def install(self, logger: logging.Logger) -> None:
        """Add this filter to every handler of ``logger`` (the root logger, in the shell)."""
        for handler in logger.handlers:
            if self not in handler.filters:
                handler.addFilter(self)
