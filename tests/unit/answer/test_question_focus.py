import pytest

from answer.alignment import read_evidence
from answer.question_focus import answer_focus, asked_kind, asked_weights

pytestmark = pytest.mark.unit

HOTEL = (
    "The Oberoi family is an Indian family famous for its hotels, namely through The Oberoi"
    " Group.The Oberoi Group is a hotel company with its head office in Delhi."
)
TRAIL = (
    "The Caldera Trail is 14 kilometres long and climbs 620 metres from the Pine Gate car park."
    " It was opened in 1998."
)


def test_the_answer_next_to_the_asked_relation_wins_over_a_name_of_the_question() -> None:
    evidence = read_evidence([HOTEL])
    question = "The Oberoi family is part of a hotel company that has a head office in what city?"
    assert answer_focus(question, "Delhi", evidence) == 1.0
    focus = answer_focus(question, "Oberoi Group", evidence)
    assert focus is not None and focus < 1.0


def test_a_figure_is_located_by_itself_not_by_its_unit() -> None:
    """ "14 metres": "metres" follows 620, the climb; 14 is the length."""
    evidence = read_evidence([TRAIL])
    question = "How far does the Caldera Trail climb?"
    right = answer_focus(question, "620 metres", evidence)
    wrong = answer_focus(question, "14 metres", evidence)
    assert right is not None and wrong is not None
    assert wrong < right


def test_a_number_question_has_only_numbers_as_rivals() -> None:
    evidence = read_evidence(["The Marlow Bridge over the river Tane was completed in 1887."])
    # "Tane" stands closer to "completed" than 1887 does, but a year was asked.
    assert answer_focus("When was the Marlow Bridge completed?", "1887", evidence) == 1.0


def test_a_short_answer_that_only_repeats_the_question_answers_nothing() -> None:
    evidence = read_evidence(["The 1976 Grand Prix was won by Niki Lauda, who retired in 1979."])
    question = "The 1976 Grand Prix was won by a driver who retired in what year?"
    restated = answer_focus(question, "1976", evidence)
    assert restated is not None and restated < 0.5
    assert answer_focus(question, "1979", evidence) == 1.0


def test_a_long_answer_is_left_to_the_claim_checks() -> None:
    evidence = read_evidence([HOTEL])
    long_answer = "The Oberoi Group runs luxury hotels, resorts, cruise ships and airline catering."
    assert answer_focus("What does the Oberoi Group do?", long_answer, evidence) is None


def test_question_words_near_the_question_word_weigh_most_and_names_least() -> None:
    weights = asked_weights(
        "Allie Goertz wrote a song about Milhouse, whom Groening named after who?"
    )
    assert weights["song"] > weights["wrote"]  # nearer the question word
    assert weights["goertz"] < weights["wrote"]  # a name finds the sentence, not the answer
    assert all(0.0 < w <= 1.0 for w in weights.values())


def test_a_span_of_the_kind_asked_for_stands_stronger() -> None:
    evidence = read_evidence(
        [
            "Hate to Feel is a song by Alice in Chains, produced by Dave Jerden for the album"
            " Dirt, which peaked at number six."
        ]
    )
    question = "Hate to Feel is a track on which album by Alice in Chains?"
    assert asked_kind(question) == {"album"}
    assert answer_focus(question, "Dirt", evidence) == 1.0
    rival = answer_focus(question, "Dave Jerden", evidence)
    assert rival is not None and rival < 1.0
