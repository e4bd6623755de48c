"""The answers eval's scoring on hand-made answers, its input checks, and the golden set itself."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from answer.grounding import Grounding
from answer.service import Answer
from evals.answers_eval import (
    GoldenQuestion,
    Observed,
    answer_details,
    answer_metrics,
    found_terms,
    hit_at,
    leaked,
    load_golden,
    read_questions,
    score_question,
)
from kernel.errors import InvalidInputError
from retrieval.hybrid import RetrievedChunk

pytestmark = pytest.mark.unit

GOLDEN = Path(__file__).resolve().parents[2] / "evals" / "golden" / "answers"


def question(
    qid: str,
    source: str | None = "a.md",
    terms: tuple[str, ...] = (),
    *,
    role_check: bool = False,
) -> GoldenQuestion:
    return GoldenQuestion(qid, f"question {qid}?", source, terms, source is None, role_check)


def seen(
    qid: str,
    cited: tuple[str, ...] = (),
    *,
    text: str = "",
    found: bool = True,
    grounding: float = 1.0,
    latency_ms: float = 10.0,
) -> Observed:
    return Observed(qid, text, found, cited, grounding, "extractive", False, latency_ms)


def test_hit_at_k_counts_the_expected_document_among_the_first_k_cited() -> None:
    assert hit_at("a.md", ("a.md", "b.md"), 1)
    assert not hit_at("a.md", ("b.md", "a.md"), 1)
    assert hit_at("a.md", ("b.md", "a.md"), 3)
    assert not hit_at("a.md", ("b.md", "c.md", "d.md", "a.md"), 3)
    assert not hit_at(None, ("a.md",), 3)

    scores = [
        score_question(question("first"), seen("first", ("a.md", "b.md"))),
        score_question(question("second"), seen("second", ("b.md", "a.md"))),
        score_question(question("fourth"), seen("fourth", ("b.md", "c.md", "d.md", "a.md"))),
        score_question(question("none"), seen("none", (), found=False)),
    ]
    found = answer_metrics(scores)
    assert found["citations.hit@1"] == 0.25
    assert found["citations.hit@3"] == 0.5
    assert answer_details(scores)["failures"]["fourth"] == [
        "a.md not among the first 3 cited (b.md, c.md, d.md, a.md)"
    ]


def test_term_recall_is_case_insensitive_and_averaged_over_answerable_questions() -> None:
    assert found_terms(["25 Working Days", "31 March"], "You get 25 working days. [1]") == (
        ("25 Working Days",),
        ("31 March",),
    )
    scores = [
        score_question(
            question("half", terms=("25 working days", "31 march")),
            seen("half", ("a.md",), text="25 WORKING DAYS of leave [1]"),
        ),
        score_question(
            question("all", terms=("guest123",)), seen("all", ("a.md",), text="guest123 [1]")
        ),
        # an unanswerable question's (absent) terms do not count
        score_question(question("none", source=None), seen("none", text="anything")),
    ]
    assert answer_metrics(scores)["answers.term_recall"] == pytest.approx(0.75)
    assert answer_details(scores)["failures"]["half"] == ["missing terms: 31 march"]


def test_abstention_is_scored_separately_on_unanswerable_and_answerable_questions() -> None:
    scores = [
        score_question(question("u1", source=None), seen("u1", found=False)),
        score_question(question("u2", source=None), seen("u2", found=False)),
        score_question(question("u3", source=None), seen("u3", ("a.md",))),
        score_question(question("u4", source=None), seen("u4", ("b.md",))),
        score_question(question("a1"), seen("a1", ("a.md",))),
        score_question(question("a2"), seen("a2", found=False)),
    ]
    found = answer_metrics(scores)
    assert found["unanswerable.abstention_rate"] == 0.5
    assert found["answerable.answered_rate"] == 0.5
    failures = answer_details(scores)["failures"]
    assert failures["u3"] == ["answered instead of abstaining"]
    assert "u1" not in failures
    assert failures["a2"][0] == "abstained on an answerable question"


def test_grounding_quantiles_cover_answered_questions_only() -> None:
    groundings = [0.0, 0.25, 0.5, 0.75, 1.0]
    scores = [
        score_question(question(f"q{i}"), seen(f"q{i}", ("a.md",), grounding=g))
        for i, g in enumerate(groundings)
    ]
    # an abstention's grounding (1.0 by convention) is not part of the distribution
    scores.append(score_question(question("x"), seen("x", found=False, grounding=1.0)))
    found = answer_metrics(scores)
    assert found["grounding.mean"] == pytest.approx(0.5)
    assert found["grounding.p10"] == pytest.approx(0.1)
    assert found["grounding.p50"] == pytest.approx(0.5)
    assert found["grounding.p90"] == pytest.approx(0.9)


def test_metrics_with_nothing_to_measure_are_left_out() -> None:
    scores = [score_question(question("u", source=None), seen("u", found=False))]
    found = answer_metrics(scores)
    assert set(found) == {"unanswerable.abstention_rate", "latency_p50_ms", "latency_p95_ms"}


def test_a_restricted_citation_reaching_the_role_check_is_a_leak() -> None:
    restricted = {"leave-policy.md"}
    clean = seen("annual", ("faq.md",))
    leaking = seen("parental", ("faq.md", "leave-policy.md"))
    assert leaked(clean, restricted) == ()
    assert leaked(leaking, restricted) == ("leave-policy.md",)
    scores = [
        score_question(
            question(q, "leave-policy.md", role_check=True), seen(q, ("leave-policy.md",))
        )
        for q in ("annual", "parental")
    ]

    found = answer_metrics(scores, [clean, leaking], restricted)
    details = answer_details(scores, [clean, leaking], restricted)

    assert found["role_check.leak_free"] == 0.5
    assert details["failures"] == {"parental": ["leaked to the role check: leave-policy.md"]}
    assert [e["leaked"] for e in details["role_check"]] == [[], ["leave-policy.md"]]
    assert answer_metrics(scores, [clean, clean], restricted)["role_check.leak_free"] == 1.0


def test_latency_is_reported_as_a_timing() -> None:
    scores = [
        score_question(question(f"q{i}"), seen(f"q{i}", ("a.md",), latency_ms=float(ms)))
        for i, ms in enumerate(range(10, 110, 10))
    ]
    found = answer_metrics(scores)
    values = list(range(10, 110, 10))
    assert found["latency_p50_ms"] == pytest.approx(np.percentile(values, 50))
    assert found["latency_p95_ms"] == pytest.approx(np.percentile(values, 95))


def test_an_answer_is_observed_with_its_cited_documents_once_each_in_order() -> None:
    def chunk(n: int, source: str) -> RetrievedChunk:
        return RetrievedChunk(
            f"c{n}", 1.0, f"d-{source}", 1, "text", None, source, None, None, "b", None
        )

    answer = Answer(
        answer_id="x",
        text="t [1] [2] [3]",
        citations=(chunk(1, "b.md"), chunk(2, "a.md"), chunk(3, "b.md")),
        grounding=Grounding(0.8, (), ()),
        found=True,
        model="extractive",
        latency_ms=12.5,
    )
    observed = Observed.from_answer("q", answer)
    assert observed.cited == ("b.md", "a.md")
    assert (observed.grounding, observed.latency_ms, observed.found) == (0.8, 12.5, True)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("{not json", "not valid JSON"),
        ('["a"]', "expected a JSON object"),
        ('{"id": "", "question": "q?", "unanswerable": true}', "`id` must be a non-empty string"),
        ('{"id": "x", "question": "q?"}', "`unanswerable` and `role_check` must be true or false"),
        (
            '{"id": "x", "question": "q?", "unanswerable": false, "expected_terms": ["a"]}',
            "an answerable question needs an `expected_source`",
        ),
        (
            '{"id": "x", "question": "q?", "unanswerable": true, "expected_source": "a.md"}',
            "an unanswerable question has no `expected_source`",
        ),
        (
            '{"id": "x", "question": "q?", "unanswerable": false, "expected_source": "a.md",'
            ' "expected_terms": "a"}',
            "`expected_terms` must be a list of non-empty strings",
        ),
    ],
)
def test_a_bad_question_row_is_refused_with_its_line(
    tmp_path: Path, row: str, message: str
) -> None:
    good = json.dumps({"id": "ok", "question": "q?", "unanswerable": True})
    path = tmp_path / "q.jsonl"
    path.write_text(f"{good}\n\n{row}\n")
    with pytest.raises(InvalidInputError) as caught:
        read_questions(path)
    assert caught.value.message.startswith(f"{path} line 3: ")
    assert message in caught.value.message


def test_a_repeated_id_and_an_unknown_source_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A\n\nSome text.\n")
    (tmp_path / "buckets.json").write_text(
        json.dumps([{"bucket": "b", "roles": ["public"], "files": ["a.md"]}])
    )
    row = {"id": "x", "question": "q?", "unanswerable": False, "expected_source": "a.md"}
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(row) + "\n" + json.dumps(row) + "\n")
    with pytest.raises(InvalidInputError, match=r"line 2: `id` 'x' is repeated"):
        load_golden(path, tmp_path)

    path.write_text(json.dumps({**row, "expected_source": "b.md"}) + "\n")
    with pytest.raises(InvalidInputError, match=r"line 1: `expected_source` 'b.md' is not a"):
        load_golden(path, tmp_path)


def test_a_missing_document_and_a_role_check_nobody_can_run_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A\n\nSome text.\n")
    buckets = tmp_path / "buckets.json"
    buckets.write_text(json.dumps([{"bucket": "b", "roles": ["hr"], "files": ["a.md", "gone.md"]}]))
    path = tmp_path / "q.jsonl"
    row = {"id": "x", "question": "q?", "unanswerable": False, "expected_source": "a.md"}
    path.write_text(json.dumps({**row, "role_check": True}) + "\n")
    with pytest.raises(InvalidInputError, match=r"bucket 1: document .*gone.md does not exist"):
        load_golden(path, tmp_path)

    # every golden role reads the restricted bucket: the role check would ask as nobody
    buckets.write_text(json.dumps([{"bucket": "b", "roles": ["hr"], "files": ["a.md"]}]))
    with pytest.raises(InvalidInputError, match="the role check needs a golden role"):
        load_golden(path, tmp_path)


def test_the_project_golden_set_is_consistent() -> None:
    golden = load_golden(GOLDEN / "questions.jsonl", GOLDEN)
    questions = golden.questions
    assert len(questions) >= 45
    assert sum(q.unanswerable for q in questions) >= 15
    assert golden.roles == {"hr", "public"}
    assert golden.role_check_roles == {"public"}
    assert [b.name for b in golden.restricted_buckets] == ["golden-hr"]
    checked = [q for q in questions if q.role_check]
    assert checked and {q.expected_source for q in checked} == {"leave-policy.md"}
    documents = {f.name: f.read_text() for b in golden.buckets for f in b.files}
    for q in questions:
        if q.unanswerable:
            continue
        assert q.expected_terms, q.id
        text = documents[q.expected_source or ""].casefold()
        for term in q.expected_terms:
            assert term.casefold() in text, (q.id, term)
    # the hard cases of issue 15: a clause lead-in whose items hold the answer, a parsed
    # list after a lead-in, and short facts ("Wi-Fi password: guest123", "Projector PIN: 4711")
    ids = {q.id for q in questions}
    assert {"contract-termination", "room-leaving", "wifi-password", "room-projector-pin"} <= ids
    assert "Projector PIN: 4711" in documents["meeting-rooms.md"]
