from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness: the process serves requests")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    summary="Readiness: the registry, the index, the ingestion queue and a worker answer",
)
def ready(services: ServicesDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        services.ingestion.buckets.list_buckets()
        checks["registry"] = "ok"
    except Exception:  # noqa: BLE001 - a readiness probe reports, it does not raise
        checks["registry"] = "unavailable"
    try:
        services.ingestion.index.count()
        checks["index"] = "ok"
    except Exception:  # noqa: BLE001
        checks["index"] = "unavailable"
    try:
        checks.update(services.ingestion_checks())
    except Exception:  # noqa: BLE001
        checks.update(worker="unavailable", queue="unavailable")
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, 200 if ok else 503
    )
