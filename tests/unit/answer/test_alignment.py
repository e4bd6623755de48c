import pytest

from answer.alignment import read_evidence
from text.terms import terms

pytestmark = pytest.mark.unit


def test_sources_are_read_as_sentences_and_glued_paragraphs_are_split() -> None:
    evidence = read_evidence(["A magazine was published in Philadelphia.First for Women is newer."])
    assert [s.text for s in evidence.sentences] == [
        "A magazine was published in Philadelphia.",
        "First for Women is newer.",
    ]


def test_align_ranks_sentences_by_shared_rare_terms() -> None:
    evidence = read_evidence(
        ["The bridge was completed in 1887. The bridge carried a tram line. It was listed in 1979."]
    )
    best = evidence.align(set(terms("The tram line crossed the bridge.")), top=1)
    assert [s.text for s in best] == ["The bridge carried a tram line."]
    assert evidence.align(set(terms("Unrelated words entirely.")), top=2) == []


def test_a_word_every_sentence_holds_weighs_less_than_a_rare_one() -> None:
    evidence = read_evidence(["The bridge is old. The bridge is long. The tram is new."])
    assert evidence.weight("bridg") < evidence.weight("tram")


def test_where_gives_word_positions() -> None:
    evidence = read_evidence(["Dr. Ana Ruiz will lead the project."])
    sentence = evidence.sentences[0]
    assert sentence.where({"lead"}) == [4]


def test_weighted_share_counts_missing_words_by_their_weight() -> None:
    evidence = read_evidence(["The bridge is old. The tram is new."])
    assert evidence.weighted_share({"tram"}, evidence.vocabulary) == 1.0
    assert evidence.weighted_share({"tram", "ferri"}, evidence.vocabulary) < 0.5
    assert evidence.weighted_share(set(), evidence.vocabulary) == 1.0


def test_sentences_keep_their_words_with_stopwords_and_figures_whole() -> None:
    evidence = read_evidence(["More than 1,600 scientists were recruited."])
    assert evidence.sentences[0].tokens == (
        "more",
        "than",
        "1,600",
        "scientists",
        "were",
        "recruited",
    )
