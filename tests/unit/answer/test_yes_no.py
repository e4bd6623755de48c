import pytest

from answer.alignment import read_evidence
from answer.yes_no import answer_word, yes_likelihood

pytestmark = pytest.mark.unit


def test_answer_word_splits_a_leading_yes_or_no() -> None:
    assert answer_word("No, it does not.") == ("no", "it does not.")
    assert answer_word("Yes.") == ("yes", "")
    assert answer_word("Nobody knows.") == (None, "Nobody knows.")


def test_yes_is_likelier_when_every_subject_s_sentences_bear_the_question_out() -> None:
    evidence = read_evidence(
        [
            "The New Pornographers is a Canadian indie rock band formed in Vancouver."
            " Kings of Leon is an American rock band formed in Nashville."
        ]
    )
    both_american = "Are both The New Pornographers and Kings of Leon American rock bands?"
    both_rock = "Are both The New Pornographers and Kings of Leon rock bands?"
    assert yes_likelihood(both_rock, evidence) == 1.0
    assert yes_likelihood(both_american, evidence) < yes_likelihood(both_rock, evidence)


def test_a_same_question_compares_what_each_subject_s_sentence_states() -> None:
    evidence = read_evidence(
        [
            "Robert Fleischman is an American singer. Jimmy Barnes is a Scottish-born Australian"
            " singer. Randal Kleiser is an American film director."
        ]
    )
    differ = yes_likelihood(
        "Do Robert Fleischman and Jimmy Barnes share the same nationality?", evidence
    )
    agree = yes_likelihood(
        "Are Robert Fleischman and Randal Kleiser of the same nationality?", evidence
    )
    assert differ < 0.5 < agree


def test_a_denied_predicate_makes_no_the_likelier_answer() -> None:
    evidence = read_evidence(["Termination does not affect fees already accrued."])
    assert yes_likelihood("Does termination affect fees already accrued?", evidence) < 0.5
