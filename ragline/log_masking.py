"""Puts the PII log filter on every handler that writes this process's log lines."""

from __future__ import annotations

import logging

from governance.pii_log_filter import PiiLogFilter
from kernel.settings import PiiSettings

# uvicorn's loggers write through handlers of their own and do not propagate to root.
_WRITERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access")


def mask_pii_in_logs(settings: PiiSettings) -> None:
    """Idempotent: a handler that already masks is left alone, however often it is called."""
    masking = PiiLogFilter.from_settings(settings)
    for name in _WRITERS:
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, PiiLogFilter) for f in handler.filters):
                handler.addFilter(masking)
