"""Which kind of value a question asks for, and whether a quoted unit states one (issue 15)."""

from __future__ import annotations

import pytest

from answer.asked_value import answers_asked_value, asked_value, states_value

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How often must passwords be changed?", "frequency"),
        ("How many days of paid leave do employees get for their own wedding?", "quantity"),
        ("How long are daily backups kept?", "quantity"),
        ("Can either party terminate the agreement, and with how much notice?", "quantity"),
        ("What does the Enterprise plan cost?", "quantity"),
        ("cost of interior concrete flooring", "quantity"),
        ("hydrogen is a liquid below what temperature", "quantity"),
        ("In what year was the company founded?", "date"),
        # no narrow kind named: any unit may answer
        ("When are salaries paid?", None),
        ("Who replaces lost badges?", None),
        ("From which day of sick leave is a medical certificate needed?", None),
        ("Where are the backups stored?", None),
        ("Is there a free trial of CloudBox?", None),
    ],
)
def test_the_kind_asked_for(question: str, kind: str | None) -> None:
    assert asked_value(question) == kind


def test_a_frequency_question_is_not_answered_by_a_length() -> None:
    """The golden set's no-password-rotation: on topic, shares its words, says no "how often"."""
    question = "How often must passwords be changed?"
    assert not answers_asked_value(
        question, "Passwords must be at least 14 characters long and must not be reused."
    )
    assert answers_asked_value(question, "Passwords must be changed every 90 days.")
    assert answers_asked_value(question, "Passwords are changed twice a year.")


def test_a_quantity_is_a_figure_or_a_number_word() -> None:
    assert states_value("quantity", "Submit it at least two weeks in advance.")
    assert states_value("quantity", "Submit it 14 days in advance.")
    assert not states_value("quantity", "Submit it in the HR portal in advance.")


def test_a_clause_or_list_number_is_no_quantity() -> None:
    assert not states_value("quantity", "3 Hydrogen becomes a liquid at very low temperature.")
    assert not states_value("quantity", "3.2 The liquid is kept cold.")
    assert states_value("quantity", "3.2 It is a liquid below -252.9 degrees.")


def test_a_date_is_a_year_or_a_month() -> None:
    assert states_value("date", "It was founded in 1865 in London.")
    assert states_value("date", "It was founded in March.")
    assert not states_value("date", "It was founded by two brothers.")


def test_a_question_that_names_no_narrow_kind_accepts_any_text() -> None:
    assert answers_asked_value("Where are the backups stored?", "In Frankfurt.")
    assert answers_asked_value("Is there a free trial?", "Nothing here states a value.")
    # "who" is answered by a role as well as by a name
    assert answers_asked_value(
        "Who replaces lost badges?", "Lost badges are replaced by the front desk."
    )
