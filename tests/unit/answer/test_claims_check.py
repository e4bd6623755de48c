import pytest

from answer.alignment import read_evidence
from answer.claims_check import check_claim, dates

pytestmark = pytest.mark.unit

NOTICE = (
    "The Northfield Library will close for renovation from 3 March to 28 April."
    " Fines will not be charged on items due during the closure."
    " The reading room will reopen with 40 new study desks."
)


def test_a_faithful_claim_passes_every_check() -> None:
    check = check_claim(
        "The library closes for renovation from 3 March to 28 April.", read_evidence([NOTICE])
    )
    assert check.factor == 1.0


def test_a_polarity_flip_in_the_second_aligned_sentence_is_caught() -> None:
    claim = (
        "The Northfield Library closes from 3 March, and fines will be charged during the closure."
    )
    assert check_claim(claim, read_evidence([NOTICE])).polarity < 0.5


def test_a_name_or_word_denied_elsewhere_is_no_conflict() -> None:
    check = check_claim(
        "The reading room will reopen with new study desks.", read_evidence([NOTICE])
    )
    assert check.polarity == 1.0


def test_a_number_from_another_sentence_keeps_a_quarter_and_an_unknown_one_nothing() -> None:
    evidence = read_evidence([NOTICE])
    assert (
        check_claim("The reading room will reopen with 28 new study desks.", evidence).numbers
        == 0.25
    )
    assert (
        check_claim("The reading room will reopen with 55 new study desks.", evidence).numbers
        == 0.0
    )


def test_a_wrong_month_is_a_wrong_date_though_the_day_is_stated() -> None:
    evidence = read_evidence([NOTICE])
    assert check_claim("The library closes for renovation until 28 May.", evidence).numbers < 0.5
    assert dates("from 3 March to 28 April, or April 28th") == {"3 mar", "28 apr"}


def test_a_name_not_in_the_aligned_sentence_lowers_the_names_check() -> None:
    evidence = read_evidence(
        ["Dr. Ana Ruiz will lead the project. Peter Holm approved the budget of the laboratory."]
    )
    assert check_claim("Ana Ruiz will lead the project.", evidence).names == 1.0
    assert check_claim("Peter Holm will lead the project.", evidence).names < 1.0


def test_a_word_one_aligned_sentence_states_and_another_denies_is_no_conflict() -> None:
    evidence = read_evidence(
        [
            "The grinder carries a two-year warranty covering the motor and the electronics."
            " The warranty does not cover burr wear."
        ]
    )
    assert (
        check_claim("The warranty covers the motor and the electronics.", evidence).polarity == 1.0
    )
    assert check_claim("The warranty covers burr wear.", evidence).polarity < 0.5
