"""The real token counter: exact counts, never capped by the tokenizer's own truncation."""

from __future__ import annotations

from typing import Any

import pytest

from chunkers.token_counting import TransformersTokenCounter
from kernel.errors import ConfigurationError

pytestmark = pytest.mark.unit


def test_counts_match_the_tokenizer_without_special_tokens_or_truncation(
    minilm_tokenizer: Any,
) -> None:
    counter = TransformersTokenCounter(minilm_tokenizer, 254)
    long_text = "Readings are buffered on disk while the broker is unreachable. " * 40
    expected = len(
        minilm_tokenizer(long_text, add_special_tokens=False, truncation=False)["input_ids"]
    )
    assert expected > 500  # far past the 128 the shipped tokenizer truncates at
    assert counter.count(long_text) == expected
    assert counter.count("hello world") == 2
    assert counter.count("") == 0
    assert counter.max_tokens == 254


def test_the_embedders_tokenizer_is_left_as_it_was(minilm_tokenizer: Any) -> None:
    before = minilm_tokenizer.backend_tokenizer.truncation
    TransformersTokenCounter(minilm_tokenizer, 254)
    assert minilm_tokenizer.backend_tokenizer.truncation == before


def test_a_window_below_one_token_is_refused(minilm_tokenizer: Any) -> None:
    with pytest.raises(ConfigurationError):
        TransformersTokenCounter(minilm_tokenizer, 0)
