"""Re-index on the real embedded stack: a new generation built beside the live one, switched in.

The re-index runs with a smaller ``chunk_max_tokens`` than the index was built with, so
the chunks served after the switch are visibly the new ones (more, shorter chunks of
the same documents) while every fact stays findable. Real registry (SQLite), real
qdrant-edge index, real parser process, real embedding model; the only double is a
parser that fails like an outage on its third call.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ingest.content_hash import hash_file
from ingest.parsing.base import Parser
from ingest.pipeline import delete_document
from ingest.records import document_id_for
from ingest.refresh import ingest_inline, request_refresh, run_refresh
from ingest.registration import accept_upload, register_object
from ingest.registry_tables import ReindexRunRow
from ingest.reindex import ReindexRun, generational, request_reindex, run_reindex
from ingest.reindex_log import ReindexRuns
from kernel.documents import ParsedDocument
from kernel.errors import DependencyUnavailableError
from kernel.settings import Settings
from ragline.runtime import Runtime, open_runtime
from retrieval.access import Principal, search_filter
from retrieval.dense import SentenceTransformerEmbedder
from retrieval.hybrid import RetrievedChunk
from retrieval.index.base import SearchFilter
from tests.conftest import make_settings

pytestmark = pytest.mark.service

SMALL_CHUNKS = 48  # chunk_max_tokens of the re-index; the index is built with the default

FILLER = [
    "Its control room is staffed around the clock by two licensed operators.",
    "Inspectors visit the site every spring and publish a short public report.",
    "The visitor centre shows a scale model and a film about its construction.",
    "Spare parts are ordered through the central warehouse in the north wing.",
    "Training for new staff lasts six weeks and ends with a written exam.",
    "The site newsletter appears monthly and lists upcoming maintenance work.",
]
FACTS = {
    "alpha.txt": "The alpha reactor is cooled by liquid sodium at 550 degrees.",
    "beta.txt": "The beta turbine hall is heated by waste steam from the condenser.",
    "delta.txt": "The delta archive keeps signed invoices for eleven years.",
    "gamma.txt": "The gamma laboratory measures isotopes with a mass spectrometer.",
}
ALPHA_QUESTION = "How is the alpha reactor cooled?"


def _text(fact: str) -> str:
    return " ".join([fact, *FILLER])


@pytest.fixture(scope="module")
def small_embedder() -> SentenceTransformerEmbedder:
    """What the runtime builds from ``models.chunk_max_tokens = SMALL_CHUNKS``."""
    return SentenceTransformerEmbedder(max_tokens=SMALL_CHUNKS)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "source"
    folder.mkdir()
    for name, fact in FACTS.items():
        (folder / name).write_text(_text(fact))
    return folder


@pytest.fixture
def built(data_dir: Path, source: Path, embedder: Any) -> Path:
    """An index built with the default chunking: one chunk per document."""
    runtime = open_runtime(make_settings(data_dir), dense=embedder)
    try:
        deps = runtime.ingestion
        deps.buckets.create_bucket("docs", ["staff", "hr"], None, str(source))
        run, _ = request_refresh(
            deps.buckets, runtime.refresh_runs, "docs", "cli", datetime.now(UTC)
        )
        done = run_refresh(deps, runtime.refresh_runs, run.id, submit=ingest_inline(deps))
        assert done.counts.new == len(FACTS)
        assert deps.index.count() == len(FACTS)
    finally:
        runtime.close()
    return data_dir


def _small_settings(data_dir: Path) -> Settings:
    return make_settings(data_dir, models={"chunk_max_tokens": SMALL_CHUNKS})


@pytest.fixture
def runtime(built: Path, small_embedder: SentenceTransformerEmbedder) -> Iterator[Runtime]:
    """The service restarted with smaller chunks: what an operator does before a re-index."""
    rt = open_runtime(_small_settings(built), dense=small_embedder)
    yield rt
    rt.close()


def _reindex(
    runtime: Runtime,
    *,
    on_progress: Callable[[ReindexRun], None] | None = None,
    max_failures: int = 0,
) -> ReindexRun:
    runs = ReindexRuns(runtime.registry.engine)
    run, created = request_reindex(runs, "cli", datetime.now(UTC), max_failures=max_failures)
    assert created
    return run_reindex(runtime.ingestion, runs, run.id, on_progress=on_progress)


def _ask(runtime: Runtime, question: str, roles: list[str]) -> list[RetrievedChunk]:
    flt = search_filter(Principal.from_key("k", roles))
    return runtime.retriever.retrieve(question, flt, top_k=5)


def _doc_id(key: str) -> str:
    return document_id_for("docs", key)


def _versions(runtime: Runtime) -> dict[str, int]:
    return {d.key: d.indexed_version for d in runtime.registry.list_documents(bucket="docs")}


def test_after_a_reindex_the_new_chunking_is_served_and_survives_a_restart(
    runtime: Runtime, small_embedder: SentenceTransformerEmbedder
) -> None:
    index = generational(runtime.ingestion.index)
    versions = _versions(runtime)
    assert (index.live_generation(), index.count()) == (1, len(FACTS))

    run = _reindex(runtime)

    assert run.status == "finished" and run.error is None
    p = run.progress
    assert (p.total, p.done, p.caught_up, p.failures) == (len(FACTS), len(FACTS), 0, ())
    assert (p.from_generation, p.to_generation) == (1, 2)
    assert (index.live_generation(), index.generations()) == (2, [2])
    for key in FACTS:
        assert index.count(document_id=_doc_id(key)) >= 3  # was 1: the new chunking
    hits = _ask(runtime, ALPHA_QUESTION, ["staff"])
    assert "sodium" in hits[0].text and hits[0].source == "alpha.txt"
    assert all(small_embedder.tokens.count(h.text) <= SMALL_CHUNKS for h in hits)
    assert _versions(runtime) == versions  # the registry serves the same versions
    assert [r.id for r in ReindexRuns(runtime.registry.engine).list_runs()] == [run.id]

    chunks = index.count()
    runtime.close()
    reopened = open_runtime(_small_settings(runtime.settings.data_dir), dense=small_embedder)
    try:
        again = generational(reopened.ingestion.index)
        assert (again.live_generation(), again.count()) == (2, chunks)
        assert "sodium" in _ask(reopened, ALPHA_QUESTION, ["staff"])[0].text
    finally:
        reopened.close()


def test_asking_during_a_reindex_never_fails_and_always_finds_the_fact(runtime: Runtime) -> None:
    """A reader asks over and over while the re-index builds, catches up and switches.

    Each progress step of the re-index waits until the reader has asked again, so asks
    interleave with every step (before, during and after the switch) however the
    threads are scheduled.
    """
    asked = threading.Event()
    stop = threading.Event()
    answers: list[list[RetrievedChunk]] = []
    errors: list[BaseException] = []

    def reader() -> None:
        while not stop.is_set():
            try:
                answers.append(_ask(runtime, ALPHA_QUESTION, ["staff"]))
            except BaseException as exc:  # noqa: BLE001 - recorded; the test fails on it
                errors.append(exc)
                return
            asked.set()

    def wait_for_an_ask(_: ReindexRun) -> None:
        asked.clear()
        assert asked.wait(timeout=120) or errors, "the reader stopped asking"

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        run = _reindex(runtime, on_progress=wait_for_an_ask)
        asked.clear()
        assert asked.wait(timeout=120) or errors  # and once more after the switch
    finally:
        stop.set()
        thread.join(timeout=120)

    assert errors == []
    assert run.status == "finished"
    assert len(answers) >= len(FACTS) + 2
    for hits in answers:
        assert hits and hits[0].source == "alpha.txt" and "sodium" in hits[0].text
    # Both generations answered: the old single chunks first, the new short ones last.
    assert answers[0][0].text == _text(FACTS["alpha.txt"])
    assert answers[-1][0].text != _text(FACTS["alpha.txt"])


class OutageOnThirdParse:
    """A parser double: the real parser, except that its third call fails like an outage."""

    def __init__(self, real: Parser) -> None:
        self.real = real
        self.calls = 0

    def parse(
        self, path: Path, *, filename: str | None = None, content_type: str | None = None
    ) -> ParsedDocument:
        self.calls += 1
        if self.calls == 3:
            raise DependencyUnavailableError("the parser pool is unavailable (test double)")
        return self.real.parse(path, filename=filename, content_type=content_type)

    def close(self) -> None:
        self.real.close()


def test_a_reindex_failing_mid_way_leaves_the_live_generation_serving(runtime: Runtime) -> None:
    index = generational(runtime.ingestion.index)
    engine_filter = SearchFilter(roles=frozenset({"staff"}))
    query = runtime.ingestion.dense.embed_one(ALPHA_QUESTION)
    before = [(h.id, h.payload["text"]) for h in _search(runtime, query, engine_filter)]
    real = runtime.ingestion.parser
    double = OutageOnThirdParse(real)
    runtime.ingestion = dataclasses.replace(runtime.ingestion, parser=double)
    try:
        failed = _reindex(runtime)
    finally:
        runtime.ingestion = dataclasses.replace(runtime.ingestion, parser=real)

    assert failed.status == "failed"
    assert failed.error == "the parser pool is unavailable (test double)"
    assert (failed.progress.done, failed.progress.to_generation) == (2, 2)
    assert double.calls == 3
    assert (index.live_generation(), index.generations()) == (1, [1])
    assert not (runtime.settings.index_path / "g2").exists()  # the failed build is gone
    assert [(h.id, h.payload["text"]) for h in _search(runtime, query, engine_filter)] == before
    assert index.count() == len(FACTS)
    assert _ask(runtime, ALPHA_QUESTION, ["staff"])[0].text == _text(FACTS["alpha.txt"])

    retried = _reindex(runtime)  # the lease is free, nothing is left behind to trip on
    assert retried.status == "finished"
    assert (retried.progress.to_generation, index.generations()) == (2, [2])


def test_a_shutdown_stops_a_reindex_before_its_switch(runtime: Runtime) -> None:
    index = generational(runtime.ingestion.index)
    shutting_down = threading.Event()

    def shut_down_after_two(run: ReindexRun) -> None:
        if run.progress.done == 2:
            shutting_down.set()

    runs = ReindexRuns(runtime.registry.engine)
    run, _ = request_reindex(runs, "api", datetime.now(UTC))
    stopped = run_reindex(
        runtime.ingestion,
        runs,
        run.id,
        on_progress=shut_down_after_two,
        stopping=shutting_down.is_set,
    )

    assert stopped.status == "failed" and "shut down during the re-index" in (stopped.error or "")
    assert stopped.progress.done == 2
    assert (index.live_generation(), index.generations()) == (1, [1])
    assert _ask(runtime, ALPHA_QUESTION, ["staff"])[0].text == _text(FACTS["alpha.txt"])
    assert runs.acquire(
        request_reindex(runs, "api", datetime.now(UTC))[0].id, 60, datetime.now(UTC)
    )


def _search(runtime: Runtime, query: list[float], flt: SearchFilter) -> list[Any]:
    return runtime.ingestion.index.search(dense=query, sparse=None, flt=flt, limit=10)


def _narrow(runtime: Runtime, source: Path, key: str, roles: list[str]) -> None:
    """Narrow a served document's roles, as an upload of the same bytes under them does."""
    path = source / key
    register_object(
        runtime.ingestion,
        bucket="docs",
        key=key,
        content_hash=hash_file(path),
        size_bytes=path.stat().st_size,
        roles=roles,
        doc_type=None,
        title=None,
    )


