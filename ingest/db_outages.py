"""A database that cannot be reached is an outage (503), not a bug (500).

Every store on the registry's database (documents, buckets, refresh runs, schedules,
answer records) runs on an engine made by ``ingest.registry_tables``; this module
hooks that engine's ``handle_error`` event once, so none of them handles connection
failures on its own and a new store gets the same behaviour for free. An error is an
outage when it is about reaching the server, not about the statement:

- SQLAlchemy saw a disconnect (``is_disconnect``: the server closed or reset the
  connection, a pooled connection went stale);
- the driver raised ``OperationalError``/``InterfaceError`` with no SQLSTATE (psycopg's
  client side: connection refused, timed out, closed), or a SQLSTATE of class 08
  (connection exception) or 57P01-57P03 (the server shut down, crashed, or is starting).

Everything else keeps its type: an integrity error, a syntax error, a deadlock or a
SQLite ``database is locked`` is not an outage, and reporting it as one would send
clients to retry what will never work. The engine's pre-ping is left alone: it must
see the raw error to replace a stale connection with a fresh one.

The driver's message names the host and port, so it goes to the log (chained as
``__cause__``), and the user's message says only which dependency is down.
"""

from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.engine import Engine, ExceptionContext
from sqlalchemy.exc import InterfaceError, OperationalError

from kernel.errors import DependencyUnavailableError

log = logging.getLogger(__name__)

DATABASE_RETRY_AFTER_S = 5
_SERVER_GONE = frozenset({"57P01", "57P02", "57P03"})  # admin/crash shutdown, cannot connect now
_NO_SQLSTATE = object()  # the driver has no notion of SQLSTATE (sqlite3)


def is_outage(context: ExceptionContext) -> bool:
    """True when the error says the database cannot be reached, not that the statement failed."""
    if context.is_disconnect:
        return True
    if not isinstance(context.sqlalchemy_exception, OperationalError | InterfaceError):
        return False
    state = getattr(context.original_exception, "sqlstate", _NO_SQLSTATE)
    if state is _NO_SQLSTATE:
        return False
    if state is None:
        return True
    return isinstance(state, str) and (state.startswith("08") or state in _SERVER_GONE)


def report_outages(engine: Engine) -> None:
    """Make connection failures on ``engine`` raise :class:`DependencyUnavailableError`."""

    @event.listens_for(engine, "handle_error")
    def _outage(context: ExceptionContext) -> None:
        if context.is_pre_ping or not is_outage(context):
            return
        # One line per failed call, no traceback: an outage fails many calls at once.
        log.warning("database unavailable: %s", context.original_exception)
        raise DependencyUnavailableError(
            "The database is unavailable; try again shortly.",
            retry_after_s=DATABASE_RETRY_AFTER_S,
        ) from context.original_exception
