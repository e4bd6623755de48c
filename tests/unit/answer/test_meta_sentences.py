import pytest

from answer.meta_sentences import strip_framing

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "sentence",
    [
        "Here is a summary of the document:",
        "Here is a summary of the notice.",
        "Here are the key points:",
        "Here's a brief overview:",
    ],
)
def test_a_sentence_of_framing_only_claims_nothing(sentence: str) -> None:
    assert strip_framing(sentence) == ""


@pytest.mark.parametrize(
    ("sentence", "claim"),
    [
        ("According to the document, the fee is 40 EUR.", "the fee is 40 EUR."),
        (
            "Based on the provided context, invoices are due in 30 days.",
            "invoices are due in 30 days.",
        ),
        ("In summary, the bridge opened in 1887.", "the bridge opened in 1887."),
        ("The document states that fees apply.", "fees apply."),
        (
            "Here is a summary of the notice: the clinic opens at 7 a.m.",
            "the clinic opens at 7 a.m.",
        ),
    ],
)
def test_a_framing_prefix_is_cut_from_a_claim(sentence: str, claim: str) -> None:
    assert strip_framing(sentence) == claim


@pytest.mark.parametrize(
    "sentence",
    [
        "Overall revenue grew by 4%.",
        "Here the river turns north.",
        "The summary judgment was appealed.",
    ],
)
def test_ordinary_sentences_are_left_alone(sentence: str) -> None:
    assert strip_framing(sentence) == sentence
