"""Refresh on the real embedded stack: a source folder reconciled with registry and index."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from governance.audit_answers import AuditedAnswers
from governance.audit_port import SYSTEM_ACTOR
from ingest.ports import ListedObject
from ingest.records import RefreshRun
from ingest.refresh import RefreshPolicy, ingest_inline, request_refresh, run_refresh
from ingest.registration import accept_upload
from ingest.registry_tables import RefreshRunRow
from ragline.runtime import Runtime, open_runtime
from retrieval.access import Principal, search_filter
from tests.conftest import make_settings

pytestmark = pytest.mark.service

FACTS = {
    "alpha.txt": "The alpha reactor is cooled by liquid sodium at 550 degrees.",
    "beta.txt": "Beta team meets every Thursday in the orchid room.",
    "gamma.txt": "The gamma archive keeps invoices for eleven years.",
}


@pytest.fixture
def runtime(tmp_path: Path, embedder: Any) -> Iterator[Runtime]:
    rt = open_runtime(make_settings(tmp_path / "data"), dense=embedder)
    yield rt
    rt.close()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "source"
    folder.mkdir()
    for name, text in FACTS.items():
        (folder / name).write_text(text)
    return folder


def _bucket(runtime: Runtime, source: Path, roles: tuple[str, ...] = ("staff",)) -> str:
    runtime.ingestion.buckets.create_bucket("docs", list(roles), None, str(source))
    return "docs"


def _refresh(runtime: Runtime, bucket: str = "docs") -> RefreshRun:
    deps = runtime.ingestion
    run, created = request_refresh(
        deps.buckets, runtime.refresh_runs, bucket, "cli", datetime.now(UTC)
    )
    assert created
    return run_refresh(deps, runtime.refresh_runs, run.id, submit=ingest_inline(deps))


def _sources(runtime: Runtime, question: str, roles: list[str]) -> list[str]:
    hits = runtime.retriever.retrieve(
        question, search_filter(Principal.from_key("k", roles)), top_k=5
    )
    return [h.source for h in hits]


def _rewrite(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns
    path.write_text(text)
    os.utime(path, ns=(before + 10**9, before + 10**9))  # a new mtime, even on coarse clocks


def test_a_refresh_ingests_changes_and_deletions_and_skips_the_rest(
    runtime: Runtime, source: Path
) -> None:
    _bucket(runtime, source)
    first = _refresh(runtime)
    assert first.status == "finished"
    assert (first.counts.new, first.counts.changed, first.counts.deleted) == (3, 0, 0)
    assert (first.total, first.done) == (3, 3)
    assert "alpha.txt" in _sources(runtime, "How is the alpha reactor cooled?", ["staff"])

    _rewrite(source / "alpha.txt", "The alpha reactor is now cooled by molten lead salt.")
    (source / "beta.txt").unlink()
    (source / "delta.txt").write_text("Delta invoices are approved by the night auditor.")
    second = _refresh(runtime)
    c = second.counts
    assert (c.new, c.changed, c.deleted, c.unchanged, c.failed) == (1, 1, 1, 1, 0)
    assert second.failures == ()
    hits = runtime.retriever.retrieve(
        "alpha reactor cooled", search_filter(Principal.from_key("k", ["staff"])), top_k=5
    )
    alpha = [h for h in hits if h.source == "alpha.txt"]
    assert alpha and "molten lead" in alpha[0].text and "sodium" not in alpha[0].text
    assert "beta.txt" not in _sources(runtime, "When does beta team meet?", ["staff"])
    assert {d.key for d in runtime.registry.list_documents(bucket="docs")} == {
        "alpha.txt",
        "delta.txt",
        "gamma.txt",
    }

    third = _refresh(runtime)
    assert (third.counts.unchanged, third.counts.new, third.counts.changed) == (3, 0, 0)
    assert [r.id for r in runtime.refresh_runs.list_runs("docs")] == [
        third.id,
        second.id,
        first.id,
    ]


def test_a_touched_file_with_the_same_bytes_is_read_once_and_not_reingested(
    runtime: Runtime, source: Path
) -> None:
    _bucket(runtime, source)
    _refresh(runtime)
    version = runtime.registry.list_documents(bucket="docs")[0].indexed_version
    _rewrite(source / "alpha.txt", FACTS["alpha.txt"])
    again = _refresh(runtime)
    assert (again.counts.unchanged, again.counts.changed) == (3, 0)
    alpha = runtime.registry.list_documents(bucket="docs")[0]
    assert alpha.key == "alpha.txt" and alpha.indexed_version == version
    assert alpha.source_tag is not None and str((source / "alpha.txt").stat().st_size) in (
        alpha.source_tag
    )


def test_a_document_keeps_its_narrower_roles_when_its_object_changes(
    runtime: Runtime, source: Path
) -> None:
    """An upload narrowed below the bucket's roles must not widen on refresh."""
    _bucket(runtime, source, roles=("public",))
    deps = runtime.ingestion
    with (source.parent / "upload.txt").open("wb") as fh:
        fh.write(b"Salary bands for engineers are reviewed in March.")
    with (source.parent / "upload.txt").open("rb") as fh:
        registration = accept_upload(
            deps,
            deps.buckets.get_bucket("docs"),
            "salaries.txt",
            fh,
            roles=["hr"],
            doc_type=None,
            title=None,
            max_bytes=1 << 20,
        )
    ingest_inline(deps)(registration.document.id)
    _rewrite(source / "salaries.txt", "Salary bands for engineers rise by four percent.")
    run = _refresh(runtime)
    assert run.counts.changed == 1
    doc = runtime.registry.get(registration.document.id)
    assert doc.roles == ("hr",) and doc.status == "indexed"
    assert "salaries.txt" not in _sources(runtime, "salary bands engineers", ["public"])
    hits = runtime.retriever.retrieve(
        "salary bands engineers", search_filter(Principal.from_key("k", ["hr"])), top_k=5
    )
    assert any("four percent" in h.text for h in hits if h.source == "salaries.txt")


