"""GET /metrics and GET /slo as Prometheus and an operator use them.

Answers asked through /ask must show up in the series with the right counts (answers by
outcome, the /ask route's requests, one stage timing per answer) and in /slo's window;
the series stay private to keys with the ``metrics`` or ``admin`` role unless the
operator makes them public.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from observability.answer_metrics import AnswerMetrics
from ragline.service import create_app
from tests.conftest import ADMIN_KEY, ENG_KEY, KEYS, make_settings
from tests.e2e.conftest import auth, upload, wait_done

pytestmark = pytest.mark.e2e

METRICS_KEY = "test-metrics-key"
HANDBOOK = (
    b"# Vacation\n\nFull-time employees get 25 vacation days per year. "
    b"Unused days carry over until March.\n\n# Remote work\n\n"
    b"Employees may work remotely up to three days a week.\n"
)
QUESTIONS = [
    ("How many vacation days do full-time employees get?", True),
    ("How many days a week may employees work remotely?", True),
    ("What is the boiling point of liquid nitrogen on Mars?", False),
]

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _samples(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path_factory.mktemp("metrics") / "data",
        api_keys=json.dumps({**KEYS, METRICS_KEY: ["metrics"]}),
    )
    with TestClient(create_app(settings, dense=embedder)) as test_client:
        resp = test_client.post(
            "/buckets", json={"name": "handbook", "roles": ["eng"]}, headers=auth(ADMIN_KEY)
        )
        assert resp.status_code == 201, resp.text
        document = upload(test_client, "handbook", "handbook.md", HANDBOOK)
        assert wait_done(test_client, document["document_id"])["status"] == "indexed"
        for question, found in QUESTIONS:
            resp = test_client.post("/ask", json={"question": question}, headers=auth(ENG_KEY))
            assert resp.status_code == 200, resp.text
            assert resp.json()["found"] is found, question
        yield test_client


def test_metrics_count_the_answers_given(client: TestClient) -> None:
    resp = client.get("/metrics", headers=auth(ADMIN_KEY))
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = _samples(resp.text)

    answers = "ragline_answers_total"
    found = sum(1 for _, f in QUESTIONS if f)
    assert _value(samples, answers, model="extractive", team="default", outcome="answered") == (
        found
    )
    assert _value(samples, answers, model="extractive", team="default", outcome="not_found") == (
        len(QUESTIONS) - found
    )
    requests = "ragline_http_requests_total"
    assert _value(samples, requests, method="POST", route="/ask", status="200") == len(QUESTIONS)
    # The route is the template, never the raw path with the document's id.
    routes = {dict(labels).get("route") for name, labels in samples if name == requests}
    assert "/documents/{document_id}" in routes
    assert not any(r and r.startswith("/documents/") and "{" not in r for r in routes)

    stage_count = "ragline_answer_stage_duration_seconds_count"
    for stage in ("retrieve", "extract", "record"):
        assert _value(samples, stage_count, stage=stage) == len(QUESTIONS), stage
    assert _value(samples, stage_count, stage="generate") is None
    assert _value(samples, "ragline_answer_grounding_score_count") == len(QUESTIONS)
    assert _value(samples, "ragline_latency_sla_seconds", route="/ask", quantile="0.95") == 2.0
    met = _value(samples, "ragline_latency_sla_met", route="/ask", quantile="0.99")
    assert met in (0.0, 1.0)
    assert any(name.startswith("process_") for name, _ in samples)


def test_metrics_need_a_key_with_the_metrics_or_admin_role(client: TestClient) -> None:
    unauthenticated = client.get("/metrics")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"]["code"] == "unauthenticated"
    denied = client.get("/metrics", headers=auth(ENG_KEY))
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "permission_denied"
    assert client.get("/metrics", headers=auth(METRICS_KEY)).status_code == 200


def test_slo_reports_the_ask_route_over_the_window(client: TestClient) -> None:
    assert client.get("/slo").status_code == 401
    resp = client.get("/slo", headers=auth(ENG_KEY))
    assert resp.status_code == 200
    body = resp.json()
    assert body["window_s"] == 300
    ask = body["routes"]["/ask"]
    assert set(ask) == {"p95", "p99"}
    for quantile, objective in (("p95", 2.0), ("p99", 5.0)):
        report = ask[quantile]
        assert report["objective"] == objective
        assert report["samples"] == len(QUESTIONS)
        assert report["observed"] > 0
        assert report["met"] is (report["observed"] <= objective)


@pytest.fixture(scope="module")
def public_client(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path_factory.mktemp("public-metrics") / "data", metrics={"public": True}
    )
    with TestClient(create_app(settings, dense=embedder)) as test_client:
        yield test_client


def test_public_metrics_serve_without_a_key(public_client: TestClient) -> None:
    resp = public_client.get("/metrics")
    assert resp.status_code == 200, resp.text
    samples = _samples(resp.text)
    assert _value(samples, "ragline_latency_sla_seconds", route="/ask", quantile="0.99") == 5.0


def test_public_metrics_leave_every_other_route_private(public_client: TestClient) -> None:
    assert public_client.get("/slo").status_code == 401
    assert public_client.post("/ask", json={"question": "hi"}).status_code == 401


def test_a_failing_observer_never_fails_an_answer(
    public_client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("the metrics registry is broken")

    monkeypatch.setattr(AnswerMetrics, "observe", broken)
    resp = public_client.post(
        "/ask", json={"question": "How many vacation days?"}, headers=auth(ENG_KEY)
    )
    assert resp.status_code == 200, resp.text
    assert any("was not counted in the metrics" in r.getMessage() for r in caplog.records)
    samples = _samples(public_client.get("/metrics", headers=auth(ADMIN_KEY)).text)
    assert not any(name == "ragline_answers_total" for name, _ in samples)
    requests = "ragline_http_requests_total"
    assert _value(samples, requests, method="POST", route="/ask", status="200") == 1
