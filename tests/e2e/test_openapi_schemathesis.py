"""Every operation of the OpenAPI spec, fuzzed against the real app: no 5xx, no lie in the spec.

Bounded and derandomized so CI runs the same examples each time. Every operation in
the spec is tested (the list comes from the spec itself, nothing is excluded), with an
admin key so that role checks do not hide any route.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.app import build_app
from ragline.service import create_app
from tests.conftest import ADMIN_KEY, make_settings
from tests.e2e.conftest import auth

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = 25


def _operations() -> list[tuple[str, str]]:
    """(path, method) of every operation; the spec needs no running services."""
    spec = build_app(lambda: nullcontext()).openapi()  # type: ignore[arg-type, return-value]
    return [(path, method) for path, ops in spec["paths"].items() for method in ops]


@pytest.fixture(scope="module")
def api_schema(
    tmp_path_factory: pytest.TempPathFactory, embedder: Any
) -> Iterator[schemathesis.BaseSchema]:
    data_dir = tmp_path_factory.mktemp("schemathesis") / "data"
    app = create_app(make_settings(data_dir, limits={"max_upload_mb": 1}), dense=embedder)
    # Loading the spec starts the app's lifespan; it is stopped when the module is done.
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    asgi.shutdown_lifespans()


def test_every_operation_is_fuzzed(api_schema: schemathesis.BaseSchema) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]  # type: ignore[union-attr]
    assert {(op.path, op.method.lower()) for op in operations} == set(_operations())


@pytest.mark.parametrize(("path", "method"), _operations())
def test_no_server_error_and_responses_match_the_spec(
    api_schema: schemathesis.BaseSchema, path: str, method: str
) -> None:
    operation = api_schema[path][method.upper()]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def run(case: schemathesis.Case) -> None:  # type: ignore[type-arg]
        case.call_and_validate(
            headers=auth(ADMIN_KEY), checks=[not_a_server_error, response_schema_conformance]
        )

    run()
