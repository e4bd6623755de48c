"""Make the ONNX embedding model from the shipped torch weights, check it, and time it.

One graph holds the transformer, mean pooling and L2 normalisation, so onnxruntime
returns the finished vector and the serving side needs no numpy pooling (pooling is a
few microseconds beside the transformer either way; one graph is one thing to check).
The export uses torch's dynamo exporter with dynamic batch and sequence axes; the int8
copy comes from ``onnxruntime.quantization.quantize_dynamic``.

Quantisation choices, measured on the verification sample against torch (2026-11-30):
all MatMuls per-tensor gave min cosine 0.895; per-channel 0.985; per-channel with the
feed-forward down-projections (1536 -> 384, whose inputs after GELU have the widest
range) left in fp32 0.991. On 2026-12-01 a fresh install (transformers 5.24,
tokenizers 0.23, onnxruntime 1.30 to 1.32 alike) gave that same model 0.9875, a query
embedded alone being the worst; also keeping the first layer in fp32 (its inputs are
the raw embeddings) gave 0.9912, keeping the last layer instead 0.9897, and
``reduce_range`` 0.9880. The first-layer variant is what is made; the manifest
records what this model measured, and a variant under MIN_COSINE is never used.

Everything is written to a temporary folder beside the target and renamed into place,
so a reader sees either no prepared model or a whole one; two concurrent ``prepare``
runs both finish and one of their (equivalent) results is kept.
"""

from __future__ import annotations

import logging
import shutil
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from kernel.errors import ConfigurationError
from retrieval.encoders import DenseEncoder
from retrieval.onnx_dense import OnnxEmbedder, cpu_threads
from retrieval.onnx_manifest import (
    FORMAT_VERSION,
    ONNX_FP32,
    ONNX_INT8,
    TORCH,
    Manifest,
    VariantReport,
    onnxruntime_version,
    prepared_dir,
    read_manifest,
    weights_sha256,
)
from retrieval.onnx_verify import QUERIES, cosines, timed_embed

FP32_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


@contextmanager
def _quiet_tools() -> Iterator[None]:
    """Hush the exporter's and quantiser's advice about their own internals.

    torch's exporter warns that torchvision (not a dependency) is absent, and the
    quantiser advises shape pre-processing on the root logger; neither is about this
    graph, which verification checks against torch anyway.
    """
    noisy = [logging.getLogger("torch.onnx._internal.exporter._registration"), logging.getLogger()]
    levels = [logger.level for logger in noisy]
    for logger in noisy:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(noisy, levels, strict=True):
            logger.setLevel(level)


def _pooled_model(transformer: Any) -> Any:
    """The Hugging Face transformer wrapped with mean pooling and L2 normalisation."""
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    return Pooled(transformer).eval()


def export_fp32(model: Any, target: Path) -> None:
    """Export a loaded SentenceTransformer to ``target`` (dynamic batch and length)."""
    import torch

    pooled = _pooled_model(model[0].auto_model)
    example = tuple(torch.ones(2, 16, dtype=torch.long) for _ in _INPUTS)
    batch = torch.export.Dim("batch")
    length = torch.export.Dim("sequence", max=int(model.max_seq_length))
    with _quiet_tools(), torch.no_grad():
        torch.onnx.export(
            pooled,
            example,
            str(target),
            input_names=list(_INPUTS),
            output_names=["sentence_embedding"],
            dynamic_shapes=tuple({0: batch, 1: length} for _ in _INPUTS),
            dynamo=True,
            external_data=False,
            verbose=False,
        )


def _kept_in_fp32(fp32_file: Path) -> list[str]:
    """MatMul nodes int8 would hurt: activation x activation, the down-projections,
    and every MatMul of the first layer (those up to the first down-projection)."""
    import onnx

    graph = onnx.load(str(fp32_file)).graph
    weights = {init.name: tuple(init.dims) for init in graph.initializer}
    kept = []
    in_first_layer = True
    for node in graph.node:
        if node.op_type != "MatMul":
            continue
        shape = weights.get(node.input[1])
        down_projection = shape is not None and len(shape) == 2 and shape[0] > shape[1]
        if shape is None or down_projection or in_first_layer:
            kept.append(node.name)
        if down_projection:
            in_first_layer = False
    return kept


