"""The prompts admin API against the real app: versions, labels, rollback, split, roles."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_KEY, HR_KEY, NOBODY_KEY
from tests.e2e.conftest import auth

pytestmark = pytest.mark.e2e

ADMIN = auth(ADMIN_KEY)
SYSTEM = "Answer only from the sources, citing them as [n]. Today is {{ today }}."
USER = "{% for s in sources %}[{{ s.n }}] {{ s.text }}\n{% endfor %}Question: {{ question }}"
NOT_FOUND_SENTENCE = "I could not find this in the documents you can access."


def test_the_shipped_answer_prompt_is_served_as_v1_production(client: TestClient) -> None:
    listed = client.get("/prompts", headers=ADMIN)

    assert listed.status_code == 200, listed.text
    (answer,) = [p for p in listed.json()["prompts"] if p["name"] == "answer"]
    assert answer["labels"]["production"] == 1
    v1 = client.get("/prompts/answer/versions/1", headers=ADMIN).json()
    assert v1["created_by"] == "ragline"
    assert NOT_FOUND_SENTENCE in v1["system"]
    assert v1["created_at"].endswith(("Z", "+00:00"))


def test_version_label_rollback_round_trip(client: TestClient) -> None:
    created = client.post(
        "/prompts/faq/versions",
        json={"system": SYSTEM, "user": USER, "note": "first", "labels": ["production"]},
        headers=ADMIN,
    )
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1
    second = client.post(
        "/prompts/faq/versions",
        json={"system": SYSTEM + " Be brief.", "user": USER, "labels": ["staging"]},
        headers=ADMIN,
    )
    assert second.status_code == 201, second.text
    assert second.json()["version"] == 2

    moved = client.put("/prompts/faq/labels/production", json={"version": 2}, headers=ADMIN)
    assert moved.status_code == 200, moved.text
    assert (moved.json()["from_version"], moved.json()["to_version"]) == (1, 2)
    assert moved.json()["moved_by"]

    detail = client.get("/prompts/faq", headers=ADMIN).json()
    assert [v["version"] for v in detail["versions"]] == [1, 2]
    assert detail["labels"] == {"production": 2, "staging": 2}
    assert detail["versions"][0]["note"] == "first"

    back = client.post("/prompts/faq/rollback", headers=ADMIN)
    assert back.status_code == 200, back.text
    assert (back.json()["label"], back.json()["from_version"], back.json()["to_version"]) == (
        "production",
        2,
        1,
    )
    again = client.post("/prompts/faq/rollback", json={"label": "production"}, headers=ADMIN)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    staging_back = client.post("/prompts/faq/rollback", json={"label": "staging"}, headers=ADMIN)
    assert staging_back.status_code == 409  # staging was created at v2: no earlier version
    assert client.get("/prompts/faq", headers=ADMIN).json()["labels"] == {
        "production": 1,
        "staging": 2,
    }


def test_split_set_shown_and_removed(client: TestClient) -> None:
    for labels in (["production"], ["canary"]):
        body = {"system": SYSTEM, "user": USER, "labels": labels}
        assert (
            client.post("/prompts/split-me/versions", json=body, headers=ADMIN).status_code == 201
        )

    weights = {"production": 90, "canary": 10}
    put = client.put("/prompts/split-me/split", json={"weights": weights}, headers=ADMIN)
    assert put.status_code == 200, put.text
    assert put.json() == {"name": "split-me", "weights": {"canary": 10, "production": 90}}
    assert client.get("/prompts/split-me", headers=ADMIN).json()["split"] == put.json()["weights"]

    bad = client.put(
        "/prompts/split-me/split", json={"weights": {"production": 90, "canary": 20}}, headers=ADMIN
    )
    assert bad.status_code == 422
    assert "sum to 100, not 110" in bad.json()["error"]["message"]
    unknown = client.put(
        "/prompts/split-me/split", json={"weights": {"production": 50, "beta": 50}}, headers=ADMIN
    )
    assert unknown.status_code == 404

    assert client.delete("/prompts/split-me/split", headers=ADMIN).status_code == 204
    assert client.get("/prompts/split-me", headers=ADMIN).json()["split"] is None


def test_bad_requests_say_what_is_wrong(client: TestClient) -> None:
    cases = [
        ("post", "/prompts/answer/versions", {"system": "{{ nope }}", "user": USER}, 422,
         "'nope' is undefined"),
        ("post", "/prompts/answer/versions", {"system": SYSTEM, "user": "{{ sources }}"}, 422,
         "would not see the question"),
        ("post", "/prompts/answer/versions", {"system": "{% if %}", "user": USER}, 422,
         "syntax error on line 1"),
        ("post", "/prompts/Bad Name/versions", {"system": SYSTEM, "user": USER}, 422,
         "invalid prompt name"),
        ("post", "/prompts/answer/versions", {"system": SYSTEM, "user": USER, "extra": 1}, 422,
         ""),
        ("put", "/prompts/answer/labels/production", {"version": 99}, 404, "has no version 99"),
        ("put", "/prompts/nope/labels/production", {"version": 1}, 404, "'nope' not found"),
        ("get", "/prompts/nope", None, 404, "'nope' not found"),
        ("get", "/prompts/answer/versions/99", None, 404, "has no version 99"),
        ("delete", "/prompts/nope/split", None, 404, "'nope' not found"),
    ]  # fmt: skip
    for method, path, body, status, message in cases:
        response = client.request(method, path, json=body, headers=ADMIN)
        assert response.status_code == status, (path, response.text)
        assert message in response.json()["error"]["message"], (path, response.text)
    versions = client.get("/prompts/answer", headers=ADMIN).json()["versions"]
    assert [v["version"] for v in versions] == [1]  # nothing refused was written


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/prompts", None),
        ("get", "/prompts/answer", None),
        ("get", "/prompts/answer/versions/1", None),
        ("post", "/prompts/answer/versions", {"system": SYSTEM, "user": USER}),
        ("put", "/prompts/answer/labels/production", {"version": 1}),
        ("post", "/prompts/answer/rollback", None),
        ("put", "/prompts/answer/split", {"weights": {"production": 50, "x": 50}}),
        ("delete", "/prompts/answer/split", None),
    ],
)
def test_every_prompt_route_needs_the_admin_role(
    client: TestClient, method: str, path: str, body: dict[str, object] | None
) -> None:
    for key in (HR_KEY, NOBODY_KEY):
        refused = client.request(method, path, json=body, headers=auth(key))
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "permission_denied"
    assert client.request(method, path, json=body).status_code == 401
    assert [
        v["version"] for v in client.get("/prompts/answer", headers=ADMIN).json()["versions"]
    ] == [1]
