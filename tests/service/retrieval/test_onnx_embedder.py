"""The ONNX embedder against the torch one, and the choice between them.

The real all-MiniLM-L6-v2 is exported once for the module into a temporary cache
(fp32 and int8, verified and timed by ``prepare_onnx_model``), then compared with the
session's torch embedder on the repository's own text. The backend choice is checked
on manifests written by hand, since which backend is faster depends on the machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from kernel.errors import ConfigurationError
from kernel.settings import ModelSettings
from retrieval.dense import SentenceTransformerEmbedder, default_model_path
from retrieval.embedder_choice import choose_backend, open_dense_encoder
from retrieval.onnx_dense import OnnxEmbedder
from retrieval.onnx_export import _move_into_place, prepare_onnx_model
from retrieval.onnx_manifest import (
    MIN_COSINE,
    ONNX_FP32,
    ONNX_INT8,
    TORCH,
    Manifest,
    prepared_dir,
    read_manifest,
)
from retrieval.onnx_verify import cosines, verification_texts

pytestmark = pytest.mark.service

REPO = Path(__file__).resolve().parents[3]
SOURCES = [REPO / "samples", REPO / "evals" / "golden" / "retrieval"]
GOLDEN = REPO / "evals" / "golden" / "retrieval"


@pytest.fixture(scope="module")
def prepared(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> tuple[Path, Path, Manifest]:
    cache = tmp_path_factory.mktemp("onnx-cache")
    model_dir, manifest = prepare_onnx_model(
        default_model_path(), cache, verification_texts(SOURCES), torch_embedder=embedder
    )
    return cache, model_dir, manifest


@pytest.fixture(scope="module")
def int8(prepared: tuple[Path, Path, Manifest]) -> OnnxEmbedder:
    _, model_dir, manifest = prepared
    variant = manifest.variant(ONNX_INT8)
    assert variant is not None and variant.file is not None
    return OnnxEmbedder(model_dir / variant.file, default_model_path(), window=manifest.window)


def _golden_texts() -> list[str]:
    texts = []
    for name in ("queries.jsonl", "corpus.jsonl"):
        for line in (GOLDEN / name).read_text(encoding="utf-8").splitlines():
            texts.append(json.loads(line)["text"])
    return texts


def test_prepared_model_is_complete_and_agrees_with_torch(
    prepared: tuple[Path, Path, Manifest],
) -> None:
    cache, model_dir, manifest = prepared
    assert read_manifest(model_dir) == manifest
    assert (manifest.dim, manifest.window, manifest.texts) == (384, 256, 240)
    assert [v.name for v in manifest.variants] == [TORCH, ONNX_FP32, ONNX_INT8]
    fp32, int8 = manifest.variant(ONNX_FP32), manifest.variant(ONNX_INT8)
    assert fp32 is not None and int8 is not None
    assert fp32.cos_min >= 0.9999
    assert int8.cos_min >= MIN_COSINE
    assert int8.size_bytes < fp32.size_bytes
    assert all(v.texts_per_s > 0 for v in manifest.variants)
    # Only the finished folder is left: no temporary folder of the atomic write.
    assert [p.name for p in cache.iterdir()] == [model_dir.name]


def test_preparing_again_keeps_the_prepared_model(
    prepared: tuple[Path, Path, Manifest], embedder: SentenceTransformerEmbedder
) -> None:
    cache, model_dir, manifest = prepared
    again_dir, again = prepare_onnx_model(
        default_model_path(), cache, ["never embedded"], torch_embedder=embedder
    )
    assert (again_dir, again) == (model_dir, manifest)


def test_int8_vectors_agree_with_torch_on_real_text(
    int8: OnnxEmbedder, embedder: SentenceTransformerEmbedder
) -> None:
    long_text = " ".join(verification_texts(SOURCES)[-3:])  # past the 256-piece window
    texts = [*_golden_texts(), long_text]
    assert embedder.tokens.count(long_text) > 400
    onnx = np.asarray(int8.embed(texts))
    torch = np.asarray(embedder.embed(texts))
    assert int8.dim == embedder.dim == onnx.shape[1]
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-4)
    assert cosines(onnx, torch).min() >= MIN_COSINE
    # Alone or in a batch (int8 scales activations per batch): still torch's vector.
    alone = np.asarray([int8.embed_one(t) for t in texts[:8]])
    assert cosines(alone, torch[:8]).min() >= MIN_COSINE
    assert int8.embed([]) == []


def test_int8_ranks_golden_passages_like_torch(
    int8: OnnxEmbedder, embedder: SentenceTransformerEmbedder
) -> None:
    queries = [
        json.loads(line)["text"]
        for line in (GOLDEN / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    passages = [
        json.loads(line)["text"]
        for line in (GOLDEN / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    tops = []
    for encoder in (int8, embedder):
        scores = np.asarray(encoder.embed(queries)) @ np.asarray(encoder.embed(passages)).T
        tops.append(scores.argmax(axis=1).tolist())
    assert tops[0] == tops[1]


def test_token_counts_and_limit_match_torch(
    int8: OnnxEmbedder, embedder: SentenceTransformerEmbedder
) -> None:
    texts = [*_golden_texts(), " ".join(verification_texts(SOURCES)[-4:]), "naïve café — 42%"]
    assert [int8.tokens.count(t) for t in texts] == [embedder.tokens.count(t) for t in texts]
    assert int8.tokens.max_tokens == embedder.tokens.max_tokens


def _write_manifest(
    cache: Path, manifest: Manifest, *, int8_cos: float, onnx_speed: float
) -> ModelSettings:
    """The real manifest with int8's agreement and both ONNX speeds set (torch: 10/s)."""
    edits = {
        TORCH: {"texts_per_s": 10.0},
        ONNX_FP32: {"texts_per_s": onnx_speed},
        ONNX_INT8: {"texts_per_s": onnx_speed, "cos_min": int8_cos},
    }
    variants = tuple(replace(v, **edits[v.name]) for v in manifest.variants)  # type: ignore[arg-type]
    target = prepared_dir(cache, default_model_path())
    target.mkdir(parents=True)
    edited = replace(manifest, variants=variants).to_json()
    (target / "manifest.json").write_text(edited, encoding="utf-8")
    return ModelSettings(onnx_dir=cache)