def test_a_listing_that_fails_deletes_nothing(runtime: Runtime, source: Path) -> None:
    _bucket(runtime, source)
    _refresh(runtime)
    moved = source.rename(source.parent / "elsewhere")
    run = _refresh(runtime)
    assert run.status == "failed" and run.error is not None and "source folder" in run.error
    assert run.counts.deleted == 0
    assert len(runtime.registry.list_documents(bucket="docs")) == 3
    assert "alpha.txt" in _sources(runtime, "How is the alpha reactor cooled?", ["staff"])
    moved.rename(source)


def test_an_unreadable_object_is_a_recorded_failure_and_the_rest_goes_on(
    runtime: Runtime, source: Path
) -> None:
    _bucket(runtime, source)
    (source / "broken.pdf").write_bytes(b"%PDF-1.7 this is not a pdf at all")
    run = _refresh(runtime)
    assert run.status == "finished"
    assert (run.counts.new, run.counts.failed) == (3, 1)
    assert [f.key for f in run.failures] == ["broken.pdf"]
    assert run.failures[0].message


def test_an_upload_racing_the_listing_is_not_removed(runtime: Runtime, source: Path) -> None:
    """The listing misses an object registered after it began: that is no deletion."""
    _bucket(runtime, source)
    deps = runtime.ingestion
    real_list = deps.store.list_objects

    def list_then_upload(bucket: str, src: str | None) -> Iterator[ListedObject]:
        listed = list(real_list(bucket, src))
        late = source / "late.txt"
        late.write_text("The late memo arrived after the listing.")
        with late.open("rb") as fh:
            accept_upload(
                deps,
                deps.buckets.get_bucket("docs"),
                "late-upload.txt",
                fh,
                roles=None,
                doc_type=None,
                title=None,
                max_bytes=1 << 20,
            )
        yield from listed

    object.__setattr__(deps.store, "list_objects", list_then_upload)
    try:
        run = _refresh(runtime)
    finally:
        object.__delattr__(deps.store, "list_objects")
    assert run.counts.deleted == 0
    assert "late-upload.txt" in {d.key for d in runtime.registry.list_documents(bucket="docs")}


