"""The relational schema under Alembic: created, adopted, migrated, refused, on both databases.

Real SQLite files and real PostgreSQL databases (tests/postgres_db.py). The schema
the revisions build is compared with the models by Alembic's autogenerate, so a model
changed without a revision fails here. Behind-head cases use a copy of the revisions
with one test revision added (``0010``) after the real ones.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    insert,
    inspect,
    text,
)
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

import ragline
from governance.audit_tables import AuditBase
from governance.key_tables import KeyBase
from governance.review_tables import ReviewBase
from ingest.bucket_catalog import BucketCatalog
from ingest.records import ServedDocument, document_id_for
from ingest.registry import Registry
from ingest.registry_tables import Base
from kernel.errors import ConfigurationError
from kernel.settings import get_settings
from prompts.tables import PromptBase
from ragline.db_cli import db_app
from ragline.schema import current_revision, ensure_schema, head_revision, upgrade
from releases.tables import ReleaseBase
from tests.postgres_db import admin_url, database_url, fresh_database
from usage.tables import UsageBase

pytestmark = pytest.mark.service

HEAD = "0009"  # the last real revision

BACKENDS = ("sqlite", "postgresql")
MIGRATIONS_DIR = Path(ragline.__file__).parent / "migrations"
MODEL_TABLES = {
    t.name
    for t in [
        *Base.metadata.sorted_tables,
        *AuditBase.metadata.sorted_tables,
        *PromptBase.metadata.sorted_tables,
        *UsageBase.metadata.sorted_tables,
        *KeyBase.metadata.sorted_tables,
        *ReviewBase.metadata.sorted_tables,
        *ReleaseBase.metadata.sorted_tables,
    ]
}


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_url(request.param, tmp_path) as url:
        yield url


def _models() -> MetaData:
    """Every table of every model, in one metadata (foreign keys resolve across them)."""
    combined = MetaData()
    for table in [
        *Base.metadata.sorted_tables,
        *AuditBase.metadata.sorted_tables,
        *PromptBase.metadata.sorted_tables,
        *UsageBase.metadata.sorted_tables,
        *KeyBase.metadata.sorted_tables,
        *ReviewBase.metadata.sorted_tables,
        *ReleaseBase.metadata.sorted_tables,
    ]:
        table.to_metadata(combined)
    return combined


def _differences(url: str) -> list[Any]:
    """What autogenerate would change to make the database equal the models."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, _models()))
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _columns(url: str, table: str) -> set[str]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        return {c["name"] for c in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def _execute(url: str, statement: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


# -- the revisions at head are the models ------------------------------------------


def test_head_builds_exactly_the_models_schema_even_in_distributed_mode(db_url: str) -> None:
    assert current_revision(db_url) is None

    ensure_schema(db_url, auto_upgrade=False)  # an empty database is created either way

    assert current_revision(db_url) == head_revision() == HEAD
    assert _tables(db_url) == MODEL_TABLES | {"alembic_version"}
    assert _differences(db_url) == []


def test_the_comparison_sees_a_model_column_the_revisions_lack(db_url: str) -> None:
    upgrade(db_url)
    _execute(db_url, "DROP TABLE audit_head")
    _execute(db_url, "ALTER TABLE buckets DROP COLUMN max_lag_s")

    found = {(d[0], getattr(d[-1], "name", None)) for d in _differences(db_url)}

    assert ("add_table", "audit_head") in found
    assert ("add_column", "max_lag_s") in found


def test_revisions_never_import_the_models() -> None:
    ours = (
        "ingest",
        "answer",
        "ragline",
        "kernel",
        "retrieval",
        "chunkers",
        "text",
        "generation",
        "prompts",
        "usage",
        "governance",
        "releases",
    )
    revisions = sorted((MIGRATIONS_DIR / "versions").glob("[0-9]*.py"))
    assert [p.name for p in revisions] == [
        "0001_baseline.py",
        "0002_reindex_runs.py",
        "0003_generation.py",
        "0004_audit.py",
        "0005_keys.py",
        "0006_review.py",
        "0007_bucket_pii.py",
        "0008_releases.py",
        "0009_declared_type.py",
    ]
    for path in revisions:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[0] not in ours, (path.name, node.module)
            elif isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] not in ours for a in node.names), path.name


# -- a registry made before migrations ----------------------------------------------


def _pre_migrations_schema() -> MetaData:
    """The tables an older ragline made by ``create_all``: fewer tables and columns."""
    old = MetaData()
    Table(
        "buckets",
        old,
        Column("name", String(128), primary_key=True),
        Column("roles", JSON, nullable=False),
        Column("doc_type", String(64)),
        Column("source", Text),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
    Table(
        "documents",
        old,
        Column("id", String(36), primary_key=True),
        Column("bucket", ForeignKey("buckets.name", ondelete="CASCADE"), nullable=False),
        Column("key", Text, nullable=False),
        Column("title", Text),
        Column("parsed_title", Text),
        Column("roles", JSON, nullable=False),
        Column("doc_type", String(64)),
        Column("detected_type", String(64)),
        Column("format", String(32)),
        Column("parent_id", String(36)),
        Column("status", String(16), nullable=False),
        Column("content_hash", String(64)),
        Column("indexed_hash", String(64)),
        Column("indexed_version", Integer, nullable=False),
        Column("indexed_fingerprint", String(64)),
        Column("chunks", Integer, nullable=False),
        Column("size_bytes", Integer, nullable=False),
        Column("error_code", String(64)),
        Column("error", Text),
        Column("attempts", Integer, nullable=False),
        Column("parse_seconds", Float),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        Column("indexed_at", DateTime(timezone=True)),
        UniqueConstraint("bucket", "key"),
    )
    Table(
        "version_counters",
        old,
        Column("document_id", String(36), primary_key=True),
        Column("last_version", Integer, nullable=False),
    )
    return old


def _make_pre_migrations_registry(url: str) -> str:
    """An older ragline's registry with one served document in it; returns its id."""
    old = _pre_migrations_schema()
    doc_id = document_id_for("b", "doc.txt")
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    engine = create_engine(url, poolclass=NullPool)
    try:
        old.create_all(engine)
        with engine.begin() as conn:
            conn.execute(
                insert(old.tables["buckets"]).values(name="b", roles=["hr"], created_at=moment)
            )
            conn.execute(
                insert(old.tables["documents"]).values(
                    id=doc_id,
                    bucket="b",
                    key="doc.txt",
                    roles=["hr"],
                    status="indexed",
                    content_hash="h1",
                    indexed_hash="h1",
                    indexed_version=3,
                    chunks=2,
                    size_bytes=3,
                    attempts=1,
                    created_at=moment,
                    updated_at=moment,
                    indexed_at=moment,
                )
            )
            conn.execute(
                insert(old.tables["version_counters"]).values(document_id=doc_id, last_version=3)
            )
    finally:
        engine.dispose()
    return doc_id


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_registry_from_before_migrations_is_adopted_and_keeps_its_rows(
    backend: str, tmp_path: Path
) -> None:
    with database_url(backend, tmp_path) as url:
        doc_id = _make_pre_migrations_registry(url)
        before = {d[0] for d in _differences(url)}
        assert {"add_table", "add_column"} <= before
        assert current_revision(url) is None

        # As ragline.runtime calls it: embedded (SQLite) may migrate, distributed not.
        # Adoption stamps the baseline and then upgrades either way: the revisions after
        # the baseline find exactly the baseline (a table of theirs made early would fail).
        ensure_schema(url, auto_upgrade=backend == "sqlite")

        assert current_revision(url) == HEAD
        assert _differences(url) == []
        registry = Registry(url)
        try:
            doc = registry.get(doc_id)
            assert (doc.key, doc.roles, doc.status, doc.indexed_version) == (
                "doc.txt",
                ("hr",),
                "indexed",
                3,
            )
            assert (doc.source_tag, doc.source_changed_at, doc.incarnation) == (None, None, None)
            assert registry.served([doc_id]) == {doc_id: ServedDocument(3, frozenset({"hr"}))}
            assert registry.next_version(doc_id) == 4
            assert BucketCatalog(registry.engine).get_bucket("b").roles == ("hr",)
        finally:
            registry.close()


# -- behind head: refused in distributed mode, migrated in embedded mode ------------

_TEST_REVISION = '''"""A test revision after the real ones: a note per bucket."""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # On SQLite, rebuild the table (copy, drop, rename) as a real column change would.
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("buckets", recreate="always" if sqlite else "auto") as batch:
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("buckets") as batch:
        batch.drop_column("note")
'''


@pytest.fixture
def migrations_next(tmp_path: Path) -> str:
    """The real revisions plus a test revision 0010, as a script location."""
    where = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, where, ignore=shutil.ignore_patterns("__pycache__"))
    (where / "versions" / "0010_bucket_note.py").write_text(_TEST_REVISION)
    return str(where)


def test_distributed_refuses_a_database_behind_head_and_changes_nothing(
    db_url: str, migrations_next: str
) -> None:
    ensure_schema(db_url, auto_upgrade=False)
    assert current_revision(db_url) == HEAD
    assert head_revision(migrations_next) == "0010"

    with pytest.raises(ConfigurationError) as refused:
        ensure_schema(db_url, auto_upgrade=False, migrations=migrations_next)

    assert refused.value.message == (
        f"database schema is at {HEAD}, this ragline needs 0010: run `ragline db upgrade`"
    )
    assert current_revision(db_url) == HEAD
    assert "note" not in _columns(db_url, "buckets")

    upgrade(db_url, migrations=migrations_next)  # what `ragline db upgrade` does

    assert current_revision(db_url) == "0010"
    assert "note" in _columns(db_url, "buckets")
    ensure_schema(db_url, auto_upgrade=False, migrations=migrations_next)  # now it starts


def test_embedded_migrates_by_itself_and_a_rebuilt_table_keeps_what_references_it(
    tmp_path: Path, migrations_next: str
) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    ensure_schema(url, auto_upgrade=True)
    registry = Registry(url)
    try:
        BucketCatalog(registry.engine).create_bucket("b", ["public"], None, None)
        doc_id = registry.register(
            bucket="b",
            key="doc.txt",
            content_hash="h1",
            size_bytes=3,
            roles=["public"],
            doc_type=None,
            title=None,
        ).document.id
    finally:
        registry.close()

    # 0010 drops and re-creates ``buckets`` on SQLite; with foreign keys enforced
    # during the migration, the drop would cascade into ``documents``.
    ensure_schema(url, auto_upgrade=True, migrations=migrations_next)

    assert current_revision(url) == "0010"
    assert "note" in _columns(url, "buckets")
    registry = Registry(url)
    try:
        assert registry.get(doc_id).key == "doc.txt"
        assert [b.name for b in BucketCatalog(registry.engine).list_buckets()] == ["b"]
    finally:
        registry.close()


@pytest.mark.parametrize("auto_upgrade", [True, False])
def test_a_database_from_a_newer_ragline_is_refused(db_url: str, auto_upgrade: bool) -> None:
    upgrade(db_url)
    _execute(db_url, "UPDATE alembic_version SET version_num = 'ffff'")

    with pytest.raises(ConfigurationError, match="at ffff, which this ragline does not know"):
        ensure_schema(db_url, auto_upgrade=auto_upgrade)
    with pytest.raises(ConfigurationError, match="a newer ragline has migrated it"):
        upgrade(db_url)
    assert current_revision(db_url) == "ffff"


# -- concurrency ------------------------------------------------------------------


_START_TOGETHER = """
import sys, time
from pathlib import Path
from ragline.schema import ensure_schema, upgrade

url, ready, go, how = sys.argv[1:5]
Path(ready).touch()
deadline = time.monotonic() + 300
while not Path(go).exists():
    if time.monotonic() > deadline:
        sys.exit("never told to go")
    time.sleep(0.005)
if how == "upgrade":
    upgrade(url)
else:
    ensure_schema(url, auto_upgrade=how == "embedded")
"""


def test_concurrent_upgrades_from_several_processes_serialize(db_url: str, tmp_path: Path) -> None:
    hows = ["upgrade", "embedded", "distributed", "upgrade", "embedded", "distributed"]
    go = tmp_path / "go"
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _START_TOGETHER,
                db_url,
                str(tmp_path / f"ready-{n}"),
                str(go),
                how,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n, how in enumerate(hows)
    ]
    try:
        _wait_for(lambda: all((tmp_path / f"ready-{n}").exists() for n in range(len(hows))))
        go.touch()
        outcomes = [(child.communicate(timeout=300)[1], child.returncode) for child in children]
    finally:
        for child in children:
            if child.poll() is None:  # only after a failure above
                child.kill()
                child.communicate()

    assert [code for _, code in outcomes] == [0] * len(hows), [err for err, _ in outcomes]
    assert current_revision(db_url) == head_revision()
    assert _differences(db_url) == []
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    finally:
        engine.dispose()
    assert versions == [(head_revision(),)]


def _wait_for(condition: Callable[[], bool], timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the child processes did not start in time"
        time.sleep(0.05)


# -- `ragline db` ------------------------------------------------------------------

FAKE_PASSWORD = "not-the-real-password"


@pytest.fixture
def pg_url_with_password() -> Iterator[str]:
    """A fresh database's URL with a password in it (trust auth ignores it)."""
    with fresh_database() as url:
        yield url.replace("postgres@", f"postgres:{FAKE_PASSWORD}@", 1)


@pytest.fixture
def run_db(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    """Run ``ragline db ARGS`` with RAGLINE_DATABASE_URL=url, as a fresh process would."""
    runner = CliRunner()
    monkeypatch.setenv("RAGLINE_DATA_DIR", str(tmp_path / "data"))

    def run(url: str, *args: str) -> Any:
        monkeypatch.setenv("RAGLINE_DATABASE_URL", url)
        get_settings.cache_clear()
        return runner.invoke(db_app, list(args))

    yield run
    get_settings.cache_clear()


def test_db_current_and_upgrade_on_postgresql(pg_url_with_password: str, run_db: Any) -> None:
    url = pg_url_with_password
    shown = url.replace(FAKE_PASSWORD, "***")

    before = run_db(url, "current")
    first = run_db(url, "upgrade")
    again = run_db(url, "upgrade")
    after = run_db(url, "current")

    assert [r.exit_code for r in (before, first, again, after)] == [0, 0, 0, 0]
    assert before.stdout.strip() == (
        f"Database {shown} is at no revision; this ragline needs {HEAD}: run `ragline db upgrade`."
    )
    assert first.stdout.strip() == f"Database {shown} upgraded from no revision to {HEAD} (head)."
    assert again.stdout.strip() == f"Database {shown} is at {HEAD} (head): nothing to do."
    assert after.stdout.strip() == f"Database {shown} is at {HEAD} (head)."
    assert all(FAKE_PASSWORD not in r.output for r in (before, first, again, after))
    assert current_revision(url) == HEAD
    assert _differences(url) == []


def test_db_upgrade_against_an_unreachable_database_fails_in_one_line(run_db: Any) -> None:
    admin = admin_url()
    url = admin.set(password=FAKE_PASSWORD, port=1, database="nowhere").render_as_string(
        hide_password=False
    )

    result = run_db(url, "upgrade")

    assert result.exit_code == 1
    assert result.stdout == ""
    message = result.stderr.strip()
    assert message.startswith("error: cannot use the database postgresql+psycopg://")
    assert f":***@{admin.host}:1/nowhere" in message
    assert len(message.splitlines()) == 1
    assert FAKE_PASSWORD not in result.output and "Traceback" not in result.output
