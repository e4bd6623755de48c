"""Prompt templates: rendered into chat messages in a sandbox, refused when they cannot work."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

import prompts
from kernel.errors import InvalidInputError
from prompts.book import pick_label, rollback_target
from prompts.templates import ANSWER_SAMPLE, check_prompt, check_renders, render

pytestmark = pytest.mark.unit

USER = "Sources:\n{% for s in sources %}[{{ s.n }}] {{ s.text }}\n{% endfor %}Q: {{ question }}\n"
SHIPPED = Path(prompts.__file__).parent / "defaults" / "answer.yaml"


def test_render_gives_a_system_then_a_user_message() -> None:
    messages = render("Answer as of {{ today }}.", USER, ANSWER_SAMPLE)

    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[0]["content"] == "Answer as of 2026-11-30."
    assert messages[1]["content"] == (
        "Sources:\n"
        "[1] Full-time employees receive 25 vacation days per calendar year.\n"
        "[2] Part-time employees accrue vacation in proportion to their hours.\n"
        "Q: How many vacation days do full-time employees get?\n"
    )


def test_render_keeps_a_trailing_newline_and_does_not_escape_html() -> None:
    messages = render("a <b> & c\n", "{{ question }}", {"question": "x < y & z"})

    assert messages[0]["content"] == "a <b> & c\n"
    assert messages[1]["content"] == "x < y & z"


def test_the_sample_holds_exactly_the_contract_variables() -> None:
    assert set(ANSWER_SAMPLE) == {"question", "sources", "today"}
    sources = ANSWER_SAMPLE["sources"]
    assert isinstance(sources, list)
    assert [s["n"] for s in sources] == [1, 2]
    for source in sources:
        assert set(source) == {"n", "title", "source", "section", "page", "text"}


def test_an_undefined_variable_is_refused_with_its_name_and_part() -> None:
    with pytest.raises(InvalidInputError) as caught:
        check_renders("Hello {{ customer_name }}", USER, ANSWER_SAMPLE)

    assert "system template" in caught.value.message
    assert "'customer_name' is undefined" in caught.value.message


def test_a_missing_attribute_of_a_source_is_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"user template.*no attribute 'url'"):
        check_renders(
            "s", "{{ question }}{% for s in sources %}{{ s.url }}{% endfor %}", ANSWER_SAMPLE
        )


def test_a_syntax_error_is_refused_with_its_line() -> None:
    with pytest.raises(InvalidInputError) as caught:
        check_renders("fine", "line one\n{{ question }}\n{% for s in sources %}\n", ANSWER_SAMPLE)

    message = caught.value.message
    assert message.startswith("the user template has a syntax error on line")
    assert "endfor" in message


def test_the_sandbox_refuses_python_internals() -> None:
    with pytest.raises(InvalidInputError, match="sandbox forbids"):
        render("{{ question.__class__.__mro__ }}", USER, ANSWER_SAMPLE)


def test_a_python_error_while_rendering_is_refused_clearly() -> None:
    with pytest.raises(InvalidInputError, match=r"system template cannot render: TypeError"):
        render("{{ question + 1 }}", USER, ANSWER_SAMPLE)


def test_a_user_template_without_the_question_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="would not see the question"):
        check_prompt("Question: {{ question }}", "{% for s in sources %}{{ s.text }}{% endfor %}")


def test_a_prompt_that_never_shows_the_sources_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="would not see the sources"):
        check_prompt("Be brief.", "{{ question }}")


def test_sources_in_the_system_template_are_enough() -> None:
    check_prompt("{% for s in sources %}[{{ s.n }}] {{ s.text }}{% endfor %}", "{{ question }}")


def test_a_variable_the_template_sets_itself_does_not_count_as_the_question() -> None:
    with pytest.raises(InvalidInputError, match="would not see the question"):
        check_prompt("{{ sources }}", "{% set question = 'x' %}{{ question }}")


def test_an_oversized_template_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="the limit is"):
        check_prompt("x" * 40_000, USER)


def test_the_shipped_answer_prompt_renders_numbered_sources_and_the_rules() -> None:
    shipped = yaml.safe_load(SHIPPED.read_text())
    check_prompt(shipped["system"], shipped["user"])

    system, user = (m["content"] for m in render(shipped["system"], shipped["user"], ANSWER_SAMPLE))

    assert "I could not find this in the documents you can access." in system
    assert "[n]" not in system and "2026-11-30" in system
    assert "[1] Northwind Analytics Employee Handbook (employee-handbook.md)" in user
    assert "[2] benefits-2026.pdf, page 3" in user
    assert user.index("[1]") < user.index("25 vacation days") < user.index("[2]")
    assert user.rstrip().endswith("Question: How many vacation days do full-time employees get?")


# -- pure rules of the book -------------------------------------------------------


@pytest.mark.parametrize(
    ("moves", "target"),
    [
        ([], None),
        ([(None, 1)], None),
        ([(None, 1), (1, 2)], 1),
        ([(None, 1), (1, 2), (2, 3)], 2),
        ([(None, 1), (1, 2), (2, 3), (3, 2)], 1),  # rolled back once: the next goes further
        ([(None, 1), (1, 2), (2, 3), (3, 2), (2, 1)], None),
        ([(None, 1), (1, 2), (2, 1)], None),  # moved back by hand: the same as a rollback
        ([(None, 1), (1, 3), (3, 1), (1, 2)], 1),
        ([(None, 1), (1, 2), (2, 3), (3, 1)], 3),  # a jump back two is undone by a rollback
        ([(None, 1), (1, 2), (2, 2)], 1),  # a move to where it is changes nothing
    ],
)
def test_rollback_target_walks_back_through_forward_moves(
    moves: list[tuple[int | None, int]], target: int | None
) -> None:
    assert rollback_target(moves) == target


def test_pick_label_is_the_documented_hash_against_cumulative_weights_in_label_order() -> None:
    weights = {"staging": 30, "production": 70}  # sorted: production 0-69, staging 70-99
    for i in range(300):
        key = f"key-{i}"
        point = int.from_bytes(hashlib.sha256(f"answer:{key}".encode()).digest()[:8], "big") % 100
        expected = "production" if point < 70 else "staging"
        assert pick_label("answer", key, weights) == expected
        assert pick_label("answer", key, dict(reversed(weights.items()))) == expected
