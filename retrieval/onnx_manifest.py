"""Where a prepared ONNX embedding model lives, and what its manifest says about it.

``ragline models prepare`` exports the torch embedding model to ONNX (fp32 and int8),
checks both against torch on real text, times all three, and writes the numbers to
``manifest.json`` beside the model files. The serving process reads only this module's
functions to decide which backend to use, so the decision costs a file hash and a JSON
read, never a torch import.

A prepared model is keyed by the identity of what it was made from: the SHA-256 of the
torch weights file and the onnxruntime version (a newer runtime may quantise or fuse
differently, so its numbers are not carried over). Another weights file or another
runtime simply finds no prepared model and falls back to torch.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from kernel.errors import ConfigurationError

MANIFEST_NAME = "manifest.json"
# Raised when what is made changes, so a model prepared the old way reads as damaged
# and the next `ragline models prepare` (bootstrap runs it) makes it again.
# 2: the first layer's MatMuls stay fp32 in the int8 copy (retrieval.onnx_export).
FORMAT_VERSION = 2
# Below this cosine to the torch vector, an ONNX variant is not used: at 0.99 the
# nearest neighbours of a query are the same chunks in practice (README: Performance).
MIN_COSINE = 0.99
TORCH = "torch"
ONNX_FP32 = "onnx-fp32"
ONNX_INT8 = "onnx-int8"
# The variants ``auto`` may pick, best first: int8 is smaller and faster when it holds.
ONNX_PREFERENCE = (ONNX_INT8, ONNX_FP32)
PREPARE_COMMAND = "ragline models prepare"
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def weights_file(model_path: Path) -> Path:
    """The torch weights file of a sentence-transformers model folder.

    Raises ConfigurationError when the folder has none.
    """
    for name in _WEIGHT_FILES:
        candidate = model_path / name
        if candidate.is_file():
            return candidate
    raise ConfigurationError(f"no weights file ({' or '.join(_WEIGHT_FILES)}) in {model_path}")


@lru_cache(maxsize=8)
def _sha256(path: Path, size: int, mtime_ns: int) -> str:
    # Keyed on size and mtime too, so a replaced file is hashed again.
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def weights_sha256(model_path: Path) -> str:
    """SHA-256 of the model's weights file (hashed once per process per file version)."""
    path = weights_file(model_path).resolve()
    stat = path.stat()
    return _sha256(path, stat.st_size, stat.st_mtime_ns)


def onnxruntime_version() -> str:
    """The installed onnxruntime's version, read without importing it."""
    try:
        return metadata.version("onnxruntime")
    except metadata.PackageNotFoundError:
        return "absent"


def onnx_cache_dir(configured: Path | None) -> Path:
    """``models.onnx_dir``, else ``$XDG_CACHE_HOME/ragline/onnx`` or ``~/.cache/ragline/onnx``."""
    if configured is not None:
        return configured.expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "ragline" / "onnx"


def prepared_dir(cache_dir: Path, model_path: Path) -> Path:
    """The folder a prepared model of ``model_path`` has (or would have) under ``cache_dir``."""
    return cache_dir / f"{weights_sha256(model_path)[:20]}-ort{onnxruntime_version()}"


@dataclass(frozen=True)
class VariantReport:
    """One backend measured at prepare time: speed, size, and agreement with torch."""

    name: str
    file: str | None
    size_bytes: int
    texts_per_s: float
    cos_min: float
    cos_mean: float


@dataclass(frozen=True)
class Manifest:
    """What ``ragline models prepare`` made and measured (``manifest.json``)."""

    format_version: int
    weights_sha256: str
    onnxruntime_version: str
    torch_version: str
    dim: int
    window: int
    texts: int
    batch_size: int
    threads: int
    export_seconds: float
    created_at: str
    variants: tuple[VariantReport, ...]

    def variant(self, name: str) -> VariantReport | None:
        return next((v for v in self.variants if v.name == name), None)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Raises ConfigurationError for anything but a manifest of this format."""
        try:
            raw: dict[str, Any] = json.loads(text)
            if raw.get("format_version") != FORMAT_VERSION:
                raise ValueError(f"format_version {raw.get('format_version')!r}")
            variants = tuple(VariantReport(**v) for v in raw.pop("variants"))
            return cls(variants=variants, **raw)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ConfigurationError(f"unreadable ONNX manifest: {exc}") from exc


def read_manifest(model_dir: Path) -> Manifest | None:
    """The manifest in ``model_dir``; None if there is none.

    Raises ConfigurationError for a manifest that cannot be read.
    """
    path = model_dir / MANIFEST_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return Manifest.from_json(text)


def usable_variants(manifest: Manifest) -> list[VariantReport]:
    """ONNX variants whose every vector was within MIN_COSINE of torch's, best first."""
    found = (manifest.variant(name) for name in ONNX_PREFERENCE)
    return [v for v in found if v is not None and v.file and v.cos_min >= MIN_COSINE]


def faster_usable_variant(manifest: Manifest) -> tuple[VariantReport | None, str]:
    """The variant ``auto`` uses (agrees with torch and beat it), and why; None: torch."""
    usable = usable_variants(manifest)
    if not usable:
        worst = ", ".join(
            f"{v.name} min cosine {v.cos_min:.4f}" for v in manifest.variants if v.name != TORCH
        )
        return None, f"no ONNX variant reaches min cosine {MIN_COSINE} ({worst})"
    torch_report = manifest.variant(TORCH)
    torch_speed = torch_report.texts_per_s if torch_report else float("inf")
    for variant in usable:
        if variant.texts_per_s > torch_speed:
            return variant, (
                f"min cosine {variant.cos_min:.4f}, {variant.texts_per_s:.1f} texts/s "
                f"vs torch {torch_speed:.1f}"
            )
    best = usable[0]
    return None, (
        f"{best.name} agrees with torch but was not faster "
        f"({best.texts_per_s:.1f} vs {torch_speed:.1f} texts/s)"
    )
