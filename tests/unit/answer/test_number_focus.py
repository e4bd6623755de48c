import pytest

from answer.alignment import read_evidence
from answer.number_focus import DETACHED, number_focus

pytestmark = pytest.mark.unit

AIRPORT = (
    "The terminal handled 294,000 passengers in 2012, a 94% increase since 2002."
    " A total of 43 events were held beside the 3000 metres steeplechase."
)
PARK = (
    "Air Chief Marshal Sir Keith Park (15 June 1892 - 6 February 1975) was a New Zealand"
    " soldier. Peter Paul (born September 2, 1948) filed a civil suit in 2004."
)


def test_how_many_asks_for_the_figure_before_its_unit() -> None:
    evidence = read_evidence([AIRPORT])
    question = "The airport handled how many passengers in 2012?"
    assert number_focus(question, "294,000", evidence) == 1.0
    assert number_focus(question, "94", evidence) == DETACHED


def test_a_short_answer_figure_must_stand_with_its_words() -> None:
    evidence = read_evidence([AIRPORT])
    question = "Which event was run by men only?"
    assert number_focus(question, "3000 metres steeplechase", evidence) == 1.0
    assert number_focus(question, "43 metres steeplechase", evidence) == DETACHED


def test_born_in_which_year_asks_for_a_birth_year() -> None:
    evidence = read_evidence([PARK])
    question = "Arthur Noss was the gunner of a soldier born in which year?"
    assert number_focus(question, "1892", evidence) == 1.0
    assert number_focus(question, "1948", evidence) == 1.0  # a birth year, if another's
    assert number_focus(question, "1975", evidence) == DETACHED
    assert number_focus(question, "2004", evidence) == DETACHED


def test_the_year_of_a_death_is_the_end_of_a_life_span() -> None:
    evidence = read_evidence([PARK])
    assert number_focus("In what year did Keith Park die?", "1975", evidence) == 1.0
    assert number_focus("In what year did Keith Park die?", "1892", evidence) == DETACHED


def test_a_place_of_birth_asks_no_birth_year() -> None:
    evidence = read_evidence(["He was born in Enugu. The city had a population of 722,664."])
    question = "What is the population of the city where he was born?"
    assert number_focus(question, "722,664", evidence) == 1.0


def test_a_date_must_be_stated_whole_even_in_a_sentence() -> None:
    evidence = read_evidence(
        [
            "Robert Manoogian (January 4, 1918 - April 3, 2002) was a wrestler born in 1918."
            " George Avakian was born March 15, 1919."
        ]
    )
    right = "Robert Manoogian (January 4, 1918 - April 3, 2002) was an American wrestler"
    wrong = right.replace("1918", "1919")
    assert number_focus(None, right, evidence) == 1.0
    assert number_focus(None, wrong, evidence) == DETACHED


def test_answers_without_figures_and_paraphrased_sentences_are_left_alone() -> None:
    evidence = read_evidence([AIRPORT])
    assert number_focus("How many passengers?", "Many travellers", evidence) == 1.0
    # A long answer's figure may stand with other words than the source's.
    assert (
        number_focus(None, "The airport saw some 294,000 people pass through in 2012.", evidence)
        == 1.0
    )
