"""Batches of like length for the ONNX embedder: every text once, the cuts where promised."""

from __future__ import annotations

from retrieval.onnx_dense import like_length_batches


def test_every_text_is_in_exactly_one_batch_longest_first() -> None:
    texts = ["a" * n for n in (5, 80, 60, 79, 20, 21, 100, 6)]
    batches = like_length_batches(texts, 32)
    flat = [i for batch in batches for i in batch]
    assert sorted(flat) == list(range(len(texts)))
    assert [len(texts[i]) for i in flat] == sorted((len(t) for t in texts), reverse=True)


def test_a_batch_ends_where_a_text_falls_below_seventy_percent_of_its_longest() -> None:
    texts = ["x" * n for n in (100, 80, 71, 69, 50, 49, 30, 10)]
    lengths = [[len(texts[i]) for i in batch] for batch in like_length_batches(texts, 32)]
    assert lengths == [[100, 80, 71], [69, 50, 49], [30], [10]]


def test_a_batch_never_exceeds_its_size() -> None:
    texts = ["same length"] * 70
    assert [len(b) for b in like_length_batches(texts, 32)] == [32, 32, 6]


def test_no_texts_no_batches() -> None:
    assert like_length_batches([], 32) == []
