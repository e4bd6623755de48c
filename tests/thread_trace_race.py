"""Work around a CPython 3.11 race that kills threads started while coverage traces.

``sys.settrace`` guards itself with one process-wide flag (python/cpython#98257); a
thread that installs coverage's trace hook in ``threading._bootstrap_inner`` while
another thread is inside ``settrace`` gets ``RuntimeError: Cannot install a trace
function while another trace function is being installed`` and dies before its
target runs. Seen once in CI: an embedded ingest lane never started. Only the test
harness traces, and Python 3.12+ traces through ``sys.monitoring`` without the flag,
so the fix lives here: ``threading`` gets a view of ``sys`` whose ``settrace``
retries until the other installation is done.
"""

from __future__ import annotations

import sys
import threading
import time
from types import ModuleType
from typing import Any

_BUSY = "Cannot install a trace function while another trace function is being installed"


class _RetryingSys:
    def __init__(self, real: ModuleType) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def settrace(self, function: Any) -> None:
        for _ in range(1000):
            try:
                self._real.settrace(function)
            except RuntimeError as exc:
                if _BUSY not in str(exc):
                    raise
                time.sleep(0.001)
            else:
                return
        self._real.settrace(function)


def install() -> None:
    """Give ``threading`` the retrying view of ``sys`` (idempotent; 3.11 only)."""
    if sys.version_info >= (3, 12) or isinstance(threading._sys, _RetryingSys):  # type: ignore[attr-defined]
        return
    threading._sys = _RetryingSys(sys)  # type: ignore[attr-defined]
