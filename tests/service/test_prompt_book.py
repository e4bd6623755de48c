"""The prompt book on real databases: a SQLite file (tables made by ``create_all``, as a
bare engine gets them) and PostgreSQL (tables made by the migrations, as in production).

Versions, labels, rollbacks, splits and the shipped defaults must behave the same on
both, including when several writers race.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from kernel.errors import ConflictError, InvalidInputError, NotFoundError
from prompts.book import PromptBook
from prompts.tables import PromptBase, PromptLabelMoveRow
from ragline.schema import ensure_schema
from tests.postgres_db import fresh_database

pytestmark = pytest.mark.service

BACKENDS = ("sqlite", "postgresql")
SYSTEM = "Answer from the sources only. Today is {{ today }}."
PROMPT_TABLES = set(PromptBase.metadata.tables)
USER = "{% for s in sources %}[{{ s.n }}] {{ s.text }}\n{% endfor %}Question: {{ question }}"


@contextmanager
def _engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    if backend == "postgresql":
        with fresh_database() as url:
            ensure_schema(url, auto_upgrade=True)
            engine = create_engine(url)
            try:
                yield engine
            finally:
                engine.dispose()
    else:
        engine = create_engine(
            f"sqlite:///{tmp_path / 'prompts.db'}",
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with _engine(request.param, tmp_path) as engine:
        yield engine


@pytest.fixture
def book(engine: Engine) -> PromptBook:
    return PromptBook(engine)


def _create(book: PromptBook, name: str = "answer", tag: str = "", **kwargs: object) -> int:
    version = book.create(name, system=SYSTEM + tag, user=USER, **kwargs)  # type: ignore[arg-type]
    return version.version


# -- the tables are the migration's ----------------------------------------------------


def test_the_migrations_build_exactly_the_prompt_models(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":  # the fixture's SQLite file is bare: migrate it
        ensure_schema(engine.url.render_as_string(hide_password=False), auto_upgrade=True)

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_name": lambda name, kind, _parents: (
                    kind != "table" or name in PROMPT_TABLES
                ),
            },
        )
        assert compare_metadata(context, PromptBase.metadata) == []
    assert {
        "prompt_versions",
        "prompt_labels",
        "prompt_label_moves",
        "prompt_splits",
    } == PROMPT_TABLES


# -- versions ---------------------------------------------------------------------------


def test_versions_count_up_per_name_and_never_change(book: PromptBook) -> None:
    first = book.create("answer", system=SYSTEM, user=USER, note="first", by="alice")

    assert [_create(book, tag=" v2"), _create(book, tag=" v3")] == [2, 3]
    assert _create(book, "summary") == 1
    assert first.version == 1 and first.created_at.tzinfo is not None
    again = book.get("answer", 1)
    assert again == first
    assert again.created_at.utcoffset() == UTC.utcoffset(None)
    assert [v.version for v in book.versions("answer")] == [1, 2, 3]
    assert book.get("answer", 3).system == SYSTEM + " v3"
    assert not [m for m in dir(book) if m.startswith(("update", "edit", "delete"))]


def test_unknown_prompts_and_versions_are_not_found(book: PromptBook) -> None:
    _create(book)

    with pytest.raises(NotFoundError, match="prompt 'nope' not found"):
        book.versions("nope")
    with pytest.raises(NotFoundError, match="has no version 9"):
        book.get("answer", 9)


def test_a_refused_prompt_writes_nothing(book: PromptBook) -> None:
    with pytest.raises(InvalidInputError, match="would not see the question"):
        book.create("answer", system="{{ question }}", user="{{ sources }}")
    with pytest.raises(InvalidInputError, match="'oops' is undefined"):
        book.create("answer", system="{{ oops }}", user=USER)
    with pytest.raises(InvalidInputError, match="invalid prompt name"):
        book.create("Answer!", system=SYSTEM, user=USER)
    with pytest.raises(InvalidInputError, match="invalid label"):
        book.create("answer", system=SYSTEM, user=USER, labels=["Prod uction"])

    with pytest.raises(NotFoundError):
        book.versions("answer")
    assert book.names() == []


def test_concurrent_creators_get_distinct_version_numbers(book: PromptBook) -> None:
    _create(book)
    start = threading.Barrier(4)

    def create_three(worker: int) -> list[int]:
        start.wait()
        return [_create(book, tag=f" w{worker} #{i}") for i in range(3)]

    with ThreadPoolExecutor(4) as pool:
        numbers = [n for batch in pool.map(create_three, range(4)) for n in batch]

    assert sorted(numbers) == list(range(2, 14))
    assert [v.version for v in book.versions("answer")] == list(range(1, 14))


# -- labels and rollbacks ---------------------------------------------------------------


def test_labels_move_and_every_move_is_recorded(book: PromptBook, engine: Engine) -> None:
    _create(book, labels=["production", "staging"])
    _create(book, tag=" v2")

    created = book.label("answer", "canary", 2, by="bob")
    moved = book.label("answer", "staging", 2, by="bob")

    assert (created.from_version, created.to_version) == (None, 2)
    assert (moved.from_version, moved.to_version, moved.moved_by) == (1, 2, "bob")
    assert book.labels("answer") == {"canary": 2, "production": 1, "staging": 2}
    with Session(engine) as s:
        history = s.execute(
            select(
                PromptLabelMoveRow.label,
                PromptLabelMoveRow.from_version,
                PromptLabelMoveRow.to_version,
            )
            .where(PromptLabelMoveRow.name == "answer")
            .order_by(PromptLabelMoveRow.id)
        ).all()
    assert [tuple(h) for h in history] == [
        ("production", None, 1),
        ("staging", None, 1),
        ("canary", None, 2),
        ("staging", 1, 2),
    ]


def test_a_label_cannot_point_at_a_version_that_does_not_exist(book: PromptBook) -> None:
    _create(book, labels=["production"])

    with pytest.raises(NotFoundError, match="has no version 7"):
        book.label("answer", "production", 7)
    with pytest.raises(NotFoundError, match="prompt 'nope' not found"):
        book.label("nope", "production", 1)
    assert book.labels("answer") == {"production": 1}


def test_rollback_walks_back_one_step_at_a_time(book: PromptBook) -> None:
    _create(book, labels=["production"])
    _create(book, tag=" v2", labels=["production"])
    _create(book, tag=" v3")
    book.label("answer", "production", 3)

    first = book.rollback("answer", by="carol")
    second = book.rollback("answer")

    assert (first.from_version, first.to_version, first.moved_by) == (3, 2, "carol")
    assert (second.from_version, second.to_version) == (2, 1)
    assert book.labels("answer")["production"] == 1
    with pytest.raises(ConflictError, match="nothing to roll back to"):
        book.rollback("answer")
    assert book.resolve("answer", "any-key").version == 1


def test_rollback_of_a_label_never_moved_or_unknown(book: PromptBook) -> None:
    _create(book, labels=["production"])

    with pytest.raises(ConflictError, match="nothing to roll back to"):
        book.rollback("answer")
    with pytest.raises(NotFoundError, match="no label 'staging'"):
        book.rollback("answer", "staging")
    with pytest.raises(NotFoundError, match="prompt 'nope' not found"):
        book.rollback("nope")


# -- serving and splits -----------------------------------------------------------------


def test_resolve_serves_production_without_a_split(book: PromptBook) -> None:
    _create(book)
    with pytest.raises(NotFoundError, match="no 'production' label"):
        book.resolve("answer", "key-1")
    with pytest.raises(NotFoundError, match="prompt 'nope' not found"):
        book.resolve("nope", "key-1")

    _create(book, tag=" v2", labels=["production"])
    resolved = book.resolve("answer", "key-1")

    assert (resolved.version, resolved.label, resolved.system) == (2, "production", SYSTEM + " v2")


def test_split_is_validated(book: PromptBook) -> None:
    _create(book, labels=["production"])
    _create(book, tag=" v2", labels=["staging"])

    for weights, message in [
        ({"production": 100}, "at least two labels"),
        ({"production": 90, "staging": 20}, "sum to 100, not 110"),
        ({"production": 100, "staging": 0}, "positive whole percent"),
        ({"production": 110, "staging": -10}, "positive whole percent"),
        ({"production": 50, "Staging!": 50}, "invalid label"),
    ]:
        with pytest.raises(InvalidInputError, match=message):
            book.set_split("answer", weights)
    with pytest.raises(NotFoundError, match="no label 'canary'"):
        book.set_split("answer", {"production": 50, "canary": 50})
    with pytest.raises(NotFoundError, match="prompt 'nope' not found"):
        book.set_split("nope", {"production": 50, "staging": 50})
    assert book.split("answer") is None


def test_split_is_sticky_per_key_and_close_to_its_weights(book: PromptBook) -> None:
    _create(book, labels=["production"])
    _create(book, tag=" v2", labels=["staging"])
    assert book.set_split("answer", {"staging": 10, "production": 90}) == {
        "production": 90,
        "staging": 10,
    }

    picks = {f"key-{i}": book.resolve("answer", f"key-{i}") for i in range(2000)}
    again = {key: book.resolve("answer", key) for key in list(picks)[:200]}
    counts = Counter(p.label for p in picks.values())

    assert all(again[key] == picks[key] for key in again)
    assert 160 <= counts["staging"] <= 240, counts  # 8-12 % of 2,000
    assert counts["production"] + counts["staging"] == 2000
    assert {p.version for p in picks.values() if p.label == "staging"} == {2}
    assert book.names()[0].split == {"production": 90, "staging": 10}

    assert book.clear_split("answer") is True
    assert book.clear_split("answer") is False
    assert {book.resolve("answer", key).label for key in list(picks)[:100]} == {"production"}


def test_names_summarise_every_prompt(book: PromptBook) -> None:
    _create(book, labels=["production"])
    _create(book, tag=" v2", labels=["staging"])
    _create(book, "summary", labels=["production"])

    summaries = book.names()

    assert [(s.name, s.latest_version, s.labels, s.split) for s in summaries] == [
        ("answer", 2, {"production": 1, "staging": 2}, None),
        ("summary", 1, {"production": 1}, None),
    ]


# -- shipped defaults -------------------------------------------------------------------


def test_ensure_defaults_loads_the_shipped_answer_prompt_once(book: PromptBook) -> None:
    assert book.ensure_defaults() == ["answer"]
    assert book.ensure_defaults() == []

    (v1,) = book.versions("answer")
    assert (v1.version, v1.created_by) == (1, "ragline")
    assert book.labels("answer") == {"production": 1}
    assert "I could not find this in the documents you can access." in v1.system
    resolved = book.resolve("answer", "key")
    assert (resolved.version, resolved.label) == (1, "production")


def test_ensure_defaults_leaves_a_prompt_that_has_versions_alone(
    book: PromptBook, tmp_path: Path
) -> None:
    _create(book, labels=["production"])
    folder = tmp_path / "defaults"
    folder.mkdir()
    (folder / "answer.yaml").write_text(f"name: answer\nsystem: '{SYSTEM} x'\nuser: '{USER}'\n")
    (folder / "summary.yaml").write_text(
        f"name: summary\nsystem: '{SYSTEM}'\nuser: '{USER}'\nnote: shipped\n"
    )

    assert book.ensure_defaults(folder) == ["summary"]
    assert [v.system for v in book.versions("answer")] == [SYSTEM]
    assert book.get("summary", 1).note == "shipped"


def test_two_processes_loading_the_defaults_at_once_make_one_version(engine: Engine) -> None:
    books = [PromptBook(engine) for _ in range(4)]
    start = threading.Barrier(len(books))

    def load(book: PromptBook) -> list[str]:
        start.wait()
        return book.ensure_defaults()

    with ThreadPoolExecutor(len(books)) as pool:
        loaded = list(pool.map(load, books))

    assert sorted(name for names in loaded for name in names) == ["answer"]
    assert [v.version for v in books[0].versions("answer")] == [1]
    assert books[0].labels("answer") == {"production": 1}