def test_auto_uses_torch_without_a_prepared_model(tmp_path: Path) -> None:
    choice = choose_backend(ModelSettings(onnx_dir=tmp_path))
    assert choice.backend == TORCH
    assert "ragline models prepare" in choice.reason


def test_auto_uses_int8_only_when_it_agrees_and_is_faster(
    tmp_path: Path, prepared: tuple[Path, Path, Manifest]
) -> None:
    _, _, manifest = prepared
    good = _write_manifest(tmp_path / "good", manifest, int8_cos=0.995, onnx_speed=50.0)
    assert choose_backend(good).backend == ONNX_INT8
    # int8 under the floor: the fp32 variant (which agrees), if it is faster.
    low = _write_manifest(tmp_path / "low", manifest, int8_cos=0.95, onnx_speed=50.0)
    assert choose_backend(low).backend == ONNX_FP32
    slow = _write_manifest(tmp_path / "slow", manifest, int8_cos=0.995, onnx_speed=5.0)
    choice = choose_backend(slow)
    assert choice.backend == TORCH
    assert "not faster" in choice.reason


def test_auto_uses_torch_when_no_variant_reaches_the_floor(
    tmp_path: Path, prepared: tuple[Path, Path, Manifest]
) -> None:
    _, _, manifest = prepared
    settings = _write_manifest(tmp_path, manifest, int8_cos=0.95, onnx_speed=50.0)
    target = prepared_dir(tmp_path, default_model_path())
    raw = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    for variant in raw["variants"]:
        variant["cos_min"] = 0.9 if variant["name"] != TORCH else 1.0
    (target / "manifest.json").write_text(json.dumps(raw), encoding="utf-8")
    choice = choose_backend(settings)
    assert choice.backend == TORCH
    assert "min cosine 0.99" in choice.reason
    with pytest.raises(ConfigurationError, match="does not agree with torch"):
        choose_backend(settings.model_copy(update={"embedding_backend": "onnx"}))


def test_onnx_opens_the_prepared_int8_model_and_logs_why(
    prepared: tuple[Path, Path, Manifest], caplog: pytest.LogCaptureFixture
) -> None:
    cache, _, _ = prepared
    with caplog.at_level("INFO", logger="retrieval.embedder_choice"):
        encoder = open_dense_encoder(ModelSettings(onnx_dir=cache, embedding_backend="onnx"))
    assert isinstance(encoder, OnnxEmbedder)
    assert [r.getMessage() for r in caplog.records] == [
        "dense embedder: onnx-int8 (models.embedding_backend is onnx)"
    ]


def test_onnx_required_without_a_prepared_model_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="run `ragline models prepare`"):
        open_dense_encoder(ModelSettings(onnx_dir=tmp_path, embedding_backend="onnx"))


def test_a_damaged_manifest_means_torch_for_auto_and_an_error_for_onnx(tmp_path: Path) -> None:
    target = prepared_dir(tmp_path, default_model_path())
    target.mkdir(parents=True)
    (target / "manifest.json").write_text("{not json", encoding="utf-8")
    assert choose_backend(ModelSettings(onnx_dir=tmp_path)).backend == TORCH
    with pytest.raises(ConfigurationError, match="ragline models prepare"):
        choose_backend(ModelSettings(onnx_dir=tmp_path, embedding_backend="onnx"))


def test_a_second_writer_keeps_the_first_complete_model(tmp_path: Path) -> None:
    target = tmp_path / "model"
    first, second = tmp_path / ".tmp-1", tmp_path / ".tmp-2"
    for work, text in ((first, "first"), (second, "second")):
        work.mkdir()
        (work / "manifest.json").write_text(text, encoding="utf-8")
    _move_into_place(first, target, replace=False)
    _move_into_place(second, target, replace=False)
    assert (target / "manifest.json").read_text(encoding="utf-8") == "first"
    _move_into_place(second, target, replace=True)
    assert (target / "manifest.json").read_text(encoding="utf-8") == "second"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_serving_with_onnx_never_imports_torch(prepared: tuple[Path, Path, Manifest]) -> None:
    cache, _, _ = prepared
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "import ragline.runtime\n"
        "from kernel.settings import ModelSettings\n"
        "from retrieval.embedder_choice import open_dense_encoder\n"
        f"e = open_dense_encoder(ModelSettings(onnx_dir=Path({str(cache)!r}),"
        " embedding_backend='onnx'))\n"
        "assert len(e.embed_one('how do I feed a sourdough starter')) == 384\n"
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers')"
        " if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert result.stdout.strip() == "[]"