def _roles_in_index(runtime: Runtime, key: str) -> set[tuple[str, ...]]:
    """The ``roles`` payloads of every live chunk of ``key``, whoever may read them."""
    index = runtime.ingestion.index
    everyone = SearchFilter(
        roles=frozenset({"staff", "hr", "public"}), document_ids=frozenset({_doc_id(key)})
    )
    query = runtime.ingestion.dense.embed_one(FACTS[key])
    hits = index.search(dense=query, sparse=None, flt=everyone, limit=50, mode="dense")
    assert len(hits) == index.count(document_id=_doc_id(key))
    return {tuple(h.payload["roles"]) for h in hits}


def test_roles_narrowed_during_the_reindex_are_narrow_in_the_new_generation(
    runtime: Runtime, source: Path
) -> None:
    """Rebuilt chunks carry the served roles, and a narrowing at any moment holds.

    - alpha is narrowed after it was rebuilt (the narrowing reaches both generations);
    - gamma is narrowed before it is rebuilt (it is built narrow);
    - delta is narrowed in the registry only, as when the index could not be reached
      for the narrowing: the catch-up makes the new generation agree with the registry;
    - beta was widened before the re-index, which waits for its re-ingestion: it is
      rebuilt with the roles it is served to now, not the wider ones.
    """
    order = sorted(FACTS)  # the re-index walks documents in key order
    assert [order.index(k) for k in ("alpha.txt", "delta.txt", "gamma.txt")] == [0, 2, 3]
    _narrow(runtime, source, "beta.txt", ["hr"])
    _narrow(runtime, source, "beta.txt", ["hr", "staff", "public"])  # queued, not ingested
    beta = runtime.registry.get(_doc_id("beta.txt"))
    assert (beta.status, beta.served_roles) == ("queued", ("hr",))

    def narrow_once(run: ReindexRun) -> None:
        if run.progress.done != 3:  # alpha, beta and delta are rebuilt, gamma is not
            return
        _narrow(runtime, source, "alpha.txt", ["hr"])
        _narrow(runtime, source, "gamma.txt", ["hr"])
        path = source / "delta.txt"
        runtime.registry.register(
            bucket="docs",
            key="delta.txt",
            content_hash=hash_file(path),
            size_bytes=path.stat().st_size,
            roles=["hr"],
            doc_type=None,
            title=None,
        )

    run = _reindex(runtime, on_progress=narrow_once)

    assert run.status == "finished" and run.progress.caught_up >= 1  # delta's roles
    index = runtime.ingestion.index
    assert generational(index).live_generation() == 2
    for key in FACTS:
        assert index.count(document_id=_doc_id(key)) >= 3, key  # rebuilt, not the old chunk
        assert _roles_in_index(runtime, key) == {("hr",)}, key
    staff_sources = {
        h.source for h in _ask(runtime, "reactor turbine archive laboratory", ["staff"])
    }
    assert staff_sources == set()
    assert "sodium" in _ask(runtime, ALPHA_QUESTION, ["hr"])[0].text


