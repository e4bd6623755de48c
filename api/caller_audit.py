"""Audit events written as the authenticated caller: one line in the handler that acts.

A route takes ``audit: CallerAuditDep`` and, once its change is made, calls
``audit.record("document.delete", document_id, bucket=...)`` (``await
audit.arecord(...)`` from an ``async`` route: the append waits on the database).
Details are ids and names only, never a document's text or a key.

With the database down the change itself has already been made, so the event's
loss is logged (action and target only) rather than turned into an error that
would make the client retry what succeeded.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends
from starlette.concurrency import run_in_threadpool

from api.deps import AuditDep, PrincipalDep
from governance.audit_port import Actor, AuditTrail
from governance.pii_log_filter import redact_structured
from kernel.errors import DependencyUnavailableError
from retrieval.access import Principal

log = logging.getLogger(__name__)


def actor_of(principal: Principal) -> Actor:
    return Actor(key_id=principal.key_id, team=principal.team, identity=principal.name)


class CallerAudit:
    def __init__(self, trail: AuditTrail, principal: Principal) -> None:
        self._trail = trail
        self._actor = actor_of(principal)

    def record(self, action: str, target: str | None = None, **details: object) -> None:
        # Names are chosen by users ("jane.doe@example.com.pdf"): structured identifiers
        # in them are masked before they enter a log that is kept for a year.
        target = None if target is None else redact_structured(target)
        details = {k: _masked(v) for k, v in details.items()}
        try:
            self._trail.record(actor=self._actor, action=action, target=target, details=details)
        except DependencyUnavailableError:
            log.warning(
                "audit event %s on %s not recorded: the database is unavailable", action, target
            )

    async def arecord(self, action: str, target: str | None = None, **details: object) -> None:
        await run_in_threadpool(self.record, action, target, **details)


def _masked(value: object) -> object:
    if isinstance(value, str):
        return redact_structured(value)
    if isinstance(value, list | tuple):
        return [_masked(v) for v in value]
    return value


def _caller_audit(trail: AuditDep, principal: PrincipalDep) -> CallerAudit:
    return CallerAudit(trail, principal)


CallerAuditDep = Annotated[CallerAudit, Depends(_caller_audit)]
