"""Bulk ingestion in batches on the real embedded stack: faster, and no less safe.

Many documents are claimed, embedded in one call and upserted together, then each is
committed on its own. These tests hold the batch to what one document at a time
promised: each document keeps its own roles and text, nothing is visible before its
commit, a delete or a narrowing during the batch wins, and every path that builds
chunks applies the bucket's personal-data policy.

The encoder and index wrappers here are spies around the real model and the real
index: they record calls and run checks between steps, and change nothing.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from ingest.buckets import create_bucket
from ingest.folder import Batching, ingest_paths, list_files
from ingest.pipeline import IngestionDeps, ingest_documents, remove_document
from ingest.registration import accept_upload, register_object
from ingest.reindex import served_chunks
from ragline.runtime import Runtime, open_runtime
from retrieval.access import Principal, search_filter
from retrieval.index.base import IndexedChunk, SearchFilter
from tests.conftest import make_settings

pytestmark = pytest.mark.service

FACTS = [
    "The amber lighthouse keeper logs every passing ship at dawn.",
    "The brass orchestra rehearses on Tuesdays in the old mill.",
    "The cobalt mine closed in 1931 after the river flooded it.",
    "The dune observatory counts meteors from a wooden tower.",
    "The emerald ferry crosses the lake twice each morning.",
    "The flint quarry supplies stone for the cathedral repairs.",
    "The granite bridge was rebuilt after the winter storms.",
    "The hazel orchard sells cider at the Saturday market.",
    "The indigo dye works employ forty weavers in the valley.",
    "The jade garden opens its greenhouse to schools in May.",
]


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[Runtime]:
    rt = open_runtime(make_settings(tmp_path_factory.mktemp("batch") / "data"), dense=embedder)
    yield rt
    rt.close()


class EncoderSpy:
    """The real encoder; records each ``embed`` call's size and runs ``during`` once."""

    def __init__(self, real: Any, during: Callable[[], None] | None = None) -> None:
        self._real = real
        self.dim = real.dim
        self.calls: list[int] = []
        self._during = during

    @property
    def tokens(self) -> Any:
        return self._real.tokens

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls.append(len(texts))
        if self._during is not None:
            during, self._during = self._during, None
            during()
        return list(self._real.embed(texts))

    def embed_one(self, text: str) -> list[float]:
        return list(self._real.embed_one(text))


class IndexSpy:
    """The real index; runs ``after_upsert`` once its upsert returns (before any commit)."""

    def __init__(self, real: Any, after_upsert: Callable[[], None]) -> None:
        self._real = real
        self._after_upsert = after_upsert
        self.upserts: list[int] = []

    def upsert(self, chunks: Sequence[IndexedChunk]) -> None:
        self._real.upsert(chunks)
        self.upserts.append(len(chunks))
        self._after_upsert()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _upload(deps: IngestionDeps, bucket: str, name: str, text: str, roles: list[str]) -> str:
    found = deps.buckets.find_bucket(bucket) or create_bucket(deps, bucket, roles, None, None)
    registration = accept_upload(
        deps,
        found,
        name,
        io.BytesIO(text.encode()),
        roles=roles,
        doc_type=None,
        title=None,
        max_bytes=1_000_000,
    )
    return registration.document.id


def _seen_by(runtime: Runtime, roles: list[str], question: str) -> set[str]:
    flt = search_filter(Principal.from_key("k", roles))
    return {h.document_id for h in runtime.retriever.retrieve(question, flt, top_k=10)}


def test_a_folder_is_embedded_in_batches_and_reported_in_walk_order(
    runtime: Runtime, tmp_path: Path
) -> None:
    folder = tmp_path / "facts"
    folder.mkdir()
    for i, fact in enumerate(FACTS):
        (folder / f"{i:02d}.txt").write_text(fact)
    spy = EncoderSpy(runtime.ingestion.dense)
    deps = dataclasses.replace(runtime.ingestion, dense=spy)
    reported: list[str] = []
    reports = ingest_paths(
        deps,
        folder,
        list_files(folder),
        bucket="facts",
        roles=["staff"],
        doc_type=None,
        on_file=lambda r: reported.append(r.name),
        batching=Batching(documents=4),
    )
    assert reported == [f"{i:02d}.txt" for i in range(len(FACTS))]
    assert [(r.outcome, r.chunks) for r in reports] == [("indexed", 1)] * len(FACTS)
    assert spy.calls == [4, 4, 2]  # three model calls for ten documents, not ten
    for i, fact in enumerate(FACTS):
        flt = search_filter(Principal.from_key("k", ["staff"]))
        hit = runtime.retriever.retrieve(fact, flt, top_k=1)[0]
        assert (hit.source, hit.text) == (f"{i:02d}.txt", fact)


