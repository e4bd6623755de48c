import pytest

from text.entities import names

pytestmark = pytest.mark.unit


def test_capitalised_spans_with_their_particles_are_names() -> None:
    assert names("The Oberoi Group is in Delhi. He joined the Bank of England.") == [
        "Oberoi Group",
        "Delhi",
        "Bank of England",
    ]


def test_a_sentence_opening_function_word_is_no_name() -> None:
    assert names("The bridge was listed. It carried a tram.") == []


def test_names_do_not_run_across_sentences_and_keep_titles() -> None:
    assert names("He met Dr. Ana Ruiz. Peter Holm left.") == ["Dr. Ana Ruiz", "Peter Holm"]
