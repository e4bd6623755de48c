"""BM25 sparse encoder: tokens, term ids, weights."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from retrieval.sparse import BM25SparseEncoder, term_id
from text.terms import terms

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def encoder() -> BM25SparseEncoder:
    return BM25SparseEncoder()


# --- tokenisation ---------------------------------------------------------------------


def test_tokens_are_the_terms_of_the_text_room(encoder: BM25SparseEncoder) -> None:
    """What a term is lives in ``text.terms`` (tested in tests/unit/text): BM25 uses it."""
    text = "Running X-200 pumps, the century.First and No."
    assert encoder.tokenize(text) == terms(text)
    assert encoder.tokenize(text) == ["run", "x-200", "x", "200", "pump", "centuri", "first", "no"]


def test_a_glued_word_matches_the_same_word_spaced(encoder: BM25SparseEncoder) -> None:
    glued = encoder.encode_documents(["the century.First steam engines"])[0]
    spaced = encoder.encode_documents(["the century. First steam engines"])[0]
    assert glued == spaced


def test_exact_identifier_outscores_its_parts(encoder: BM25SparseEncoder) -> None:
    """Why compounds are kept whole: "X-200" shares more terms with X-200 than with X-300."""
    query = set(encoder.encode_query("X-200").indices)
    exact = set(encoder.encode_documents(["pump X-200"])[0].indices)
    other = set(encoder.encode_documents(["pump X-300"])[0].indices)
    assert len(query & exact) == 3
    assert len(query & other) == 1


# --- term ids -------------------------------------------------------------------------


def test_term_ids_are_fixed_crc32_values() -> None:
    assert term_id("run") == 1349952704
    assert term_id("x-200") == 2208832593
    assert 0 <= term_id("日本語") < 2**32


def test_query_ids_use_the_fixed_term_ids(encoder: BM25SparseEncoder) -> None:
    vector = encoder.encode_query("Running")
    assert vector.indices == (1349952704,)
    assert vector.values == (1.0,)


def test_ids_are_identical_in_another_process(tmp_path: Path) -> None:
    """Python's ``hash`` is salted per process; the encoder must not depend on it."""
    script = (
        "import json, sys; from retrieval.sparse import BM25SparseEncoder as E; "
        "v = E().encode_documents(['Pumps X-200 running v2.1 pumps'])[0]; "
        "json.dump([list(v.indices), list(v.values)], sys.stdout)"
    )
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            cwd=Path(__file__).resolve().parents[3],
        )
        outputs.append(json.loads(result.stdout))
    here = BM25SparseEncoder().encode_documents(["Pumps X-200 running v2.1 pumps"])[0]
    assert outputs[0] == outputs[1] == [list(here.indices), list(here.values)]


# --- weights --------------------------------------------------------------------------


def test_document_weights_follow_bm25(encoder: BM25SparseEncoder) -> None:
    vector = encoder.encode_documents(["pump pump pump valve"])[0]
    weights = dict(zip(vector.indices, vector.values, strict=True))
    norm = 1.2 * (1 - 0.75 + 0.75 * 4 / 100)  # 4 terms, avgdl 100
    assert weights[term_id("pump")] == pytest.approx(3 * 2.2 / (3 + norm))
    assert weights[term_id("valv")] == pytest.approx(1 * 2.2 / (1 + norm))
    assert list(vector.indices) == sorted(vector.indices)


def test_term_frequency_saturates(encoder: BM25SparseEncoder) -> None:
    def weight(tf: int) -> float:
        # Constant length (tf pumps + padding), so only tf changes.
        text = " ".join(["pump"] * tf + ["valve"] * (20 - tf))
        vector = encoder.encode_documents([text])[0]
        return dict(zip(vector.indices, vector.values, strict=True))[term_id("pump")]

    w1, w2, w4, w16 = weight(1), weight(2), weight(4), weight(16)
    assert w1 < w2 < w4 < w16 < 1.2 + 1  # grows, bounded by k1 + 1
    assert (w2 - w1) > (w4 - w2) / 2 > (w16 - w4) / 12  # with diminishing returns


def test_longer_documents_weigh_a_term_less(encoder: BM25SparseEncoder) -> None:
    short = encoder.encode_documents(["pump valve"])[0]
    long = encoder.encode_documents(["pump " + " ".join(f"w{i}" for i in range(300))])[0]
    pump = term_id("pump")
    short_w = dict(zip(short.indices, short.values, strict=True))[pump]
    long_w = dict(zip(long.indices, long.values, strict=True))[pump]
    assert long_w < short_w


def test_b_zero_turns_length_normalisation_off() -> None:
    flat = BM25SparseEncoder(b=0.0)
    short = flat.encode_documents(["pump valve"])[0]
    long = flat.encode_documents(["pump " + " ".join(f"w{i}" for i in range(300))])[0]
    pump = term_id("pump")
    assert dict(zip(short.indices, short.values, strict=True))[pump] == pytest.approx(
        dict(zip(long.indices, long.values, strict=True))[pump]
    )


def test_avgdl_sets_the_length_that_is_neutral() -> None:
    # A document exactly avgdl terms long gets tf*(k1+1)/(tf+k1): no length effect.
    encoder = BM25SparseEncoder(avgdl=4)
    vector = encoder.encode_documents(["pump valve filter hose"])[0]
    assert vector.values == pytest.approx([2.2 / (1 + 1.2)] * 4)


def test_query_weights_are_one_per_distinct_term(encoder: BM25SparseEncoder) -> None:
    vector = encoder.encode_query("pump pumps PUMP valve the")
    assert vector.indices == tuple(sorted({term_id("pump"), term_id("valv")}))
    assert vector.values == (1.0, 1.0)


def test_empty_and_stopword_texts_give_empty_vectors(encoder: BM25SparseEncoder) -> None:
    assert encoder.encode_query("") == encoder.encode_query("the of") == encoder.encode_query("?!")
    assert encoder.encode_query("").indices == ()
    assert encoder.encode_documents(["", "the"])[0].indices == ()


@pytest.mark.parametrize(
    "kwargs",
    [{"k1": -1.0}, {"k1": float("inf")}, {"b": 1.5}, {"b": -0.1}, {"avgdl": 0.0}],
)
def test_parameters_outside_bm25_range_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        BM25SparseEncoder(**kwargs)
