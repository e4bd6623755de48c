"""The grounding eval's parts: AUROC and balanced accuracy, reading labelled answers, groups.

AUROC cases are small enough to count by hand (the pairs a supported answer wins,
ties half) and are checked once more against a brute-force count over every pair.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from evals.auroc import auroc, balanced_accuracy
from evals.grounding_eval import (
    LabelledAnswer,
    ServiceGrounding,
    details,
    evaluate,
    read_labelled,
)
from kernel.errors import InvalidInputError

pytestmark = pytest.mark.unit

SOURCE = "Invoices are due within 30 days. Late payments incur a fee of 40 EUR."


# AUROC and balanced accuracy


def test_auroc_is_one_when_every_supported_answer_outscores_every_hallucinated_one() -> None:
    assert auroc([0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0]) == 1.0


def test_auroc_is_zero_when_the_order_is_inverted() -> None:
    assert auroc([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0]) == 0.0


def test_auroc_of_a_constant_score_is_one_half() -> None:
    assert auroc([0.7, 0.7, 0.7, 0.7, 0.7], [1, 0, 1, 0, 0]) == 0.5


def test_auroc_counts_won_pairs() -> None:
    # supported 0.9 beats 0.8 and 0.4; supported 0.6 beats 0.4 only: 3 of 4 pairs.
    assert auroc([0.9, 0.8, 0.6, 0.4], [1, 0, 1, 0]) == 0.75


def test_auroc_counts_a_tie_as_half_a_pair() -> None:
    # supported 0.7 ties hallucinated 0.7 (1/2) and beats 0.2 (1): 1.5 of 2 pairs.
    assert auroc([0.7, 0.7, 0.2], [1, 0, 0]) == 0.75
    # runs of ties across both classes: 0.5 ties 0.5 twice (1/2 each), beats 0.1 (1);
    # 0.9 beats all three: (2 + 3) of 6 pairs.
    assert auroc([0.5, 0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0, 0]) == pytest.approx(5 / 6)


def test_auroc_agrees_with_counting_every_pair() -> None:
    rng = random.Random(7)
    scores = [rng.choice([0.0, 0.25, 0.5, 0.75, 1.0, rng.random()]) for _ in range(300)]
    labels = [rng.randint(0, 1) for _ in scores]
    wins = 0.0
    for s_pos, y_pos in zip(scores, labels, strict=True):
        for s_neg, y_neg in zip(scores, labels, strict=True):
            if y_pos == 1 and y_neg == 0:
                wins += 1.0 if s_pos > s_neg else 0.5 if s_pos == s_neg else 0.0
    pairs = sum(labels) * (len(labels) - sum(labels))
    assert auroc(scores, labels) == pytest.approx(wins / pairs)


@pytest.mark.parametrize(
    ("scores", "labels", "reason"),
    [
        ([0.1, 0.9], [1, 1], "at least one supported and one hallucinated"),
        ([0.1, 0.9], [0, 0], "at least one supported and one hallucinated"),
        ([0.1], [1, 0], "1 scores for 2 labels"),
        ([0.1, 0.9], [1, 2], "labels must be 0"),
    ],
)
def test_auroc_refuses_undefined_input(scores: list[float], labels: list[int], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        auroc(scores, labels)
    with pytest.raises(ValueError, match=reason):
        balanced_accuracy(scores, labels, 0.5)


def test_balanced_accuracy_averages_the_hit_rates_of_both_classes() -> None:
    # supported: 0.9 and 0.5 (at the threshold counts) hit, 0.4 misses: 2/3;
    # hallucinated: 0.1 hit, 0.6 missed: 1/2.
    scores = [0.9, 0.5, 0.4, 0.1, 0.6]
    labels = [1, 1, 1, 0, 0]
    assert balanced_accuracy(scores, labels, 0.5) == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert balanced_accuracy(scores, labels, 0.0) == 0.5  # everything "supported"
    assert balanced_accuracy(scores, labels, 0.95) == 0.5  # nothing "supported"


# Reading labelled answers


def _write(tmp_path: Path, *rows: Any) -> Path:
    path = tmp_path / "set.jsonl"
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


PAIR = {
    "knowledge": SOURCE,
    "question": "When are invoices due?",
    "right_answer": "Within 30 days.",
    "hallucinated_answer": "Within 60 days.",
    "perturbation": "number_swap",
}


def test_a_pair_gives_a_supported_and_a_hallucinated_answer_in_one_group(tmp_path: Path) -> None:
    answers = read_labelled(_write(tmp_path, PAIR))
    assert answers == [
        LabelledAnswer(SOURCE, "Within 30 days.", 1, "When are invoices due?", "number_swap", 1),
        LabelledAnswer(SOURCE, "Within 60 days.", 0, "When are invoices due?", "number_swap", 1),
    ]


def test_labelled_rows_and_pairs_mix_in_one_file_with_their_line_numbers(tmp_path: Path) -> None:
    without_perturbation = {k: v for k, v in PAIR.items() if k != "perturbation"}
    path = _write(
        tmp_path,
        {"source": SOURCE, "answer": "The late fee is 40 EUR.", "label": 1},
        "",
        {
            "source": SOURCE,
            "question": "Fee?",
            "answer": "No fee.",
            "label": 0,
            "perturbation": "x",
        },
        without_perturbation,
    )
    answers = read_labelled(path)
    assert [(a.line, a.label, a.question, a.perturbation) for a in answers] == [
        (1, 1, None, None),
        (3, 0, "Fee?", "x"),
        (4, 1, "When are invoices due?", None),
        (4, 0, "When are invoices due?", None),
    ]
    assert answers[1].answer == "No fee."


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ('{"source": "s", "answer": "a", "label": 1', "not valid JSON"),
        ('["a", "list"]', "expected a JSON object"),
        ({"source": "s", "answer": "a", "label": 2}, "`label` must be 1 (supported) or 0"),
        ({"source": "s", "answer": "a", "label": "1"}, "`label` must be 1"),
        ({"source": "s", "answer": "a"}, "`label` must be 1"),
        ({"source": "s", "label": 0}, "`answer` must be a non-empty string"),
        ({"answer": "a", "label": 0}, "`source` must be a non-empty string"),
        ({"source": "s", "answer": "  ", "label": 0}, "`answer` must be a non-empty string"),
        ({"source": "s", "question": 3, "answer": "a", "label": 1}, "`question` must be"),
        ({**PAIR, "hallucinated_answer": None}, "`hallucinated_answer` must be a non-empty"),
        ({k: v for k, v in PAIR.items() if k != "question"}, "`question` must be"),
        ({**PAIR, "label": 1}, "mixes a pair"),
        ({"knowledge": "k", "text": "t"}, "neither a pair"),
        ({**PAIR, "perturbation": 5}, "`perturbation` must be a non-empty string"),
        ({**PAIR, "perturbation": "all"}, "`all` names every answer"),
    ],
)
def test_a_bad_row_is_refused_with_its_line(tmp_path: Path, bad: Any, reason: str) -> None:
    path = _write(tmp_path, PAIR, bad, PAIR)
    with pytest.raises(InvalidInputError) as caught:
        read_labelled(path)
    assert f"{path} line 2: " in caught.value.message
    assert reason in caught.value.message


def test_an_empty_or_missing_file_is_refused(tmp_path: Path) -> None:
    empty = _write(tmp_path, "", "  ")
    with pytest.raises(InvalidInputError, match="holds no rows"):
        read_labelled(empty)
    with pytest.raises(InvalidInputError, match="does not exist"):
        read_labelled(tmp_path / "absent.jsonl")


# Evaluating


def _answer(answer: str, label: int, perturbation: str | None, line: int) -> LabelledAnswer:
    return LabelledAnswer(SOURCE, answer, label, f"question {line}", perturbation, line)


class TableScorer:
    """A scorer that looks scores up by answer, and records the questions it was given."""

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores = scores
        self.questions: list[str | None] = []

    def __call__(self, source: str, answer: str, question: str | None) -> float:
        assert source == SOURCE
        self.questions.append(question)
        return self.scores[answer]


def test_groups_are_measured_apart_and_a_one_label_group_has_no_auroc() -> None:
    answers = [
        _answer("n+", 1, "number", 1),
        _answer("n-", 0, "number", 1),
        _answer("e+", 1, "entity", 2),
        _answer("e-", 0, "entity", 2),
        _answer("e2-", 0, "entity", 3),
        _answer("only-", 0, "lonely", 4),
        _answer("plain+", 1, None, 5),
    ]
    scorer = TableScorer(
        {"n+": 0.9, "n-": 0.2, "e+": 0.5, "e-": 0.5, "e2-": 0.8, "only-": 0.1, "plain+": 0.6}
    )
    result = evaluate(answers, scorer, threshold=0.5)

    assert [(g.name, g.supported, g.hallucinated) for g in result.groups] == [
        ("all", 3, 4),
        ("entity", 1, 2),
        ("lonely", 0, 1),
        ("number", 1, 1),
    ]
    by_name = {g.name: g for g in result.groups}
    assert by_name["number"].auroc == 1.0
    assert by_name["entity"].auroc == 0.25  # ties 0.5 (1/2), loses to 0.8: 0.5 of 2
    assert by_name["lonely"].auroc is None and by_name["lonely"].balanced_accuracy is None
    # all: supported 0.9, 0.5, 0.6 against 0.2, 0.5, 0.8, 0.1 -> 4 + 2.5 + 3 = 9.5 of 12
    assert by_name["all"].auroc == pytest.approx(9.5 / 12)
    # all at 0.5: supported 3/3 hit; hallucinated 0.2 and 0.1 hit, 0.5 and 0.8 missed: 2/4
    assert by_name["all"].balanced_accuracy == pytest.approx((1 + 0.5) / 2)

    metrics = result.metrics()
    assert set(metrics) == {
        "all.auroc",
        "all.balanced_accuracy",
        "all.scoring_ms",
        "entity.auroc",
        "number.auroc",
    }
    assert metrics["all.auroc"] == by_name["all"].auroc
    assert result.scores == (0.9, 0.2, 0.5, 0.5, 0.8, 0.1, 0.6)
    # one untimed warm-up call on the first answer, then every answer with its question
    assert scorer.questions == ["question 1", *(a.question for a in answers)]


def test_scoring_time_is_the_mean_per_answer_of_the_timed_calls() -> None:
    ticks = iter(range(0, 1000, 2))  # every timed call spans 2 ticks of 1 ms

    def clock() -> float:
        return next(ticks) / 1000

    answers = [_answer("a", 1, None, 1), _answer("b", 0, None, 2), _answer("c", 0, None, 3)]
    result = evaluate(answers, TableScorer({"a": 1, "b": 0, "c": 0}), threshold=0.5, clock=clock)
    assert result.scoring_ms == pytest.approx(2.0)


def test_a_set_with_one_label_cannot_be_evaluated() -> None:
    answers = [_answer("a", 1, None, 1), _answer("b", 1, None, 2)]
    with pytest.raises(InvalidInputError, match="both supported"):
        evaluate(answers, TableScorer({"a": 1, "b": 0}), threshold=0.5)


def test_details_list_group_sizes_and_the_highest_scored_hallucinations() -> None:
    answers = [
        _answer("right", 1, "p", 1),
        _answer("wrong low", 0, "p", 1),
        _answer("wrong high", 0, None, 2),
    ]
    scorer = TableScorer({"right": 0.9, "wrong low": 0.1, "wrong high": 0.95})
    found = details(answers, evaluate(answers, scorer, threshold=0.5))
    assert found["groups"]["all"]["n"] == 3
    assert found["groups"]["p"] == {
        "n": 2,
        "supported": 1,
        "hallucinated": 1,
        "auroc": 1.0,
        "balanced_accuracy": 1.0,
    }
    assert [(m["line"], m["answer"]) for m in found["highest_scored_hallucinations"]] == [
        (2, "wrong high"),
        (1, "wrong low"),
    ]


def test_the_service_scorer_is_the_service_grounding_check() -> None:
    scorer = ServiceGrounding(min_support=0.5)
    assert scorer(SOURCE, "Invoices are due within 30 days.", None) == 1.0
    # every word is in the source, but the number is not: the check the service makes
    assert scorer(SOURCE, "Invoices are due within 45 days.", "When?") == 0.0


def test_the_service_scorer_passes_the_question_on() -> None:
    """A bare figure is judged by where the question points, as ``POST /ask`` judges it."""
    scorer = ServiceGrounding(min_support=0.5)
    question = "How many days after the invoice date are invoices due?"
    assert scorer(SOURCE, "30.", question) == 1.0
    # 40 is in the source too, but as the fee, not where the question points
    assert scorer(SOURCE, "40.", question) < scorer(SOURCE, "30.", question)
    # without the question a bare figure is judged by coverage, and both are covered
    assert scorer(SOURCE, "40.", None) == scorer(SOURCE, "30.", None) == 1.0
