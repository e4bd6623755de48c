"""The TokenCounter for a Hugging Face fast tokenizer (the embedding model's own).

Tokenizers shipped with sentence-transformers models often have truncation
switched on in their ``tokenizer.json`` (all-MiniLM-L6-v2: at 128 word pieces).
Counting with such a tokenizer caps every count at 128, so chunks far over the
model's window would pass the limit check and be cut silently at embedding
time. This counter works on a private copy with truncation and padding off, and
counts without [CLS]/[SEP] (the caller's ``max_tokens`` leaves room for them).
"""

from __future__ import annotations

import copy
from typing import Any

from kernel.errors import ConfigurationError


class TransformersTokenCounter:
    """Counts word pieces exactly as ``tokenizer`` splits them, special tokens excluded.

    ``tokenizer`` is a transformers fast tokenizer (its ``backend_tokenizer`` is
    used) or a ``tokenizers.Tokenizer``; it is copied, never modified, so the
    embedder can keep using the original. Raises ConfigurationError for a
    ``max_tokens`` below 1.
    """

    def __init__(self, tokenizer: Any, max_tokens: int) -> None:
        if max_tokens < 1:
            raise ConfigurationError(f"max_tokens must be positive, got {max_tokens}")
        backend = copy.deepcopy(getattr(tokenizer, "backend_tokenizer", tokenizer))
        backend.no_truncation()
        backend.no_padding()
        self._backend = backend
        self._max_tokens = max_tokens

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def count(self, text: str) -> int:
        return len(self._backend.encode(text, add_special_tokens=False).ids)
