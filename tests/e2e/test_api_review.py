"""Feedback and the review queue over HTTP, against the real embedded stack.

Answers come from ``POST /ask`` (recorded in the real audit log); answers are put in
the queue by ``POST /feedback`` with "down", or by the queue's ``offer`` as the ask
path calls it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from governance.review import ReviewQueue
from ragline.service import create_app
from tests.conftest import ADMIN_KEY, ENG_KEY, HR_KEY, KEYS, NOBODY_KEY, make_settings
from tests.e2e.conftest import auth, upload, wait_done

pytestmark = pytest.mark.e2e

REVIEWER_KEY = "test-reviewer-key"  # reviews, reads public documents only
HR_REVIEWER_KEY = "test-hr-reviewer-key"  # reviews, reads hr documents too

HANDBOOK = b"""# Handbook

## Vacation

Full-time employees receive 25 vacation days per calendar year. Up to 5 unused days
may be carried over into the next year.
"""

SALARY = b"""# Compensation bands

The zircon salary band for senior engineers ranges from 91,000 to 118,000 EUR.
Bonuses in the zircon band are paid every March.
"""


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[TestClient]:
    keys = {
        **KEYS,
        REVIEWER_KEY: ["reviewer", "public"],
        HR_REVIEWER_KEY: ["reviewer", "hr", "public"],
    }
    settings = make_settings(
        tmp_path_factory.mktemp("review") / "data",
        api_keys=json.dumps(keys),
        review={"sample_rate": 0.0, "max_comment_chars": 200},
    )
    with TestClient(create_app(settings, dense=embedder)) as test_client:
        for name, roles in (("handbook", ["public"]), ("hr-only", ["hr"])):
            made = test_client.post(
                "/buckets", json={"name": name, "roles": roles}, headers=auth(ADMIN_KEY)
            )
            assert made.status_code == 201, made.text
        for bucket, name, content in (
            ("handbook", "handbook.md", HANDBOOK),
            ("hr-only", "salary.md", SALARY),
        ):
            doc = upload(test_client, bucket, name, content)
            assert wait_done(test_client, doc["document_id"])["status"] == "indexed"
        yield test_client


def ask(client: TestClient, key: str, question: str) -> dict[str, Any]:
    resp = client.post("/ask", json={"question": question}, headers=auth(key))
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    assert body["found"] is True, body
    return body


def feedback(client: TestClient, key: str, **body: object) -> Any:
    return client.post("/feedback", json=body, headers=auth(key))


def queue_of(client: TestClient) -> ReviewQueue:
    review: ReviewQueue = client.app.state.services.review  # type: ignore[attr-defined]
    return review


def item_for(client: TestClient, answer_id: str, key: str = ADMIN_KEY) -> dict[str, Any]:
    listed = client.get("/review", params={"status": "all", "limit": 200}, headers=auth(key))
    assert listed.status_code == 200, listed.text
    (item,) = [i for i in listed.json()["items"] if i["answer_id"] == answer_id]
    return item  # type: ignore[no-any-return]


def test_negative_feedback_from_the_asker_queues_the_answer(client: TestClient) -> None:
    answer = ask(client, ENG_KEY, "How many vacation days do full-time employees get?")

    resp = feedback(
        client, ENG_KEY, answer_id=answer["answer_id"], rating="down", comment="too short"
    )

    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["rating"], body["comment"], body["replaced"]) == ("down", "too short", False)
    assert body["queued_for_review"] is True
    item = item_for(client, answer["answer_id"])
    assert (item["status"], item["reasons"]) == ("open", ["feedback"])
    assert item["grounding"] == answer["grounding"]["score"]


def test_feedback_from_another_key_or_for_no_answer_is_404_alike(client: TestClient) -> None:
    answer = ask(client, ENG_KEY, "How many unused days may be carried over?")

    other = feedback(client, HR_KEY, answer_id=answer["answer_id"], rating="down")
    admin = feedback(client, ADMIN_KEY, answer_id=answer["answer_id"], rating="up")
    unknown = feedback(client, ENG_KEY, answer_id="no-such-answer", rating="down")
    anonymous = client.post("/feedback", json={"answer_id": answer["answer_id"], "rating": "up"})

    assert (other.status_code, admin.status_code, unknown.status_code) == (404, 404, 404)
    assert other.json()["error"]["code"] == unknown.json()["error"]["code"] == "not_found"
    assert anonymous.status_code == 401
    listed = client.get("/review", params={"status": "all"}, headers=auth(ADMIN_KEY)).json()
    assert answer["answer_id"] not in {i["answer_id"] for i in listed["items"]}


def test_a_second_rating_replaces_the_first(client: TestClient) -> None:
    answer = ask(client, ENG_KEY, "When are unused vacation days carried over?")
    answer_id = answer["answer_id"]

    first = feedback(client, ENG_KEY, answer_id=answer_id, rating="up")
    second = feedback(client, ENG_KEY, answer_id=answer_id, rating="down", comment="wrong year")

    assert (first.json()["replaced"], first.json()["queued_for_review"]) == (False, False)
    assert (second.json()["replaced"], second.json()["rating"]) == (True, "down")
    shown = client.get(f"/review/{item_for(client, answer_id)['item_id']}", headers=auth(ADMIN_KEY))
    assert [(f["rating"], f["comment"], f["replaced"]) for f in shown.json()["feedback"]] == [
        ("down", "wrong year", 1)
    ]


def test_comments_are_stored_with_personal_data_redacted(client: TestClient) -> None:
    answer = ask(client, ENG_KEY, "How many vacation days does a full-time employee receive?")

    resp = feedback(
        client,
        ENG_KEY,
        answer_id=answer["answer_id"],
        rating="down",
        comment="Wrong, ask jane.doe@example.com or call +44 20 7946 0958",
    )

    assert resp.status_code == 200, resp.text
    stored = resp.json()["comment"]
    assert "jane.doe@example.com" not in stored
    assert "7946" not in stored
    assert "<EMAIL_1>" in stored
    shown = client.get(
        f"/review/{item_for(client, answer['answer_id'])['item_id']}", headers=auth(ADMIN_KEY)
    )
    assert [f["comment"] for f in shown.json()["feedback"]] == [stored]


def test_bad_feedback_bodies_are_refused(client: TestClient) -> None:
    answer = ask(client, ENG_KEY, "How many vacation days per calendar year?")
    answer_id = answer["answer_id"]

    too_long = feedback(client, ENG_KEY, answer_id=answer_id, rating="down", comment="x" * 201)
    bad_rating = feedback(client, ENG_KEY, answer_id=answer_id, rating="meh")

    assert too_long.status_code == 422
    assert "longer than 200" in too_long.json()["error"]["message"]
    assert bad_rating.status_code == 422


def test_only_reviewers_and_admins_see_the_queue(client: TestClient) -> None:
    for key in (ENG_KEY, HR_KEY, NOBODY_KEY):
        assert client.get("/review", headers=auth(key)).status_code == 403
        assert client.get("/review/anything", headers=auth(key)).status_code == 403
        decided = client.post("/review/anything", json={"decision": "approve"}, headers=auth(key))
        assert decided.status_code == 403
    assert client.get("/review", headers=auth(REVIEWER_KEY)).status_code == 200
    assert client.get("/review", headers=auth(ADMIN_KEY)).status_code == 200
    assert client.get("/review/nope", headers=auth(REVIEWER_KEY)).status_code == 404


def test_offered_answers_are_listed_by_status_and_paged(client: TestClient) -> None:
    answers = [ask(client, ENG_KEY, f"How many vacation days? ({n})") for n in range(3)]
    queue = queue_of(client)
    for a in answers:
        assert queue.offer(a["answer_id"], grounding=0.1, degraded=True) == (
            "low_grounding",
            "degraded",
        )

    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = client.get(
            "/review", params={"limit": 2, "offset": offset}, headers=auth(REVIEWER_KEY)
        ).json()
        seen += [i["answer_id"] for i in page["items"]]
        offset = page["next_offset"]

    assert [a["answer_id"] for a in answers] == [
        s for s in seen if s in {a["answer_id"] for a in answers}
    ]
    assert len(seen) == len(set(seen))
    assert (
        client.get("/review", params={"status": "bogus"}, headers=auth(ADMIN_KEY)).status_code
        == 422
    )


def test_a_reviewer_opens_and_corrects_an_item(client: TestClient) -> None:
    answer = ask(client, ENG_KEY, "How many vacation days do full-time employees get?")
    queue_of(client).offer(answer["answer_id"], grounding=0.2, degraded=False)
    item_id = item_for(client, answer["answer_id"])["item_id"]

    shown = client.get(f"/review/{item_id}", headers=auth(REVIEWER_KEY))
    decided = client.post(
        f"/review/{item_id}",
        json={
            "decision": "correct",
            "corrected_answer": "Full-time employees get 25 vacation days a year.",
            "expected_terms": ["25 vacation days"],
            "note": "answer was cut short",
        },
        headers=auth(REVIEWER_KEY),
    )

    assert shown.status_code == 200, shown.text
    detail = shown.json()
    assert detail["answer_available"] is True
    assert detail["question"] == "How many vacation days do full-time employees get?"
    assert detail["answer"] == answer["answer"]
    assert [(c["n"], c["chunk_id"], c["source"], c["text"]) for c in detail["citations"]] == [
        (n, c["chunk_id"], c["source"], c["text"])
        for n, c in enumerate(answer["citations"], start=1)
    ]
    assert detail["citations"][0]["source"] == "handbook.md"
    assert detail["item"]["reasons"] == ["low_grounding"]
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "corrected"
    assert decided.json()["expected_source"] == "handbook.md"
    assert decided.json()["decided_by"].startswith("key-")
    corrected = client.get("/review", params={"status": "corrected"}, headers=auth(ADMIN_KEY))
    assert item_id in {i["item_id"] for i in corrected.json()["items"]}


def test_a_reviewer_cannot_open_an_answer_citing_documents_outside_their_roles(
    client: TestClient,
) -> None:
    answer = ask(client, HR_KEY, "What is the zircon salary band for senior engineers?")
    assert answer["citations"][0]["source"] == "salary.md"
    assert feedback(client, HR_KEY, answer_id=answer["answer_id"], rating="down").status_code == 200
    item_id = item_for(client, answer["answer_id"], key=REVIEWER_KEY)["item_id"]

    public_reviewer = client.get(f"/review/{item_id}", headers=auth(REVIEWER_KEY))
    public_decision = client.post(
        f"/review/{item_id}", json={"decision": "approve"}, headers=auth(REVIEWER_KEY)
    )
    hr_reviewer = client.get(f"/review/{item_id}", headers=auth(HR_REVIEWER_KEY))

    assert (public_reviewer.status_code, public_decision.status_code) == (403, 403)
    assert "salary.md" not in public_reviewer.text
    assert hr_reviewer.status_code == 200
    assert hr_reviewer.json()["citations"][0]["source"] == "salary.md"


def test_invalid_decisions_are_refused(client: TestClient) -> None:
    answer = ask(client, ENG_KEY, "How many vacation days can be carried over?")
    queue_of(client).offer(answer["answer_id"], grounding=0.0, degraded=False)
    item_id = item_for(client, answer["answer_id"])["item_id"]

    no_fix = client.post(
        f"/review/{item_id}", json={"decision": "correct"}, headers=auth(ADMIN_KEY)
    )
    mixed = client.post(
        f"/review/{item_id}",
        json={"decision": "approve", "expected_terms": ["x"]},
        headers=auth(ADMIN_KEY),
    )
    unknown = client.post(f"/review/{item_id}", json={"decision": "maybe"}, headers=auth(ADMIN_KEY))

    assert (no_fix.status_code, mixed.status_code, unknown.status_code) == (422, 422, 422)
    assert item_for(client, answer["answer_id"])["status"] == "open"


def test_every_answer_given_through_ask_is_offered_to_the_queue(
    tmp_path: Path, embedder: Any
) -> None:
    settings = make_settings(tmp_path / "data", review={"sample_rate": 1.0})
    with TestClient(create_app(settings, dense=embedder)) as sampled_client:
        resp = sampled_client.post(
            "/ask", json={"question": "Is there a canteen?"}, headers=auth(ENG_KEY)
        )
        assert resp.status_code == 200, resp.text

        item = item_for(sampled_client, resp.json()["answer_id"])

    assert (item["status"], item["reasons"]) == ("open", ["sample"])


def test_cited_text_is_read_from_the_index_and_goes_with_the_document(
    tmp_path: Path, embedder: Any
) -> None:
    """Answer records keep no chunk text: the page reads the index, so a deletion shows."""
    settings = make_settings(
        tmp_path / "data",
        api_keys=json.dumps({**KEYS, REVIEWER_KEY: ["reviewer", "public"]}),
        review={"sample_rate": 1.0},
    )
    with TestClient(create_app(settings, dense=embedder)) as app_client:
        made = app_client.post(
            "/buckets", json={"name": "handbook", "roles": ["public"]}, headers=auth(ADMIN_KEY)
        )
        assert made.status_code == 201, made.text
        doc = upload(app_client, "handbook", "handbook.md", HANDBOOK)
        assert wait_done(app_client, doc["document_id"])["status"] == "indexed"
        answer = ask(app_client, ENG_KEY, "How many vacation days do full-time employees get?")
        assert answer["model"] == "extractive"
        item_id = item_for(app_client, answer["answer_id"])["item_id"]

        before = app_client.get(f"/review/{item_id}", headers=auth(REVIEWER_KEY))
        deleted = app_client.delete(f"/documents/{doc['document_id']}", headers=auth(ADMIN_KEY))
        after = app_client.get(f"/review/{item_id}", headers=auth(ADMIN_KEY))
        reviewer_after = app_client.get(f"/review/{item_id}", headers=auth(REVIEWER_KEY))

    assert before.status_code == 200, before.text
    assert answer["citations"] and all(c["text"] for c in answer["citations"])
    assert [(c["chunk_id"], c["text"], c["available"]) for c in before.json()["citations"]] == [
        (c["chunk_id"], c["text"], True) for c in answer["citations"]
    ]
    assert deleted.status_code == 204, deleted.text
    assert after.status_code == 200, after.text
    assert [(c["chunk_id"], c["text"], c["available"]) for c in after.json()["citations"]] == [
        (c["chunk_id"], None, False) for c in answer["citations"]
    ]
    # The record's copy of where it pointed went with the document (governance.erasure).
    assert after.json()["citations"][0]["source"] is None
    # The document is no longer served: only an admin opens an answer citing it.
    assert reviewer_after.status_code == 403
