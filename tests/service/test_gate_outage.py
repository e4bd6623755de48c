"""With the registry down, retrieval answers from the gate's memory, and a stale memory
never widens access: the index filter on payload roles still applies.

The real distributed stack minus the broker: a PostgreSQL cluster of the test's own
(stopped mid-test), qdrant-client's local mode, the parser child and the embedding
model. A document's roles are narrowed just before the outage, after the memory
last saw them: the memory still says the wider roles, the index payload does not.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.pipeline import ingest_document
from ingest.registration import register_object
from kernel.errors import DependencyUnavailableError
from ragline.runtime import Runtime, open_runtime
from ragline.schema import ensure_schema
from retrieval.access import Principal, RequestedFilters, search_filter
from retrieval.encoders import DenseEncoder
from tests.conftest import make_settings
from tests.private_services import PrivatePostgres

pytestmark = [
    pytest.mark.service,
    # qdrant-client's local mode (the index here) warns that it ignores payload indexes.
    pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning"),
]

MEMO = b"# Harbour budget\n\nThe harbour budget review moves to the second week of March.\n"
NOTE = b"# Lighthouse\n\nThe lighthouse lamp is serviced every autumn by the port crew.\n"
PUBLIC = Principal("key-public", frozenset({"public"}))
HR = Principal("key-hr", frozenset({"hr"}))


@pytest.fixture
def stack(tmp_path: Path, embedder: DenseEncoder) -> Iterator[tuple[Runtime, PrivatePostgres]]:
    with PrivatePostgres.create() as postgres:
        ensure_schema(postgres.url, auto_upgrade=True)
        settings = make_settings(
            tmp_path / "data",
            mode="distributed",
            database_url=postgres.url,
            qdrant={"local_path": tmp_path / "qdrant"},
        )
        runtime = open_runtime(settings, dense=embedder)
        try:
            yield runtime, postgres
        finally:
            if not (postgres.data / "postmaster.pid").exists():
                postgres.start()
            runtime.close()


def add(runtime: Runtime, bucket: str, name: str, content: bytes, roles: list[str]) -> str:
    deps = runtime.ingestion
    if deps.buckets.find_bucket(bucket) is None:
        deps.buckets.create_bucket(bucket, roles, None, None)
    stored = deps.store.write(bucket, None, name, io.BytesIO(content), max_bytes=1_000_000)
    registration = register_object(
        deps,
        bucket=bucket,
        key=stored.key,
        content_hash=stored.content_hash,
        size_bytes=stored.size_bytes,
        roles=roles,
        doc_type=None,
        title=None,
    )
    doc_id = registration.document.id
    if registration.needs_ingest and registration.document.indexed_version == 0:
        assert ingest_document(deps, doc_id).outcome == "indexed"
    return doc_id


def ask(runtime: Runtime, who: Principal, question: str, bucket: str | None = None) -> list[str]:
    filters = RequestedFilters(buckets=frozenset({bucket})) if bucket else None
    chunks = runtime.retriever.retrieve(question, search_filter(who, filters), top_k=3)
    return [c.document_id for c in chunks]


def test_a_stale_memory_cannot_widen_access_beyond_the_index_payload(
    stack: tuple[Runtime, PrivatePostgres],
) -> None:
    runtime, postgres = stack
    memo = add(runtime, "vault", "memo.md", MEMO, ["hr", "public"])
    note = add(runtime, "harbour", "note.md", NOTE, ["public"])
    question = "When is the harbour budget review?"
    assert ask(runtime, PUBLIC, question, "vault") == [memo]  # the memory sees hr+public

    # Narrowed to hr: the registry commits it, and the payload follows synchronously.
    add(runtime, "vault", "memo.md", MEMO, ["hr"])
    assert runtime.registry.served([memo])[memo].roles == frozenset({"hr"})

    postgres.stop()
    memory = runtime.retriever.served_memory
    assert memory.usable()
    # The memory says public may read memo; the payload says no: public gets nothing.
    assert ask(runtime, PUBLIC, question, "vault") == []
    assert ask(runtime, HR, question, "vault") == [memo]
    assert memory.fallbacks == 1  # public's search found no hit, so asked nothing
    # A document the memory never saw is not served from it; nothing known at all: 503.
    with pytest.raises(DependencyUnavailableError, match="database is unavailable"):
        ask(runtime, PUBLIC, "Who services the lighthouse lamp?", "harbour")

    postgres.start()
    assert ask(runtime, PUBLIC, question, "vault") == []
    assert ask(runtime, HR, question, "vault") == [memo]
    assert ask(runtime, PUBLIC, "Who services the lighthouse lamp?", "harbour") == [note]
