"""Citation repair and the residency filter on prompt sources."""

from __future__ import annotations

from answer.citations import renumber
from answer.generated import same_region
from generation.routing import BucketPolicy
from retrieval.hybrid import RetrievedChunk


def test_markers_to_missing_sources_are_removed_and_the_rest_renumbered() -> None:
    fixed = renumber("Sky is blue [2]. Grass is green [1, 9]. Water is wet [3][2]. Bad [7].", 3)
    assert fixed.text == "Sky is blue [1]. Grass is green [2]. Water is wet [3] [1]. Bad."
    assert fixed.cited == (2, 1, 3)
    assert fixed.removed == 2


def test_an_answer_without_markers_is_left_alone() -> None:
    fixed = renumber("Nothing cited here.", 4)
    assert (fixed.text, fixed.cited, fixed.removed) == ("Nothing cited here.", (), 0)


def _chunk(n: int, bucket: str) -> RetrievedChunk:
    return RetrievedChunk(
        chunk_id=f"c{n}",
        score=1.0 / n,
        document_id=f"d{n}",
        document_version=1,
        text=f"text {n}",
        title=None,
        source=None,
        section=None,
        page=None,
        bucket=bucket,
        doc_type=None,
    )


def test_a_prompt_keeps_the_best_chunks_region_and_unpinned_chunks_only() -> None:
    chunks = [_chunk(1, "open"), _chunk(2, "eu-docs"), _chunk(3, "us-docs"), _chunk(4, "eu2")]
    policies = {
        "eu-docs": BucketPolicy(region="eu"),
        "us-docs": BucketPolicy(region="us"),
        "eu2": BucketPolicy(region="eu"),
        "open": BucketPolicy(),
    }
    kept = same_region(chunks, policies)
    assert [c.chunk_id for c in kept] == ["c1", "c2", "c4"]
