import pytest

from text.polarity import has_negation, negated_terms

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "denied"),
    [
        ("It does not support 5 GHz networks.", {"support"}),
        ("He wasn't a Soviet mathematician.", {"soviet"}),
        ("It doesn\u2019t work.", {"work"}),
        ("Do not exceed four tablets in 24 hours.", {"exceed"}),
        ("The display turns off without input.", {"input"}),
        ("Shared accounts are not permitted, except for the kiosk.", {"permit"}),
        ("It supports 5 GHz networks.", set()),
    ],
)
def test_a_cue_denies_the_content_word_after_it(text: str, denied: set[str]) -> None:
    assert negated_terms(text) == denied


def test_a_clause_break_ends_a_negation() -> None:
    assert negated_terms("It is not, as a rule, cheap.") == frozenset()


def test_has_negation_sees_contractions() -> None:
    assert has_negation("It can't be carried over.")
    assert not has_negation("It can be carried over.")
