"""``ragline review`` as an operator types it, on an embedded data directory.

The answers are written to the real answer log (``governance.audit_answers``) and
queued and decided through the real queue, as the API would; the command group is
then run through typer's runner with its settings read from the environment.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy import create_engine
from typer.testing import CliRunner, Result

from evals.answers_eval import read_questions
from governance.audit_answers import AuditedAnswers
from governance.audit_log import AuditLog
from governance.review import ReviewQueue, Verdict
from kernel.settings import get_settings
from ragline.review_cli import review_app
from ragline.schema import ensure_schema

pytestmark = pytest.mark.e2e

ASKER = "key-asker000000"
REVIEWER = "key-reviewer000"


@pytest.fixture
def ragline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.Typer]:
    monkeypatch.setenv("RAGLINE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.delenv("RAGLINE_DATABASE_URL", raising=False)
    monkeypatch.delenv("RAGLINE_MODE", raising=False)
    get_settings.cache_clear()
    shell = typer.Typer()
    shell.add_typer(review_app, name="review")
    yield shell
    get_settings.cache_clear()


@pytest.fixture
def queue(ragline: typer.Typer) -> Iterator[ReviewQueue]:
    """The queue on the data directory's registry, as the server would open it."""
    settings = get_settings()
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    ensure_schema(settings.registry_url, auto_upgrade=True)
    engine = create_engine(settings.registry_url)
    answers = AuditedAnswers(AuditLog(engine), settings.audit)
    for answer_id, question, text, source in (
        ("a-leave", "How many days of annual leave?", "20 days [1]", "leave-policy.md"),
        ("a-parking", "Where can I park?", "In the garage [1]", "handbook.md"),
        ("a-fine", "When is payday?", "On the 25th [1]", "payroll.md"),
    ):
        answers.record_answer(
            answer_id=answer_id,
            key_id=ASKER,
            model="extractive",
            retrieval={},
            chunk_ids=[f"{answer_id}-c1"],
            cited_chunk_ids=[f"{answer_id}-c1"],
            grounding=0.3,
            latency_ms=5.0,
            question=question,
            answer=text,
            citations=[
                {
                    "n": 1,
                    "chunk_id": f"{answer_id}-c1",
                    "document_id": f"doc-{answer_id}",
                    "title": None,
                    "source": source,
                    "text": f"quoted text of {source}",
                }
            ],
        )
    review = ReviewQueue(engine, settings.review, answers)
    try:
        yield review
    finally:
        engine.dispose()


def run(shell: typer.Typer, *args: str) -> Result:
    get_settings.cache_clear()  # each command reads the environment, as a new process would
    return CliRunner().invoke(shell, ["review", *args])


def rows(output: str) -> list[list[str]]:
    """The cells of every line of a Rich table in ``output``."""
    return [
        [cell.strip() for cell in line.strip().strip("│┃").split("│" if "│" in line else "┃")]
        for line in output.splitlines()
        if line.strip().startswith(("│", "┃"))
    ]


def item_ids(queue: ReviewQueue) -> dict[str, str]:
    return {i.answer_id: i.item_id for i in queue.items(None).items}


def test_list_shows_the_open_items_and_why(ragline: typer.Typer, queue: ReviewQueue) -> None:
    queue.offer("a-leave", grounding=0.3, degraded=False)
    queue.give_feedback(ASKER, "a-parking", "down", "wrong floor")

    listed = run(ragline, "list")

    assert listed.exit_code == 0, listed.output
    table = rows(listed.output)
    assert table[0] == ["item", "answer", "status", "reasons", "grounding", "queued at"]
    assert [(r[1], r[2], r[3], r[4]) for r in table[1:]] == [
        ("a-leave", "open", "low_grounding", "0.30"),
        ("a-parking", "open", "feedback", "0.30"),
    ]
    assert "2 open item(s), showing 1-2" in listed.output
    paged = run(ragline, "list", "--limit", "1")
    assert [r[1] for r in rows(paged.output)[1:]] == ["a-leave"]
    assert "next page: --offset 1" in paged.output


def test_show_prints_the_answer_its_sources_feedback_and_decision(
    ragline: typer.Typer, queue: ReviewQueue
) -> None:
    queue.give_feedback(ASKER, "a-leave", "down", "it is 25 days")
    item_id = item_ids(queue)["a-leave"]
    queue.decide(
        item_id, REVIEWER, Verdict("correct", expected_terms=("25 days",), note="old policy")
    )

    shown = run(ragline, "show", item_id)

    assert shown.exit_code == 0, shown.output
    for expected in (
        "How many days of annual leave?",
        "20 days [1]",
        "leave-policy.md",
        "cited text is not kept in the answer record",
        "feedback down: it is 25 days",
        f"decision corrected by {REVIEWER}",
        "expected source: leave-policy.md  terms: 25 days",
        "note: old policy",
    ):
        assert expected in shown.output
    missing = run(ragline, "show", "no-such-item")
    assert missing.exit_code == 1
    assert "review item 'no-such-item' not found" in missing.output


def test_export_writes_golden_cases_the_answers_eval_reads(
    ragline: typer.Typer, queue: ReviewQueue, tmp_path: Path
) -> None:
    for answer_id in ("a-leave", "a-parking", "a-fine"):
        queue.offer(answer_id, grounding=0.3, degraded=False)
    ids = item_ids(queue)
    queue.decide(
        ids["a-leave"],
        REVIEWER,
        Verdict("correct", corrected_answer="25 days", expected_terms=("25 days",)),
    )
    queue.decide(ids["a-parking"], REVIEWER, Verdict("reject", note="unanswerable"))
    queue.decide(ids["a-fine"], REVIEWER, Verdict("approve"))
    out = tmp_path / "reviewed.jsonl"

    exported = run(ragline, "export", "--out", str(out))

    assert exported.exit_code == 0, exported.output
    assert "exported 2 golden case(s)" in exported.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines == [
        {
            "id": f"review-{ids['a-leave']}",
            "question": "How many days of annual leave?",
            "expected_source": "leave-policy.md",
            "expected_terms": ["25 days"],
            "unanswerable": False,
            "role_check": False,
        },
        {
            "id": f"review-{ids['a-parking']}",
            "question": "Where can I park?",
            "expected_source": None,
            "expected_terms": [],
            "unanswerable": True,
        },
    ]
    questions = read_questions(out)
    assert [(q.expected_source, q.unanswerable) for q in questions] == [
        ("leave-policy.md", False),
        (None, True),
    ]


def test_export_to_an_unwritable_place_fails_in_one_line(
    ragline: typer.Typer, queue: ReviewQueue, tmp_path: Path
) -> None:
    result = run(ragline, "export", "--out", str(tmp_path / "no-such-dir" / "out.jsonl"))

    assert result.exit_code == 1
    assert "cannot write" in result.output
