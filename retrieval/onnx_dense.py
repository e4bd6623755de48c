"""Dense embeddings from an ONNX export of the embedding model, with onnxruntime.

The graph (made by ``retrieval.onnx_export``) holds the transformer, mean pooling and
L2 normalisation, so it returns the same unit vectors as
:class:`retrieval.dense.SentenceTransformerEmbedder`. Text is split by the model's own
``tokenizer.json`` through the ``tokenizers`` library, with the same truncation window
as sentence-transformers, and counted by the same TransformersTokenCounter. Nothing
here imports torch: a process that serves with this embedder does not load it at all.

The int8 graph quantises activations with a scale computed per call, over the whole
padded batch, so a text's int8 vector moves slightly with its batch-mates (cosine to
itself alone above 0.99, measured); fp32 vectors do not. Both are verified against
torch batched and one at a time (``retrieval.onnx_export``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np

from chunkers.token_counting import TransformersTokenCounter
from kernel.errors import ConfigurationError


def cpu_threads() -> int:
    """The cores this process may run on (its affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class OnnxEmbedder:
    """Normalised dense vectors from an ONNX model; a DenseEncoder like the torch one.

    ``onnx_file`` is a graph from ``retrieval.onnx_export`` (inputs ``input_ids``,
    ``attention_mask``, ``token_type_ids``; output the normalised sentence vector);
    ``tokenizer_dir`` is the torch model's folder (its ``tokenizer.json``);
    ``window`` is the model's sequence length with [CLS] and [SEP]. Raises
    ConfigurationError when a file is missing or the graph does not load.
    """

    def __init__(
        self,
        onnx_file: Path,
        tokenizer_dir: Path,
        *,
        window: int,
        batch_size: int = 32,
        max_tokens: int = 254,
        threads: int | None = None,
    ) -> None:
        import onnxruntime
        from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidProtobuf, NoSuchFile
        from tokenizers import Tokenizer

        tokenizer_file = tokenizer_dir / "tokenizer.json"
        for required in (onnx_file, tokenizer_file):
            if not required.is_file():
                raise ConfigurationError(f"ONNX embedder file missing: {required}")
        options = onnxruntime.SessionOptions()
        # One encode at a time (the lock below) on all our cores: intra-op threads do
        # the work, inter-op parallelism only adds contention on a small CPU.
        options.intra_op_num_threads = threads or cpu_threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self._session: Any = onnxruntime.InferenceSession(
                str(onnx_file), options, providers=["CPUExecutionProvider"]
            )
        except (Fail, InvalidProtobuf, NoSuchFile) as exc:  # a bad or unreadable file
            raise ConfigurationError(f"cannot load ONNX model {onnx_file}: {exc}") from exc
        self._inputs = {i.name for i in self._session.get_inputs()}
        tokenizer = Tokenizer.from_file(str(tokenizer_file))
        # sentence-transformers truncates at max_seq_length, special tokens included,
        # whatever truncation tokenizer.json itself carries (128 for this model).
        tokenizer.enable_truncation(max_length=window)
        pad = "[PAD]"
        pad_id = tokenizer.token_to_id(pad)
        tokenizer.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token=pad)
        self._tokenizer = tokenizer
        self._batch_size = batch_size
        self._lock = threading.Lock()
        self._tokens = TransformersTokenCounter(tokenizer, min(max_tokens, window - 2))
        self.dim: int = len(self._run(["dimension probe"])[0])

    @property
    def tokens(self) -> TransformersTokenCounter:
        return self._tokens

    def _run(self, texts: Sequence[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(list(texts))
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        feeds = {
            "input_ids": ids,
            "attention_mask": np.asarray([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.zeros_like(ids),
        }
        outputs = self._session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})
        return np.asarray(outputs[0], dtype=np.float32)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors: list[list[float]] = [[] for _ in texts]
        with self._lock:
            for batch in like_length_batches(texts, self._batch_size):
                for i, vector in zip(batch, self._run([texts[i] for i in batch]), strict=True):
                    vectors[i] = [float(x) for x in vector]
        return vectors

    def embed_one(self, text: str) -> list[float]:
        return self.embed([text])[0]


#: A batch ends where a text is shorter than this share of the batch's longest.
SHORTER_CUT: Final = 0.7


def like_length_batches(texts: Sequence[str], size: int) -> list[list[int]]:
    """Indexes of ``texts``, longest first, in batches of at most ``size`` of like length.

    Every text of a batch is padded to its longest, so a batch pays for its longest
    text many times over. Sorting, as sentence-transformers does, only groups like
    lengths when there are many texts; an answer's 16 sentences make one batch in
    which the shortest pay for the longest. Cutting where lengths fall below 70% of
    the batch's first took a third of the sentences' embedding time off (16-sentence
    groups of MS MARCO passages, interleaved against one batch: 278 vs 407 ms p50 on
    a machine loaded 6-7; 0.5 and 0.7 were within 5% of each other, batches of 8
    without a cut 300 ms). Characters stand in for tokens: they only decide the cuts.
    """
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    batches: list[list[int]] = []
    for i in order:
        batch = batches[-1] if batches else None
        if (
            batch is None
            or len(batch) == size
            or len(texts[i]) < SHORTER_CUT * len(texts[batch[0]])
        ):
            batches.append([i])
        else:
            batch.append(i)
    return batches
