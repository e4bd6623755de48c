"""Which dense embedder a process uses: torch (sentence-transformers) or ONNX.

``models.embedding_backend``:

- ``torch``: always sentence-transformers.
- ``onnx``: the prepared ONNX model (int8 if it agrees with torch, else fp32); a
  ConfigurationError naming ``ragline models prepare`` when there is none or no
  variant agrees with torch (min cosine under MIN_COSINE).
- ``auto`` (the default): ONNX when ``ragline models prepare`` made a model for these
  exact weights and this onnxruntime, a variant of it agreed with torch on every
  verification text, and it was faster than torch on this machine; torch otherwise.
  A fresh install with no prepared model therefore behaves as before.

The choice and its reason go to the log once, at INFO, when the embedder is opened.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from kernel.errors import ConfigurationError
from kernel.settings import ModelSettings
from retrieval.encoders import DenseEncoder
from retrieval.onnx_manifest import (
    PREPARE_COMMAND,
    TORCH,
    VariantReport,
    faster_usable_variant,
    onnx_cache_dir,
    prepared_dir,
    read_manifest,
    usable_variants,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackendChoice:
    """The backend to open, the prepared variant for ONNX, and why (for the log line)."""

    backend: str  # "torch" or an ONNX variant name (onnx_manifest.ONNX_*)
    reason: str
    model_dir: Path | None = None
    variant: VariantReport | None = None
    window: int = 0


def _model_path(models: ModelSettings) -> Path:
    if models.embedding_model_path is not None:
        return models.embedding_model_path
    from retrieval.dense import default_model_path

    return default_model_path()


def choose_backend(models: ModelSettings) -> BackendChoice:
    """Decide from the settings and the prepared model's manifest, loading no model.

    Raises ConfigurationError for ``onnx`` without a usable prepared model.
    """
    if models.embedding_backend == "torch":
        return BackendChoice(TORCH, "models.embedding_backend is torch")
    model_path = _model_path(models)
    required = models.embedding_backend == "onnx"
    model_dir = prepared_dir(onnx_cache_dir(models.onnx_dir), model_path)
    try:
        manifest = read_manifest(model_dir)
    except ConfigurationError as exc:
        if required:
            raise ConfigurationError(f"{exc} in {model_dir}; run `{PREPARE_COMMAND}`") from exc
        return BackendChoice(TORCH, f"{exc} in {model_dir}")
    if manifest is None:
        if required:
            raise ConfigurationError(
                f"models.embedding_backend is onnx but no ONNX model is prepared for "
                f"{model_path} in {model_dir}: run `{PREPARE_COMMAND}`"
            )
        return BackendChoice(TORCH, f"no prepared ONNX model ({PREPARE_COMMAND})")
    if required:
        usable = usable_variants(manifest)
        if not usable:
            raise ConfigurationError(
                f"the prepared ONNX model in {model_dir} does not agree with torch; "
                f"run `{PREPARE_COMMAND} --force` or use models.embedding_backend=torch"
            )
        return BackendChoice(
            usable[0].name,
            "models.embedding_backend is onnx",
            model_dir,
            usable[0],
            manifest.window,
        )
    variant, reason = faster_usable_variant(manifest)
    if variant is None:
        return BackendChoice(TORCH, reason)
    return BackendChoice(variant.name, reason, model_dir, variant, manifest.window)


def open_dense_encoder(models: ModelSettings) -> DenseEncoder:
    """The dense embedder the settings ask for (module docstring); logs which and why.

    Raises ConfigurationError as :func:`choose_backend` does, or when a model's files
    are missing.
    """
    choice = choose_backend(models)
    logger.info("dense embedder: %s (%s)", choice.backend, choice.reason)
    if choice.variant is None or choice.model_dir is None or choice.variant.file is None:
        from retrieval.dense import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(
            models.embedding_model_path,
            batch_size=models.embedding_batch_size,
            max_tokens=models.chunk_max_tokens,
        )
    from retrieval.onnx_dense import OnnxEmbedder

    return OnnxEmbedder(
        choice.model_dir / choice.variant.file,
        _model_path(models),
        window=choice.window,
        batch_size=models.embedding_batch_size,
        max_tokens=models.chunk_max_tokens,
    )
