import pytest

from answer.alignment import read_evidence
from answer.either_or import option_focus

pytestmark = pytest.mark.unit


def test_an_either_or_answer_is_scored_against_the_other_option() -> None:
    evidence = read_evidence(
        [
            "The Saimaa Gesture is a 1981 documentary about three Finnish rock groups."
            " Adam Clayton Powell is a 1989 documentary about a politician."
        ]
    )
    question = (
        "Which documentary is about Finnish rock groups, Adam Clayton Powell or The Saimaa Gesture?"
    )
    chosen = option_focus(question, "The Saimaa Gesture", evidence)
    other = option_focus(question, "Adam Clayton Powell", evidence)
    assert chosen == 1.0
    assert other is not None and other < chosen
    neither = option_focus(question, "Harlem", evidence)
    assert neither is not None and neither < other


def test_a_connection_between_two_names_offers_no_options() -> None:
    evidence = read_evidence(["Peter O'Meara played Norman Dike in Band of Brothers."])
    question = "What is the connection between Peter O'Meara and Norman Dike?"
    assert option_focus(question, "Band of Brothers", evidence) is None


def test_order_questions_compare_each_options_own_year() -> None:
    evidence = read_evidence(
        [
            "Sir Francis Nethersole (1587-1659) was secretary to the Electress Elizabeth."
            " Elizabeth Stuart (19 August 1596 - 13 February 1662) was Queen of Bohemia."
        ]
    )
    question = "Who was born first, Francis Nethersole or Elizabeth Stuart?"
    assert option_focus(question, "Sir Francis Nethersole", evidence) == 1.0
    later = option_focus(question, "Elizabeth Stuart", evidence)
    assert later is not None and later < 1.0