def test_ingestion_during_a_reindex_is_not_lost(runtime: Runtime, source: Path) -> None:
    """A new document, a deletion and a change, all while the re-index builds."""
    deps = runtime.ingestion
    changed = "The gamma laboratory now measures isotopes with a laser spectrometer."

    def ingest_meanwhile(run: ReindexRun) -> None:
        if run.progress.done != 1:
            return
        late = source.parent / "late.txt"
        late.write_text(_text("The epsilon depot stores spare pumps in hangar nine."))
        with late.open("rb") as fh:
            registration = accept_upload(
                deps,
                deps.buckets.get_bucket("docs"),
                "epsilon.txt",
                fh,
                roles=None,
                doc_type=None,
                title=None,
                max_bytes=1 << 20,
            )
        ingest_inline(deps)(registration.document.id)
        delete_document(deps, _doc_id("beta.txt"))
        (source / "gamma.txt").write_text(_text(changed))
        gamma = register_object(
            deps,
            bucket="docs",
            key="gamma.txt",
            content_hash=hash_file(source / "gamma.txt"),
            size_bytes=(source / "gamma.txt").stat().st_size,
            roles=["staff", "hr"],
            doc_type=None,
            title=None,
        )
        ingest_inline(deps)(gamma.document.id)

    run = _reindex(runtime, on_progress=ingest_meanwhile)

    assert run.status == "finished"
    assert generational(deps.index).live_generation() == 2
    epsilon = _ask(runtime, "Where are spare pumps stored?", ["staff"])
    assert epsilon[0].source == "epsilon.txt" and "hangar nine" in epsilon[0].text
    assert deps.index.count(document_id=_doc_id("beta.txt")) == 0
    assert "beta.txt" not in [h.source for h in _ask(runtime, "beta turbine hall", ["staff"])]
    gamma = _ask(runtime, "What does the gamma laboratory measure isotopes with?", ["staff"])
    assert gamma[0].source == "gamma.txt" and "laser" in gamma[0].text
    served = runtime.registry.get(_doc_id("gamma.txt")).indexed_version
    assert {h.document_version for h in gamma if h.source == "gamma.txt"} == {served}
    for key in ("alpha.txt", "delta.txt", "epsilon.txt", "gamma.txt"):
        doc = runtime.registry.get(_doc_id(key))
        assert deps.index.count(document_id=doc.id) >= 3, key  # all in the new chunking


