"""The ingestion pipeline and hybrid retrieval on the real embedded stack."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from ingest.content_hash import hash_file
from ingest.folder import ingest_paths, list_files
from ingest.pipeline import (
    IngestResult,
    Prepared,
    commit,
    ingest_document,
    object_path,
    prepare,
    remove_document,
    write,
)
from kernel.errors import InvalidInputError
from ragline.runtime import Runtime, open_runtime
from retrieval.access import Principal, search_filter
from tests.conftest import make_settings

pytestmark = pytest.mark.service

SECRET = "The obsidian merger with Vantablack Corp closes on 14 March; codename Heron."
PUBLIC = "The cafeteria opens at 08:00 and serves breakfast until 10:30 on weekdays."


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[Runtime]:
    rt = open_runtime(make_settings(tmp_path_factory.mktemp("pipe") / "data"), dense=embedder)
    yield rt
    rt.close()


def _ingest(runtime: Runtime, folder: Path, bucket: str, roles: list[str]) -> list[Any]:
    return ingest_paths(
        runtime.ingestion,
        folder,
        list_files(folder),
        bucket=bucket,
        roles=roles,
        doc_type=None,
        on_file=lambda _: None,
    )


@pytest.fixture(scope="module")
def docs(runtime: Runtime, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    board = tmp_path_factory.mktemp("board")
    (board / "merger.txt").write_text(SECRET)
    everyone = tmp_path_factory.mktemp("everyone")
    (everyone / "cafeteria.txt").write_text(PUBLIC)
    reports = _ingest(runtime, board, "board", ["board"]) + _ingest(
        runtime, everyone, "everyone", ["staff"]
    )
    assert [r.outcome for r in reports] == ["indexed", "indexed"]
    return {
        "secret": runtime.registry.list_documents(bucket="board")[0].id,
        "public": runtime.registry.list_documents(bucket="everyone")[0].id,
    }


@pytest.mark.parametrize("mode", ["dense", "sparse", "hybrid"])
def test_no_side_of_hybrid_search_leaks_other_roles(
    runtime: Runtime, docs: dict[str, str], mode: str
) -> None:
    # The question is the secret itself: the best match on both sides. With fewer
    # allowed chunks than top_k, a filter applied as a score mask would let it in.
    staff = search_filter(Principal.from_key("k", ["staff"]))
    hits = runtime.retriever.retrieve(SECRET, staff, top_k=10, mode=mode)  # type: ignore[arg-type]
    assert docs["secret"] not in {h.document_id for h in hits}
    board = search_filter(Principal.from_key("k", ["board"]))
    hits = runtime.retriever.retrieve(SECRET, board, top_k=10, mode=mode)  # type: ignore[arg-type]
    assert [h.document_id for h in hits] == [docs["secret"]]


def test_chunks_carry_the_full_payload(runtime: Runtime, docs: dict[str, str]) -> None:
    board = search_filter(Principal.from_key("k", ["board"]))
    hit = runtime.retriever.retrieve("obsidian merger", board, top_k=1)[0]
    assert hit.document_id == docs["secret"]
    assert hit.document_version == 1
    assert hit.bucket == "board" and hit.source == "merger.txt" and hit.title == "merger.txt"
    assert hit.doc_type == "generic"
    assert SECRET in hit.text


def test_a_file_name_is_shown_as_the_title_but_never_searched(
    runtime: Runtime, tmp_path: Path
) -> None:
    folder = tmp_path / "named"
    folder.mkdir()
    (folder / "quarterly-zanzibar.txt").write_text(PUBLIC)
    (folder / "other.txt").write_text("The quarterly zanzibar offsite is in the north wing.")
    reports = _ingest(runtime, folder, "named", ["named"])
    assert [r.outcome for r in reports] == ["indexed", "indexed"]
    named = search_filter(Principal.from_key("k", ["named"]))
    hits = runtime.retriever.retrieve("zanzibar", named, top_k=5, mode="sparse")
    # Only the document whose text holds the word: the other's file name is no text.
    assert [h.source for h in hits] == ["other.txt"]
    cafeteria = runtime.retriever.retrieve("cafeteria breakfast", named, top_k=5)
    assert cafeteria[0].source == "quarterly-zanzibar.txt"
    assert cafeteria[0].title == "quarterly-zanzibar.txt"


def test_reingest_unchanged_does_nothing_and_change_replaces(
    runtime: Runtime, docs: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    note = folder / "note.txt"
    note.write_text("The quarterly offsite is in Lisbon in the second week of May.")
    assert [r.outcome for r in _ingest(runtime, folder, "notes", ["staff"])] == ["indexed"]
    doc = runtime.registry.list_documents(bucket="notes")[0]
    index = runtime.ingestion.index
    first_count = index.count(document_id=doc.id)
    assert first_count >= 1

    assert [r.outcome for r in _ingest(runtime, folder, "notes", ["staff"])] == ["unchanged"]
    # Even a redelivered task finds nothing to do.
    assert ingest_document(runtime.ingestion, doc.id) == IngestResult(
        doc.id, "unchanged", chunks=first_count
    )
    assert runtime.registry.get(doc.id).indexed_version == 1
    assert index.count(document_id=doc.id) == first_count

    note.write_text("The quarterly offsite moved to Porto, in the third week of June.")
    assert [r.outcome for r in _ingest(runtime, folder, "notes", ["staff"])] == ["indexed"]
    assert runtime.registry.get(doc.id).indexed_version == 2
    staff = search_filter(Principal.from_key("k", ["staff"]))
    hits = runtime.retriever.retrieve("quarterly offsite", staff, top_k=5)
    texts = [h.text for h in hits if h.document_id == doc.id]
    assert texts and all("Porto" in t for t in texts)
    assert {h.document_version for h in hits if h.document_id == doc.id} == {2}


def test_remove_document_deletes_chunks(runtime: Runtime, tmp_path: Path) -> None:
    folder = tmp_path / "tmp"
    folder.mkdir()
    (folder / "gone.txt").write_text("The heliotrope project is cancelled as of today.")
    _ingest(runtime, folder, "tmpbucket", ["staff"])
    doc = runtime.registry.list_documents(bucket="tmpbucket")[0]
    remove_document(runtime.ingestion, doc.id)
    assert runtime.ingestion.index.count(document_id=doc.id) == 0
    staff = search_filter(Principal.from_key("k", ["staff"]))
    hits = runtime.retriever.retrieve("heliotrope project", staff, top_k=5)
    assert doc.id not in {h.document_id for h in hits}


def test_a_bad_file_is_recorded_not_raised(runtime: Runtime, tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "fine.txt").write_text("Badges are renewed every two years at reception.")
    reports = _ingest(runtime, folder, "mixed", ["staff"])
    by_name = {r.name: r for r in reports}
    assert by_name["empty.txt"].outcome == "failed"
    assert by_name["empty.txt"].error_code == "empty_document"
    assert by_name["fine.txt"].outcome == "indexed"


def test_an_unknown_doc_type_is_refused_at_the_door(runtime: Runtime, tmp_path: Path) -> None:
    folder = tmp_path / "poems"
    folder.mkdir()
    (folder / "ode.txt").write_text("An ode to the quarterly report.")
    with pytest.raises(InvalidInputError, match="unknown document type 'poetry'"):
        ingest_paths(
            runtime.ingestion,
            folder,
            list_files(folder),
            bucket="poems",
            roles=["staff"],
            doc_type="poetry",
            on_file=lambda _: None,
        )
    assert runtime.ingestion.buckets.find_bucket("poems") is None
    assert runtime.registry.list_documents(bucket="poems") == []


def test_a_type_stored_before_types_were_checked_fails_the_document(
    runtime: Runtime, tmp_path: Path
) -> None:
    folder = tmp_path / "legacy"
    folder.mkdir()
    (folder / "old.txt").write_text("A document registered by an older release.")
    stored = runtime.ingestion.buckets.create_bucket("legacy", ["staff"], None, str(folder))
    doc = runtime.registry.register(
        bucket=stored.name,
        key="old.txt",
        content_hash="h",
        size_bytes=1,
        roles=["staff"],
        doc_type="poetry",
        title=None,
    ).document
    result = ingest_document(runtime.ingestion, doc.id)
    assert (result.outcome, result.error_code) == ("failed", "invalid_input")
    assert runtime.registry.get(doc.id).status == "failed"


def _digest_of_three() -> bytes:
    """A multipart/digest whose only content is three messages (message/rfc822 parts)."""
    from email.message import EmailMessage
    from email.mime.message import MIMEMessage
    from email.mime.multipart import MIMEMultipart

    digest = MIMEMultipart("digest")
    digest["From"] = "list@example.com"
    digest["Subject"] = "Facilities digest, vol 7"
    for number, text in enumerate(
        [
            "The north car park closes for resurfacing on Monday.",
            "Bicycle racks are moving to the east entrance next week.",
            "Lockers on floor three are emptied every Friday evening.",
        ],
        start=1,
    ):
        message = EmailMessage()
        message["From"] = f"desk{number}@example.com"
        message["Subject"] = f"Notice {number}"
        message.set_content(text)
        digest.attach(MIMEMessage(message))
    return digest.as_bytes()


def test_a_digest_registers_its_messages_and_fails_only_as_empty(
    runtime: Runtime, tmp_path: Path
) -> None:
    """Its messages become linked documents, indexed; the digest itself holds no text."""
    folder = tmp_path / "digest"
    folder.mkdir()
    (folder / "digest.eml").write_bytes(_digest_of_three())
    reports = _ingest(runtime, folder, "digests", ["staff"])
    by_name = {r.name: r for r in reports}
    parent = by_name["digest.eml"]
    assert (parent.outcome, parent.error_code) == ("failed", "empty_document")
    assert "3 attachments" in (parent.error or "")
    parent_id = next(
        d.id for d in runtime.registry.list_documents(bucket="digests") if d.parent_id is None
    )
    children = runtime.registry.children(parent_id)
    assert len(children) == 3
    assert {runtime.registry.get(c.id).status for c in children} == {"indexed"}
    staff = search_filter(Principal.from_key("k", ["staff"]))
    hits = runtime.retriever.retrieve("when do the lockers get emptied", staff, top_k=3)
    assert "Lockers on floor three" in hits[0].text


def _mail_with_attachment(body: str, attachment: str, filename: str = "f.txt") -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@x.test", "b@x.test", "Figures"
    message.set_content(body)
    message.add_attachment(attachment.encode(), maintype="text", subtype="plain", filename=filename)
    return message.as_bytes()


def test_an_attempt_that_loses_its_race_leaves_the_winners_attachments_alone(
    runtime: Runtime, tmp_path: Path
) -> None:
    """A slow attempt of an older email commits after a newer one: it is superseded,
    and neither registers nor writes the attachment it carried, so the child keeps the
    newer bytes, the hash it was registered with, and is listed with its parent."""
    folder = tmp_path / "race"
    folder.mkdir()
    mail = folder / "figures.eml"
    mail.write_bytes(_mail_with_attachment("Draft figures attached.", "Revenue was 9."))
    first = {r.name: r for r in _ingest(runtime, folder, "races", ["staff"])}["figures.eml"]
    parent_id = next(
        d.id for d in runtime.registry.list_documents(bucket="races") if d.parent_id is None
    )
    mail.write_bytes(_mail_with_attachment("Quarter figures attached.", "Revenue was 10."))
    runtime.registry.requeue(parent_id)
    slow = prepare(runtime.ingestion, parent_id)  # parsed this email: "Revenue was 10."
    assert isinstance(slow, Prepared)

    mail.write_bytes(_mail_with_attachment("Corrected figures attached.", "Revenue was 12."))
    _ingest(runtime, folder, "races", ["staff"])
    write(runtime.ingestion, slow)
    late = commit(runtime.ingestion, slow)

    assert (first.outcome, late.outcome, late.children) == ("indexed", "superseded", ())
    [child] = runtime.registry.children(parent_id)
    path = object_path(runtime.ingestion, child)
    assert path.read_text() == "Revenue was 12."
    assert runtime.registry.get(child.id).content_hash == hash_file(path)
    staff = search_filter(Principal.from_key("k", ["staff"]))
    hits = runtime.retriever.retrieve("what was the revenue", staff, top_k=5)
    assert [h.text for h in hits if "Revenue" in h.text] == ["Revenue was 12."]


def test_an_attachment_dropped_from_a_new_version_leaves_the_index(
    runtime: Runtime, tmp_path: Path
) -> None:
    """The email is the source of truth for what it carries: a file the sender took
    out of a corrected email is no longer listed, searched or kept on disk."""
    folder = tmp_path / "dropped"
    folder.mkdir()
    mail = folder / "plan.eml"
    mail.write_bytes(_mail_with_attachment("Plan attached.", "The launch codename is Kestrel."))
    _ingest(runtime, folder, "dropped", ["staff"])
    [old_child] = [d for d in runtime.registry.list_documents(bucket="dropped") if d.parent_id]
    old_path = object_path(runtime.ingestion, old_child)

    mail.write_bytes(
        _mail_with_attachment("Plan attached.", "The launch codename is Osprey.", "plan-v2.txt")
    )
    _ingest(runtime, folder, "dropped", ["staff"])

    listed = runtime.registry.list_documents(bucket="dropped")
    assert sorted(d.key for d in listed) == ["plan.eml", "plan.eml#plan-v2.txt"]
    assert {d.status for d in listed} == {"indexed"}
    assert not old_path.exists()
    staff = search_filter(Principal.from_key("k", ["staff"]))
    hits = runtime.retriever.retrieve("launch codename", staff, top_k=5)
    assert "Kestrel" not in " ".join(h.text for h in hits)
    assert any("Osprey" in h.text for h in hits)
