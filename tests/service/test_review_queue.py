"""The review queue and feedback on real SQLite and PostgreSQL, schema from the migrations.

The answer log is another room's; here it is :class:`AnswerLogDouble`, a dict behind
the queue's ``AnswerLookup`` port, so these tests pin what the queue itself does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from evals.answers_eval import parse_question
from governance.review import ReviewQueue, Verdict, golden_cases, sampled
from ingest.db_outages import report_outages
from ingest.registry import Registry
from kernel.errors import InvalidInputError, NotFoundError
from kernel.settings import ReviewSettings
from ragline.schema import ensure_schema
from tests.postgres_db import database_url

pytestmark = pytest.mark.service

OWNER = "key-owner00000"
OTHER = "key-other00000"
REVIEWER = "key-reviewer00"


@dataclass(frozen=True)
class RecordedAnswer:
    answer_id: str
    key_id: str
    question: str | None
    answer: str | None
    citations: Sequence[Mapping[str, Any]]
    grounding: float
    degraded: bool


@dataclass
class AnswerLogDouble:
    """Stands in for the answer log (governance.audit_answers): answers by id."""

    answers: dict[str, RecordedAnswer] = field(default_factory=dict)

    def add(
        self,
        answer_id: str,
        *,
        key_id: str = OWNER,
        question: str = "How many days of annual leave?",
        source: str | None = "leave-policy.md",
        grounding: float = 0.9,
        degraded: bool = False,
    ) -> RecordedAnswer:
        citations = (
            []
            if source is None
            else [
                {
                    "n": 1,
                    "chunk_id": f"{answer_id}-c1",
                    "document_id": "doc-1",
                    "title": "Leave",
                    "source": source,
                    "text": "Employees get 25 working days.",
                }
            ]
        )
        record = RecordedAnswer(
            answer_id, key_id, question, "25 days [1]", citations, grounding, degraded
        )
        self.answers[answer_id] = record
        return record

    def get_answer(self, answer_id: str) -> RecordedAnswer:
        try:
            return self.answers[answer_id]
        except KeyError:
            raise NotFoundError(f"answer '{answer_id}' not found") from None


@pytest.fixture(params=("sqlite", "postgresql"))
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Registry]:
    with database_url(request.param, tmp_path) as url:
        ensure_schema(url, auto_upgrade=True)
        reg = Registry(url)
        try:
            yield reg
        finally:
            reg.close()


@pytest.fixture
def log() -> AnswerLogDouble:
    return AnswerLogDouble()


def queue_on(registry: Registry, log: AnswerLogDouble, **settings: Any) -> ReviewQueue:
    values: dict[str, Any] = {"sample_rate": 0.0}
    values.update(settings)
    return ReviewQueue(registry.engine, ReviewSettings(**values), log, redact=_redact_digits)


def _redact_digits(text: str) -> str:
    """A stand-in redactor: every digit becomes <N> (the real one is governance.pii)."""
    return "".join("<N>" if ch.isdigit() else ch for ch in text)


# -- what goes in ---------------------------------------------------------------------


def test_sampling_is_a_stable_function_of_the_answer_id_at_the_configured_rate() -> None:
    ids = [f"answer-{n}" for n in range(4000)]

    share = sum(sampled(i, 0.1) for i in ids) / len(ids)

    assert 0.085 < share < 0.115
    assert [sampled(i, 0.1) for i in ids[:200]] == [sampled(i, 0.1) for i in ids[:200]]
    assert not any(sampled(i, 0.0) for i in ids)
    assert all(sampled(i, 1.0) for i in ids)
    # A lower rate samples a subset of a higher one: raising the rate only adds answers.
    assert {i for i in ids if sampled(i, 0.05)} <= {i for i in ids if sampled(i, 0.1)}


def test_offer_queues_each_reason_and_nothing_else(
    registry: Registry, log: AnswerLogDouble
) -> None:
    queue = queue_on(registry, log, min_grounding=0.5)
    sampler = queue_on(registry, log, sample_rate=1.0)

    assert queue.offer("a-good", grounding=0.9, degraded=False) == ()
    assert queue.offer("a-weak", grounding=0.2, degraded=False) == ("low_grounding",)
    assert queue.offer("a-degr", grounding=1.0, degraded=True) == ("degraded",)
    assert queue.offer("a-both", grounding=0.1, degraded=True) == ("low_grounding", "degraded")
    assert sampler.offer("a-samp", grounding=0.9, degraded=False) == ("sample",)
    assert queue_on(registry, log, degraded=False).offer("a-d2", grounding=1, degraded=True) == ()

    page = queue.items("open")
    assert {i.answer_id: i.reasons for i in page.items} == {
        "a-weak": ("low_grounding",),
        "a-degr": ("degraded",),
        "a-both": ("low_grounding", "degraded"),
        "a-samp": ("sample",),
    }
    assert page.total == 4
    weak = next(i for i in page.items if i.answer_id == "a-weak")
    assert (weak.grounding, weak.degraded, weak.status) == (0.2, False, "open")


def test_an_answer_is_queued_once_and_its_reasons_merge(
    registry: Registry, log: AnswerLogDouble
) -> None:
    queue = queue_on(registry, log)
    log.add("a-1", grounding=0.1)

    queue.offer("a-1", grounding=0.1, degraded=False)
    queue.offer("a-1", grounding=0.1, degraded=False)
    queue.give_feedback(OWNER, "a-1", "down")

    (item,) = queue.items(None).items
    assert item.reasons == ("low_grounding", "feedback")


def test_offer_during_a_database_outage_returns_nothing_and_does_not_raise(
    log: AnswerLogDouble,
) -> None:
    engine = create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:1/ragline", connect_args={"connect_timeout": 1}
    )
    report_outages(engine)
    queue = ReviewQueue(engine, ReviewSettings(), log)
    try:
        assert queue.offer("a-lost", grounding=0.0, degraded=True) == ()
    finally:
        engine.dispose()


# -- feedback -------------------------------------------------------------------------


def test_feedback_is_taken_only_from_the_key_that_asked(
    registry: Registry, log: AnswerLogDouble
) -> None:
    queue = queue_on(registry, log)
    log.add("a-1", key_id=OWNER)

    with pytest.raises(NotFoundError) as other:
        queue.give_feedback(OTHER, "a-1", "down")
    with pytest.raises(NotFoundError) as unknown:
        queue.give_feedback(OWNER, "a-nope", "down")

    # Same refusal for "not yours" as for "no such answer" (ids aside): nothing to probe.
    assert other.value.message.replace("a-1", "X") == unknown.value.message.replace("a-nope", "X")
    assert queue.items(None).total == 0


def test_a_second_rating_replaces_the_first_and_is_counted(
    registry: Registry, log: AnswerLogDouble
) -> None:
    queue = queue_on(registry, log)
    log.add("a-1")

    first, reasons_up = queue.give_feedback(OWNER, "a-1", "up", "great")
    second, reasons_down = queue.give_feedback(OWNER, "a-1", "down", "  wrong year  ")

    assert (first.rating, first.replaced, reasons_up) == ("up", 0, ())
    assert (second.rating, second.comment, second.replaced) == ("down", "wrong year", 1)
    assert reasons_down == ("feedback",)
    detail = queue.detail(queue.items().items[0].item_id)
    assert [(f.rating, f.comment, f.replaced) for f in detail.feedback] == [
        ("down", "wrong year", 1)
    ]


def test_negative_feedback_queues_with_the_answers_grounding(
    registry: Registry, log: AnswerLogDouble
) -> None:
    queue = queue_on(registry, log)
    log.add("a-1", grounding=0.8, degraded=True)

    _, reasons = queue.give_feedback(OWNER, "a-1", "down")

    (item,) = queue.items().items
    assert reasons == ("feedback",)
    assert (item.answer_id, item.grounding, item.degraded) == ("a-1", 0.8, True)


def test_comments_are_length_limited_and_redacted(registry: Registry, log: AnswerLogDouble) -> None:
    queue = queue_on(registry, log, max_comment_chars=20)
    log.add("a-1")

    with pytest.raises(InvalidInputError, match="longer than 20"):
        queue.give_feedback(OWNER, "a-1", "down", "x" * 21)
    feedback, _ = queue.give_feedback(OWNER, "a-1", "down", "call me on 555")

    assert feedback.comment == "call me on <N><N><N>"
    assert queue.give_feedback(OWNER, "a-1", "up", "   ")[0].comment is None


# -- reviewing ------------------------------------------------------------------------


def test_the_queue_pages_oldest_first(registry: Registry, log: AnswerLogDouble) -> None:
    queue = queue_on(registry, log)
    for n in range(5):
        queue.offer(f"a-{n}", grounding=0.0, degraded=False)

    pages = []
    offset: int | None = 0
    while offset is not None:
        page = queue.items("open", limit=2, offset=offset)
        pages.append([i.answer_id for i in page.items])
        offset = page.next_offset

    assert pages == [["a-0", "a-1"], ["a-2", "a-3"], ["a-4"]]
    assert queue.items("approved").total == 0


def test_detail_carries_the_answer_its_citations_and_feedback(
    registry: Registry, log: AnswerLogDouble
) -> None:
    queue = queue_on(registry, log)
    log.add("a-1", grounding=0.3)
    queue.offer("a-1", grounding=0.3, degraded=False)
    queue.give_feedback(OWNER, "a-1", "down", "too vague")

    detail = queue.detail(queue.items().items[0].item_id)

    assert detail.answer is not None
    assert detail.answer.question == "How many days of annual leave?"
    assert [c["text"] for c in detail.answer.citations or ()] == ["Employees get 25 working days."]
    assert detail.item.reasons == ("low_grounding", "feedback")
    assert [f.comment for f in detail.feedback] == ["too vague"]
    with pytest.raises(NotFoundError):
        queue.detail("no-such-item")


def test_decisions_are_recorded_validated_and_replaceable(
    registry: Registry, log: AnswerLogDouble
) -> None:
    queue = queue_on(registry, log)
    log.add("a-1", source="leave-policy.md")
    queue.offer("a-1", grounding=0.1, degraded=False)
    item_id = queue.items().items[0].item_id

    with pytest.raises(InvalidInputError, match="corrected_answer or expected_terms"):
        queue.decide(item_id, REVIEWER, Verdict("correct"))
    with pytest.raises(InvalidInputError, match="with 'correct' only"):
        queue.decide(item_id, REVIEWER, Verdict("approve", expected_terms=("x",)))
    approved = queue.decide(item_id, REVIEWER, Verdict("approve", note="fine"))
    corrected = queue.decide(
        item_id, REVIEWER, Verdict("correct", expected_terms=("25 working days",))
    )

    assert (approved.status, approved.decided_by, approved.note) == ("approved", REVIEWER, "fine")
    assert corrected.status == "corrected"
    assert corrected.expected_source == "leave-policy.md"  # the answer's cited source
    assert corrected.expected_terms == ("25 working days",)
    assert corrected.note is None
    assert queue.items("open").total == 0
    assert queue.items("corrected").total == 1
    with pytest.raises(NotFoundError):
        queue.decide("no-such-item", REVIEWER, Verdict("approve"))


def test_a_correction_of_an_answer_citing_nothing_needs_a_source(
    registry: Registry, log: AnswerLogDouble
) -> None:
    queue = queue_on(registry, log)
    log.add("a-1", source=None)
    queue.offer("a-1", grounding=0.1, degraded=False)
    item_id = queue.items().items[0].item_id

    with pytest.raises(InvalidInputError, match="expected_source"):
        queue.decide(item_id, REVIEWER, Verdict("correct", corrected_answer="25 days"))
    fixed = queue.decide(
        item_id,
        REVIEWER,
        Verdict("correct", corrected_answer="25 days", expected_source="leave-policy.md"),
    )
    assert fixed.expected_source == "leave-policy.md"


def test_new_negative_feedback_reopens_a_decided_item(
    registry: Registry, log: AnswerLogDouble
) -> None:
    queue = queue_on(registry, log)
    log.add("a-1")
    queue.offer("a-1", grounding=0.1, degraded=False)
    item_id = queue.items().items[0].item_id
    queue.decide(item_id, REVIEWER, Verdict("approve"))

    queue.give_feedback(OWNER, "a-1", "down")

    reopened = queue.item(item_id)
    assert reopened.status == "open"
    assert reopened.reasons == ("low_grounding", "feedback")


# -- export ---------------------------------------------------------------------------


def test_corrections_and_unanswerable_rejections_export_as_golden_cases(
    registry: Registry, log: AnswerLogDouble
) -> None:
    queue = queue_on(registry, log)
    for answer_id in ("a-fix", "a-none", "a-ok", "a-bad", "a-gone"):
        log.add(answer_id, question=f"question of {answer_id}?")
        queue.offer(answer_id, grounding=0.0, degraded=False)
    ids = {i.answer_id: i.item_id for i in queue.items().items}
    queue.decide(
        ids["a-fix"],
        REVIEWER,
        Verdict("correct", expected_source="leave-policy.md", expected_terms=("25 days",)),
    )
    queue.decide(ids["a-none"], REVIEWER, Verdict("reject", note="Unanswerable"))
    queue.decide(ids["a-ok"], REVIEWER, Verdict("approve"))
    queue.decide(ids["a-bad"], REVIEWER, Verdict("reject", note="wrong document"))
    queue.decide(ids["a-gone"], REVIEWER, Verdict("correct", expected_terms=("x",)))
    del log.answers["a-gone"]  # its record expired before the export

    cases, skipped = golden_cases(queue)

    assert skipped == 1
    assert cases == [
        {
            "id": f"review-{ids['a-fix']}",
            "question": "question of a-fix?",
            "expected_source": "leave-policy.md",
            "expected_terms": ["25 days"],
            "unanswerable": False,
            "role_check": False,
        },
        {
            "id": f"review-{ids['a-none']}",
            "question": "question of a-none?",
            "expected_source": None,
            "expected_terms": [],
            "unanswerable": True,
        },
    ]
    # Each line is one the answers eval reads as it reads its own golden file.
    parsed = [parse_question(json.dumps(c), n, where="export") for n, c in enumerate(cases, 1)]
    assert [(q.expected_source, q.unanswerable) for q in parsed] == [
        ("leave-policy.md", False),
        (None, True),
    ]
