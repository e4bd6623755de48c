"""Liveness (``/health``) and readiness (``/ready``).

``/ready`` checks each dependency by name, at once and each within a bound, and says
which is down and why:

- ``registry``: a query on the database (the list of buckets), within 2 s;
- ``index``: a count on the search index, within 2 s;
- ``broker``: a connection to the message broker that declares the ingest queue;
- ``worker``: an ingestion worker answers (a ping in distributed mode), asked only
  when the broker answered.

The status is 503 only when ``/ask`` cannot answer: the index is down, or the
registry is down and the retrieval gate has nothing recent to answer from
(``retrieval.served_memory``). A broker or worker outage is reported in the body
(``"status": "degraded"``) with 200: ``/ask`` needs neither, and in Kubernetes a
readiness probe that failed on them would take every API replica out of the Service
at once, turning "uploads wait" into "nothing answers". Uploads during such an
outage answer 503 themselves, with ``Retry-After``.

The body is public (no key needed): reasons name the dependency, never a host, a
port or an error's text (those go to the log).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import AppServices, ServicesDep
from kernel.errors import DependencyUnavailableError

log = logging.getLogger(__name__)
T = TypeVar("T")
router = APIRouter(tags=["health"])

OK = "ok"
UNAVAILABLE = "unavailable"
CHECK_TIMEOUT_S = 2.0
# The ingestion checks bound themselves (workers.health); this only caps a stuck one.
_INGESTION_CAP_S = 5.0


@router.get("/health", summary="Liveness: the process serves requests")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    summary="Readiness: 503 when /ask cannot answer; the body names every dependency down",
    responses={503: {"description": "/ask cannot answer now; the body says which dependency"}},
)
def ready(services: ServicesDep) -> JSONResponse:
    checks, reasons = _run_checks(services)
    if checks["registry"] != OK and services.answers_without_registry():
        reasons["registry"] += "; /ask answers from recently served documents meanwhile"
        serving = checks["index"] == OK
    else:
        serving = checks["index"] == OK and checks["registry"] == OK
    if all(status == OK for status in checks.values()):
        status = "ok"
    else:
        status = "degraded" if serving else "unavailable"
    return JSONResponse(
        {"status": status, "checks": checks, "reasons": reasons}, 200 if serving else 503
    )


def _run_checks(services: AppServices) -> tuple[dict[str, str], dict[str, str]]:
    pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="ragline-ready")
    try:
        registry = pool.submit(_passes, services.ingestion.buckets.list_buckets)
        index = pool.submit(_passes, services.ingestion.index.count)
        ingestion = pool.submit(services.ingestion_checks)
        deadline = time.monotonic() + CHECK_TIMEOUT_S
        checks: dict[str, str] = {}
        reasons: dict[str, str] = {}
        for name, future, what in (
            ("registry", registry, "the database"),
            ("index", index, "the search index"),
        ):
            answered = _within(future, deadline)
            checks[name] = OK if answered else UNAVAILABLE
            if answered is None:
                reasons[name] = f"{what} did not answer within {CHECK_TIMEOUT_S:g} s"
            elif not answered:
                reasons[name] = f"{what} did not answer"
        cap = time.monotonic() + _INGESTION_CAP_S
        ingestion_checks = _within(ingestion, cap) or {}
        checks["broker"] = ingestion_checks.get("broker", UNAVAILABLE)
        checks["worker"] = ingestion_checks.get("worker", UNAVAILABLE)
        if checks["broker"] != OK:
            reasons["broker"] = "the message broker did not answer"
            reasons["worker"] = "the workers cannot be asked while the broker is down"
        elif checks["worker"] != OK:
            reasons["worker"] = "no ingestion worker answered"
        return checks, reasons
    finally:
        # A check still running after its bound is left to finish on its own.
        pool.shutdown(wait=False, cancel_futures=True)


def _passes(check: Callable[[], object]) -> bool:
    try:
        check()
    except DependencyUnavailableError:
        return False  # logged where it was raised, with the driver's own words
    except Exception:  # a readiness probe reports, it does not raise
        log.warning("readiness check failed", exc_info=True)
        return False
    return True


def _within(future: Future[T], deadline: float) -> T | None:
    """The future's result, or None when it is not ready by ``deadline`` (or failed)."""
    try:
        return future.result(timeout=max(0.0, deadline - time.monotonic()))
    except FutureTimeout:
        return None
    except Exception:  # a readiness probe reports, it does not raise
        log.warning("readiness check failed", exc_info=True)
        return None