def test_a_batch_of_larger_files_stops_at_its_byte_limit(runtime: Runtime, tmp_path: Path) -> None:
    folder = tmp_path / "sized"
    folder.mkdir()
    for i, fact in enumerate(FACTS[:5]):
        (folder / f"{i}.txt").write_text(fact)
    spy = EncoderSpy(runtime.ingestion.dense)
    reports = ingest_paths(
        dataclasses.replace(runtime.ingestion, dense=spy),
        folder,
        list_files(folder),
        bucket="sized",
        roles=["staff"],
        doc_type=None,
        on_file=lambda _: None,
        batching=Batching(documents=32, max_bytes=130),  # two ~60-byte files past the first
    )
    assert [r.outcome for r in reports] == ["indexed"] * 5
    assert spy.calls == [3, 2]


def test_nothing_of_a_batch_is_visible_before_its_commit_and_races_are_lost_safely(
    runtime: Runtime,
) -> None:
    """Between the claim and the commits, one document is narrowed and one deleted.

    At every step a key without the role sees nothing it may not; after the batch the
    narrowed document is served to its new roles only (index payload included), the
    deleted one has no chunk left, and the third is served as usual.
    """
    deps = runtime.ingestion
    narrowed = _upload(deps, "race", "narrowed.txt", FACTS[0], ["board", "staff"])
    deleted = _upload(deps, "race", "deleted.txt", FACTS[1], ["board", "staff"])
    plain = _upload(deps, "race", "plain.txt", FACTS[2], ["board", "staff"])
    ids = [narrowed, deleted, plain]

    def during_embedding() -> None:
        doc = runtime.registry.get(narrowed)
        assert doc.content_hash is not None
        register_object(
            deps,
            bucket="race",
            key=doc.key,
            content_hash=doc.content_hash,
            size_bytes=doc.size_bytes,
            roles=["board"],
            doc_type=None,
            title=None,
        )
        remove_document(deps, deleted)

    checks: list[str] = []

    def after_upsert() -> None:
        # Upserted, not committed: no key sees any of the three, whatever its roles.
        for fact in FACTS[:3]:
            for roles in (["staff"], ["board"], ["board", "staff"]):
                assert _seen_by(runtime, roles, fact).isdisjoint(ids)
        checks.append("upserted, invisible")

    spied = dataclasses.replace(
        deps,
        dense=EncoderSpy(deps.dense, during=during_embedding),
        index=IndexSpy(deps.index, after_upsert),
    )
    results = ingest_documents(spied, ids)
    assert checks == ["upserted, invisible"]
    assert [r.document_id for r in results] == ids
    assert results[1].outcome == "deleted"
    assert deps.index.count(document_id=deleted) == 0
    assert results[2].outcome == "indexed"
    assert narrowed not in _seen_by(runtime, ["staff"], FACTS[0])
    assert plain in _seen_by(runtime, ["staff"], FACTS[2])
    if results[0].outcome == "indexed":
        assert narrowed in _seen_by(runtime, ["board"], FACTS[0])
    # The index filter agrees with the registry: the raw index offers the narrowed
    # document's chunks to staff no more, and carries the new roles in their payload.
    query = deps.dense.embed_one(FACTS[0])
    for roles, expected in ((frozenset({"staff"}), set()), (frozenset({"board"}), {("board",)})):
        flt = SearchFilter(roles=roles, document_ids=frozenset({narrowed}))
        hits = deps.index.search(dense=query, sparse=None, flt=flt, limit=50, mode="dense")
        assert {tuple(h.payload["roles"]) for h in hits} <= expected


def test_reindexing_a_redacting_bucket_indexes_placeholders_not_the_values(
    runtime: Runtime,
) -> None:
    """A rebuild of the index (new model, new chunk size) applies the bucket's policy too."""
    deps = runtime.ingestion
    create_bucket(deps, "hr", ["hr"], None, None, pii="redact")
    text = "Jane Miller can be reached at jane.miller@example.com about the payroll run."
    document_id = _upload(deps, "hr", "contact.txt", text, ["hr"])
    [result] = ingest_documents(deps, [document_id])
    assert result.outcome == "indexed"
    rebuilt = served_chunks(deps, runtime.registry.get(document_id))
    assert rebuilt
    for chunk in rebuilt:
        assert "jane.miller@example.com" not in chunk.payload["text"]
        assert "<EMAIL_1>" in chunk.payload["text"]
        assert chunk.payload["roles"] == ["hr"]


def test_a_document_deleted_before_its_turn_ends_deleted_and_the_batch_goes_on(
    runtime: Runtime,
) -> None:
    deps = runtime.ingestion
    first = _upload(deps, "gone", "first.txt", FACTS[3], ["staff"])
    gone = _upload(deps, "gone", "gone.txt", FACTS[4], ["staff"])
    last = _upload(deps, "gone", "last.txt", FACTS[5], ["staff"])
    remove_document(deps, gone)

    results = ingest_documents(deps, [first, gone, last])

    assert [(r.document_id, r.outcome) for r in results] == [
        (first, "indexed"),
        (gone, "deleted"),
        (last, "indexed"),
    ]
    assert runtime.registry.get(first).status == "indexed"
    assert runtime.registry.get(last).status == "indexed"
    assert deps.index.count(document_id=gone) == 0
    assert first in _seen_by(runtime, ["staff"], FACTS[3])
    assert last in _seen_by(runtime, ["staff"], FACTS[5])
    assert gone not in _seen_by(runtime, ["staff"], FACTS[4])
