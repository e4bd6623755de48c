"""Make the OpenAPI spec list the errors the edge and the handlers really return.

Done once over the generated spec rather than by hand per route, so a new route is
documented truthfully too: 401 wherever the edge guard authenticates, 503 with
``Retry-After`` wherever a dependency may be down (every authenticated route reads the
database or the index), 403 where the admin dependency applies, 400/413 where a body
is parsed, and 422 in our error shape (FastAPI would otherwise document its
``HTTPValidationError``, which we never send).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.deps import require_admin
from api.edge_guard import PUBLIC_PATHS
from api.schemas import ErrorOut

_REF = "#/components/schemas/{model}"
_DESCRIPTIONS = {
    400: "The body is not valid JSON in UTF-8, or not a readable form",
    401: "Missing or unknown API key (answered before the body is read)",
    403: "The key lacks the 'admin' role",
    413: "The body is over its limit (answered before it is read in full)",
    422: "The request is not valid",
    503: "A dependency is down (database, message broker or search index); try again after "
    "Retry-After seconds",
}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer"},
    }
}


def install_error_responses(app: FastAPI, routes: Sequence[APIRoute]) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _document_errors(routes, generate())  # generate() caches the spec it returns
        return generate()

    app.openapi = openapi  # type: ignore[method-assign]


def _document_errors(routes: Sequence[APIRoute], spec: dict[str, Any]) -> None:
    schemas: dict[str, Any] = spec.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorOut.model_json_schema(ref_template=_REF)
    schemas.update(error_schema.pop("$defs", {}))
    schemas["ErrorOut"] = error_schema
    error_response = {"application/json": {"schema": {"$ref": _REF.format(model="ErrorOut")}}}
    for route in routes:
        if route.path in PUBLIC_PATHS:
            continue
        statuses = [401, 503]
        if route.body_field is not None:
            statuses += [400, 413]
        if _needs_admin(route.dependant):
            statuses.append(403)
        for method in route.methods or ():
            operation = spec["paths"][route.path_format][method.lower()]
            responses: dict[str, Any] = operation.setdefault("responses", {})
            # FastAPI lists 422 where it validates input; we only change the body shape.
            for status in [*statuses, *([422] if "422" in responses else [])]:
                documented = responses.setdefault(str(status), {})
                documented.setdefault("description", _DESCRIPTIONS[status])
                documented["content"] = error_response
                if status == 503:
                    documented["headers"] = _RETRY_AFTER
    if not any("HTTPValidationError" in str(p) for p in spec["paths"].values()):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)


def _needs_admin(dependant: Dependant) -> bool:
    return any(d.call is require_admin or _needs_admin(d) for d in dependant.dependencies)
