"""The route template a request is for, known before the router runs.

The edge guard needs it to pick a body limit and the access log to name the route
without ids; both run outside the router, so they match the app's own routes here.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import Route
from starlette.types import Scope

UNMATCHED = "<unmatched>"


class RouteLookup:
    def __init__(self, routes: Sequence[Route]) -> None:
        self._routes = list(routes)

    def template(self, scope: Scope) -> str:
        routed = getattr(scope.get("route"), "path", None)
        if isinstance(routed, str):
            return routed
        path = scope.get("path", "")
        method = scope.get("method", "")
        partial: str | None = None
        for route in self._routes:
            if not route.path_regex.match(path):
                continue
            if route.methods is None or method in route.methods:
                return route.path
            partial = partial or route.path
        return partial or UNMATCHED
