"""The id of the request this code is working for, so every log line can name it.

A context variable, not a thread-local: it follows a request into ``run_in_threadpool``
and asyncio tasks (both copy the context), and it is set again in a worker for the
task that request sent (``workers.task_context``), so the upload's access line and the
worker's ingestion lines carry one ``request_id``. Set with :func:`request_id_scope`,
which always restores what was there, so a reused thread never leaks an old id.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

__all__ = ["bind_request_id", "current_request_id", "release_request_id", "request_id_scope"]

_request_id: ContextVar[str | None] = ContextVar("ragline_request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def bind_request_id(request_id: str | None) -> Token[str | None]:
    """Set the id until :func:`release_request_id` is given the token (signal pairs)."""
    return _request_id.set(request_id)


def release_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)


@contextmanager
def request_id_scope(request_id: str | None) -> Iterator[None]:
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)
