"""Counting the rows an UPDATE changed: how a compare-and-set learns whether it won."""

from __future__ import annotations

from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Update


def updated_rows(session: Session, statement: Update) -> int:
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount
