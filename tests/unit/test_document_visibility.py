"""Who may know a document exists, and who may read what was read from its content."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest.records import Document

pytestmark = pytest.mark.unit

HR = frozenset({"hr"})
ENG = frozenset({"eng"})


def _document(
    *, roles: tuple[str, ...], served: tuple[str, ...], parent_id: str | None = None
) -> Document:
    return Document(
        id="d1",
        bucket="b",
        key="mail.msg#notes.txt" if parent_id else "mail.msg",
        title=None,
        parsed_title="Termination of J. Doe",
        roles=roles,
        doc_type=None,
        detected_type="generic",
        format="txt",
        parent_id=parent_id,
        status="processing",
        content_hash="h2",
        indexed_hash="h1",
        indexed_version=1,
        indexed_fingerprint="f1",
        chunks=3,
        size_bytes=10,
        error_code=None,
        error=None,
        attempts=2,
        parse_seconds=0.1,
        updated_at=datetime(2026, 12, 1, tzinfo=UTC),
        indexed_at=datetime(2026, 11, 30, tzinfo=UTC),
        served_roles=served,
    )


def test_an_upload_re_given_to_new_roles_is_listed_to_them_but_its_old_content_is_not() -> None:
    """hr's version is still served (narrowed to no one) while eng's is being built."""
    upload = _document(roles=("eng",), served=())
    assert upload.listable_by(ENG)
    assert not upload.content_readable_by(ENG)
    assert not upload.listable_by(HR) and not upload.content_readable_by(HR)


def test_a_served_upload_is_listed_and_read_by_its_roles_only() -> None:
    upload = _document(roles=("hr",), served=("hr",))
    assert upload.listable_by(HR | ENG) and upload.content_readable_by(HR | ENG)
    assert not upload.listable_by(ENG) and not upload.content_readable_by(ENG)
    assert not upload.listable_by(frozenset())


def test_the_api_shows_a_caller_only_content_read_from_a_version_served_to_it() -> None:
    """GET /documents: eng, given the key by a re-upload, sees its status, not the
    title, type, format and size read from hr's version still served (to no one)."""
    from api.routes.documents import _document_out
    from retrieval.access import Principal

    doc = _document(roles=("eng",), served=())
    eng = _document_out(doc, Principal("k-eng", ENG))
    assert (eng.title, eng.doc_type, eng.format, eng.chunks) == (None, None, None, None)
    assert (eng.source, eng.status, eng.roles) == ("mail.msg", "processing", ["eng"])
    admin = _document_out(doc, Principal("k-admin", frozenset({"admin"})))
    assert (admin.title, admin.doc_type, admin.format, admin.chunks) == (
        "Termination of J. Doe",
        "generic",
        "txt",
        3,
    )
    served = _document(roles=("eng",), served=("eng",))
    assert _document_out(served, Principal("k-eng", ENG)).title == "Termination of J. Doe"