def test_one_refresh_per_bucket_at_a_time(runtime: Runtime, source: Path) -> None:
    _bucket(runtime, source)
    runs = runtime.refresh_runs
    now = datetime.now(UTC)
    first, created = runs.request("docs", "api", now)
    again, created_again = runs.request("docs", "schedule", now)
    assert created and not created_again and again.id == first.id
    assert runs.acquire(first.id, 60, now)
    # A second run (made by a process that did not see the first) finds the lease taken.

    with runtime.registry._session() as s:
        s.add(
            RefreshRunRow(id="intruder", bucket="docs", trigger="api", queued_at=now, failures=[])
        )
    skipped = run_refresh(
        runtime.ingestion, runs, "intruder", submit=lambda _: None, clock=lambda: now
    )
    assert skipped.status == "skipped" and "another refresh" in (skipped.error or "")
    assert runs.get(first.id).status == "running"


def test_a_run_whose_worker_died_never_blocks_the_bucket(runtime: Runtime, source: Path) -> None:
    _bucket(runtime, source)
    runs = runtime.refresh_runs
    start = datetime.now(UTC)
    dead, _ = runs.request("docs", "api", start)
    assert runs.acquire(dead.id, 30, start)  # then the process is killed: no renewals
    later = start + timedelta(seconds=31)
    fresh, created = runs.request("docs", "api", later)
    assert created and fresh.id != dead.id
    closed = runs.get(dead.id)
    assert closed.status == "failed" and "lease expired" in (closed.error or "")
    done = run_refresh(
        runtime.ingestion,
        runs,
        fresh.id,
        submit=ingest_inline(runtime.ingestion),
        policy=RefreshPolicy(lease_s=60),
        clock=lambda: later,
    )
    assert done.status == "finished" and done.counts.new == 3


def test_a_run_delivered_twice_is_carried_out_once(runtime: Runtime, source: Path) -> None:
    _bucket(runtime, source)
    done = _refresh(runtime)
    again = run_refresh(
        runtime.ingestion, runtime.refresh_runs, done.id, submit=ingest_inline(runtime.ingestion)
    )
    assert again == runtime.refresh_runs.get(done.id)
    assert again.counts.new == 3 and again.status == "finished"


def test_a_shutdown_ends_a_refresh_waiting_for_its_ingestions(
    runtime: Runtime, source: Path
) -> None:
    """Nothing ingests (no worker): the run winds up on shutdown, recorded, lease freed."""
    _bucket(runtime, source)
    runs = runtime.refresh_runs
    run, _ = runs.request("docs", "api", datetime.now(UTC))
    ended = run_refresh(
        runtime.ingestion, runs, run.id, submit=lambda _: None, stopping=lambda: True
    )
    assert ended.status == "failed" and "shut down" in (ended.error or "")
    assert {d.status for d in runtime.registry.list_documents(bucket="docs")} == {"queued"}
    after, created = runs.request("docs", "api", datetime.now(UTC))
    assert created and runs.acquire(after.id, 60, datetime.now(UTC))


def test_a_document_a_refresh_removes_is_erased_from_the_answer_records_citing_it(
    runtime: Runtime, source: Path
) -> None:
    _bucket(runtime, source)
    _refresh(runtime)
    ids = {d.key: d.id for d in runtime.registry.list_documents(bucket="docs")}
    answers = AuditedAnswers(runtime.audit, runtime.settings.audit)
    for answer_id, key in (("about-beta", "beta.txt"), ("about-gamma", "gamma.txt")):
        answers.record_answer(
            answer_id=answer_id,
            key_id="key-reader",
            model="extractive",
            retrieval={},
            chunk_ids=[f"c-{key}"],
            cited_chunk_ids=[f"c-{key}"],
            grounding=1.0,
            latency_ms=1.0,
            question=f"What does {key} say?",
            answer=f"{FACTS[key]} [1]",
            citations=[{"n": 1, "chunk_id": f"c-{key}", "document_id": ids[key], "title": key}],
        )

    (source / "beta.txt").unlink()
    assert _refresh(runtime).counts.deleted == 1

    erased = answers.get_answer("about-beta")
    assert (erased.answer, erased.question) == (None, None)
    assert erased.citations is not None and erased.citations[0]["title"] is None
    assert answers.get_answer("about-gamma").answer == f"{FACTS['gamma.txt']} [1]"
    (event,) = [e for e in runtime.audit.query().entries if e.action == "audit.erase"]
    assert event.target == ids["beta.txt"] and event.key_id == SYSTEM_ACTOR.key_id
    assert runtime.audit.verify().ok
