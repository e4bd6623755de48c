"""How every ragline process writes its log lines: one call, made once at start-up.

``ragline serve``, ``ragline worker``, ``ragline beat`` and every other command get it
from the CLI's callback (``python -m ragline.worker`` calls it itself); a process started
some other way (``uvicorn ... --factory``, ``celery -A ragline.worker``) gets it from
:func:`ensure_logging` when its services open, unless something configured logging
first. One handler on the root logger, writing to the process's stderr, in the format
``log.format`` names (text or JSON, :mod:`observability.log_format`), with the PII and
secret filters and the request-id stamp on it (and on uvicorn's handlers, if any).

Celery is told not to configure logging (its ``setup_logging`` signal has a receiver):
otherwise a worker starting in this process would put the root logger at its own
level and give task loggers handlers of their own, in its own format.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

from celery import signals

from kernel.settings import Settings
from observability.log_format import TEXT_FORMAT, JsonFormatter
from ragline.log_masking import log_mask, mask_logs

__all__ = ["ConsoleHandler", "configure_logging", "ensure_logging"]

# Libraries whose DEBUG lines carry credentials (boto's carry the S3 access key id and
# request signatures) or drown the rest: never below INFO.
_CHATTY = ("botocore", "boto3", "urllib3")


class ConsoleHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is when a record is written.

    A test runner or a CLI runner swaps stderr and closes its copy; a handler that kept
    the stream it was built with would write into a closed file.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        pass


def _leave_logging_to_us(**_: Any) -> None:
    """Celery's ``setup_logging`` receiver: its presence tells Celery to configure nothing."""


def configure_logging(
    settings: Settings | None, level: str | None = None, *, force: bool = False
) -> None:
    """Configure this process's logging; ``level`` overrides ``settings.log_level``.

    Without settings (a configuration that does not load), text at WARNING, with PII
    masking and the shapes of secrets (no configured values to look for). Calling it
    again replaces the handler it added, never duplicates it. Like ``basicConfig``, it
    leaves a root logger that has someone else's handlers alone (a test runner's), and
    only puts the masking filters on them, unless ``force``.
    """
    root = logging.getLogger()
    if not force and any(not isinstance(h, ConsoleHandler) for h in root.handlers):
        mask_logs(settings)
        return
    chosen = (level or (settings.log_level if settings is not None else "WARNING")).upper()
    for old in [h for h in root.handlers if isinstance(h, ConsoleHandler)]:
        root.removeHandler(old)
    handler = ConsoleHandler()
    root.addHandler(handler)
    root.setLevel(chosen)
    secrets = mask_logs(settings)
    if settings is not None and settings.log.format == "json":
        handler.setFormatter(JsonFormatter(mask=log_mask(settings, secrets)))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    for name in _CHATTY:
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLevelName(chosen)))
    signals.setup_logging.connect(_leave_logging_to_us, weak=False, dispatch_uid="ragline-logs")


def ensure_logging(settings: Settings) -> None:
    """Configure logging unless the process already did; always refresh the masking
    (a secret created since, such as the embedded mode's local key, is learnt)."""
    if not logging.getLogger().handlers:
        configure_logging(settings)
    else:
        mask_logs(settings)
