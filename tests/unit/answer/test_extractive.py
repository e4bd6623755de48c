import pytest

from answer.extractive import NOT_FOUND, ExtractedSentence, compose
from retrieval.hybrid import RetrievedChunk

pytestmark = pytest.mark.unit


def _chunk(chunk_id: str) -> RetrievedChunk:
    return RetrievedChunk(
        chunk_id=chunk_id,
        score=0.5,
        document_id=f"doc-{chunk_id}",
        document_version=1,
        text="...",
        title=None,
        source=None,
        section=None,
        page=None,
        bucket=None,
        doc_type=None,
    )


def test_citations_are_numbered_by_first_use_and_shared_by_sentences() -> None:
    a, b = _chunk("a"), _chunk("b")
    answer = compose(
        [
            ExtractedSentence("First from b.", b, 0.9),
            ExtractedSentence("Then from a.", a, 0.8),
            ExtractedSentence("Again from b.", b, 0.7),
        ]
    )
    assert answer.text == "First from b. [1] Then from a. [2] Again from b. [1]"
    assert [c.chunk_id for c in answer.cited] == ["b", "a"]
    assert answer.found


def test_no_sentence_means_an_explicit_not_found() -> None:
    answer = compose([])
    assert (answer.text, answer.cited, answer.found) == (NOT_FOUND, (), False)