def test_a_document_that_cannot_be_rebuilt_fails_the_run_unless_allowed(
    runtime: Runtime, source: Path
) -> None:
    (source / "delta.txt").unlink()  # gone from the bucket; no refresh has run yet
    index = generational(runtime.ingestion.index)

    refused = _reindex(runtime)

    assert refused.status == "failed"
    assert refused.error is not None and "1 documents could not be rebuilt" in refused.error
    (failure,) = refused.progress.failures
    assert (failure.document_id, failure.key) == (_doc_id("delta.txt"), "delta.txt")
    assert "no longer in bucket" in failure.message
    assert (index.live_generation(), index.generations()) == (1, [1])

    allowed = _reindex(runtime, max_failures=1)
    assert allowed.status == "finished" and len(allowed.progress.failures) == 1
    assert index.live_generation() == 2
    assert index.count(document_id=_doc_id("delta.txt")) == 0
    assert index.count(document_id=_doc_id("alpha.txt")) >= 3


def test_one_reindex_at_a_time_and_a_dead_one_never_blocks(runtime: Runtime) -> None:
    runs = ReindexRuns(runtime.registry.engine)
    start = datetime.now(UTC)
    first, created = request_reindex(runs, "api", start)
    again, created_again = request_reindex(runs, "cli", start)
    assert created and not created_again and again.id == first.id
    assert runs.acquire(first.id, 60, start)
    with runtime.registry._session() as s:  # a second run made by a process that missed it
        s.add(ReindexRunRow(id="intruder", trigger="api", queued_at=start, failures=[]))
    skipped = run_reindex(runtime.ingestion, runs, "intruder", clock=lambda: start)
    assert skipped.status == "skipped" and skipped.error == "another re-index was running"
    assert runs.get(first.id).status == "running"
    assert generational(runtime.ingestion.index).generations() == [1]  # nothing was built

    later = start + timedelta(seconds=61)  # the holder died: no renewals
    fresh, created = request_reindex(runs, "api", later)
    assert created and fresh.id != first.id
    dead = runs.get(first.id)
    assert dead.status == "failed" and "lease expired" in (dead.error or "")
    done = run_reindex(runtime.ingestion, runs, fresh.id, clock=lambda: later)
    assert done.status == "finished"
    assert run_reindex(runtime.ingestion, runs, fresh.id) == runs.get(fresh.id)  # twice: once
    assert [r.id for r in runs.list_runs()][:2] == [fresh.id, first.id]