def quantize_int8(fp32_file: Path, target: Path) -> None:
    """Dynamic int8 quantisation of the weight MatMuls, per channel (module docstring)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet_tools():
        quantize_dynamic(
            str(fp32_file),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
            nodes_to_exclude=_kept_in_fp32(fp32_file),
        )


def _report(name: str, file: Path | None, speed: float, cos: np.ndarray) -> VariantReport:
    return VariantReport(
        name=name,
        file=file.name if file else None,
        size_bytes=file.stat().st_size if file else 0,
        texts_per_s=round(speed, 2),
        cos_min=round(float(cos.min()), 6),
        cos_mean=round(float(cos.mean()), 6),
    )


def _build(
    model_path: Path,
    work: Path,
    texts: Sequence[str],
    torch_embedder: DenseEncoder,
    *,
    batch_size: int,
    threads: int,
    progress: Callable[[str], None],
) -> Manifest:
    import time

    import torch
    from sentence_transformers import SentenceTransformer

    started = time.perf_counter()
    progress("exporting to ONNX (fp32)")
    model: Any = SentenceTransformer(str(model_path), device="cpu")
    window = int(model.max_seq_length)
    export_fp32(model, work / FP32_FILE)
    del model
    progress("quantising to int8")
    quantize_int8(work / FP32_FILE, work / INT8_FILE)
    export_seconds = time.perf_counter() - started

    progress(f"embedding {len(texts)} texts with torch")
    reference = timed_embed(torch_embedder.embed, texts)
    reports = [_report(TORCH, None, reference.texts_per_s, np.ones(1))]
    dim = reference.vectors.shape[1]
    for name, file in ((ONNX_FP32, work / FP32_FILE), (ONNX_INT8, work / INT8_FILE)):
        progress(f"embedding {len(texts)} texts with {name}")
        embedder = OnnxEmbedder(
            file, model_path, window=window, batch_size=batch_size, threads=threads
        )
        if embedder.dim != dim:
            raise ConfigurationError(f"{name} gives {embedder.dim} dimensions, torch {dim}")
        measured = timed_embed(embedder.embed, texts)
        agreement = cosines(measured.vectors, reference.vectors)
        # int8 activations are scaled per batch, so a text's vector depends a little on
        # its batch; a search embeds its query alone: check that path too.
        singles = min(len(texts), QUERIES)
        alone = np.asarray([embedder.embed_one(text) for text in texts[:singles]])
        agreement = np.concatenate([agreement, cosines(alone, reference.vectors[:singles])])
        reports.append(_report(name, file, measured.texts_per_s, agreement))
    return Manifest(
        format_version=FORMAT_VERSION,
        weights_sha256=weights_sha256(model_path),
        onnxruntime_version=onnxruntime_version(),
        torch_version=str(torch.__version__),
        dim=dim,
        window=window,
        texts=len(texts),
        batch_size=batch_size,
        threads=threads,
        export_seconds=round(export_seconds, 2),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        variants=tuple(reports),
    )


def prepare_onnx_model(
    model_path: Path,
    cache_dir: Path,
    texts: Sequence[str],
    *,
    torch_embedder: DenseEncoder | None = None,
    batch_size: int = 32,
    threads: int | None = None,
    force: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> tuple[Path, Manifest]:
    """Export, quantise, verify and time; return the prepared folder and its manifest.

    A prepared model already in place for these weights and this onnxruntime is
    returned as it is unless ``force``. ``torch_embedder`` is the reference (a
    SentenceTransformerEmbedder of ``model_path`` is loaded when None). Raises
    ConfigurationError when the export cannot be made or loaded.
    """
    target = prepared_dir(cache_dir, model_path)
    if not force:
        try:
            existing = read_manifest(target)
        except ConfigurationError:  # a damaged manifest: make the model again
            force = True
        else:
            if existing is not None:
                return target, existing
    if torch_embedder is None:
        from retrieval.dense import SentenceTransformerEmbedder

        torch_embedder = SentenceTransformerEmbedder(model_path, batch_size=batch_size)
    cache_dir.mkdir(parents=True, exist_ok=True)
    work = cache_dir / f".tmp-{uuid.uuid4().hex}"
    work.mkdir()
    try:
        manifest = _build(
            model_path,
            work,
            texts,
            torch_embedder,
            batch_size=batch_size,
            threads=threads or cpu_threads(),
            progress=progress,
        )
        (work / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")
        _move_into_place(work, target, replace=force)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target, manifest


def _move_into_place(work: Path, target: Path, *, replace: bool) -> None:
    """Rename ``work`` to ``target``; an existing target is kept unless ``replace``."""
    if replace and target.exists():
        old = target.with_name(f".old-{uuid.uuid4().hex}")
        try:
            target.rename(old)
        except FileNotFoundError:  # another process moved it first
            pass
        else:
            shutil.rmtree(old, ignore_errors=True)
    try:
        work.rename(target)
    except OSError:
        if not target.exists():
            raise
        # Another prepare finished first with an equivalent model: keep its copy.
