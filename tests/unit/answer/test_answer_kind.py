import pytest

from answer.alignment import read_evidence
from answer.answer_kind import MISFIT, asked_kind, fits, kind_fit

pytestmark = pytest.mark.unit

RUTGERS = (
    "Sang Wook Cheong is a materials scientist at Rutgers University. Rutgers is the largest"
    " university in New Jersey. He was defeated by Povetkin in Berlin, Germany."
    " Povetkin held the WBA title. Foeke Booy (born 25 April 1962 in Leeuwarden) is a Dutch"
    ' footballer. Billy Zane is an American actor known for "The Phantom".'
)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Where did skiffle originate?", "place"),
        ("What state does Cheong work in?", "place"),
        ("In which country was Mora defeated?", "place"),
        ("What American country music singer-songwriter sang it?", "person"),
        ("What is the name of the architect who designed it?", "person"),
        ("Who founded the label?", "someone"),
        ("What nationality is the male lead of Fishtales?", "nationality"),
        ("What poem by this writer was recorded?", None),
        ("Jonas is the brother of a footballer who plays for Germany and who else?", None),
    ],
)
def test_the_kind_a_question_asks_for(question: str, kind: str | None) -> None:
    assert asked_kind(question) == kind


def test_a_place_question_refuses_bodies_acronyms_and_people() -> None:
    evidence = read_evidence([RUTGERS])
    assert fits("place", "New Jersey", evidence)
    assert fits("place", "Germany", evidence)
    assert fits("place", "American", evidence)  # "what country" answered by its people
    assert not fits("place", "Rutgers University", evidence)
    assert not fits("place", "WBA", evidence)
    assert not fits("place", "Foeke Booy", evidence)  # the sources give him a birth


def test_a_person_question_refuses_places_titles_and_peoples() -> None:
    evidence = read_evidence([RUTGERS])
    assert fits("person", "Billy Zane", evidence)
    assert not fits("person", "The Phantom", evidence)  # a title in quotes
    assert not fits("person", "New Jersey", evidence)
    assert not fits("person", "American", evidence)
    assert not fits("person", "Rutgers University", evidence)
    # A bare "who" may ask for a band or a company.
    assert fits("someone", "Rutgers University", evidence)


def test_a_nationality_is_a_people_or_a_place() -> None:
    evidence = read_evidence([RUTGERS])
    assert fits("nationality", "American", evidence)
    assert not fits("nationality", "Phantom", evidence)


def test_kind_fit_only_speaks_on_a_clear_clash() -> None:
    evidence = read_evidence([RUTGERS])
    assert kind_fit("What state does Cheong work in?", "Rutgers University", evidence) == MISFIT
    assert kind_fit("What state does Cheong work in?", "New Jersey", evidence) is None
    assert kind_fit("What did Cheong study?", "Rutgers University", evidence) is None
