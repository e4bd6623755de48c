"""The gate's memory: fresh answers while the registry answers, remembered ones only while
it is down, never older than the TTL, never for a document it did not see."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from ingest.records import ServedDocument
from kernel.errors import DependencyUnavailableError
from retrieval.served_memory import ServedMemory

pytestmark = pytest.mark.unit

PUBLIC = ServedDocument(1, frozenset({"public"}))
HR = ServedDocument(3, frozenset({"hr"}))


class Registry:
    """The registry's ``served`` with a switch: answers from ``rows`` or is down."""

    def __init__(self) -> None:
        self.rows: dict[str, ServedDocument] = {"a": PUBLIC, "b": HR}
        self.down = False
        self.asked: list[list[str]] = []

    def served(self, ids: Iterable[str]) -> dict[str, ServedDocument]:
        wanted = list(ids)
        self.asked.append(wanted)
        if self.down:
            raise DependencyUnavailableError("The database is unavailable; try again shortly.")
        return {i: self.rows[i] for i in wanted if i in self.rows}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def registry() -> Registry:
    return Registry()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_while_the_registry_answers_its_answer_is_used_fresh(
    registry: Registry, clock: Clock
) -> None:
    memory = ServedMemory(registry.served, ttl_s=60, clock=clock)
    assert memory(["a", "b", "zz"]) == {"a": PUBLIC, "b": HR}
    narrowed = ServedDocument(2, frozenset({"hr"}))
    registry.rows["a"] = narrowed
    del registry.rows["b"]
    assert memory(["a", "b"]) == {"a": narrowed}  # the registry's present, not the memory
    assert memory.fallbacks == 0
    assert registry.asked == [["a", "b", "zz"], ["a", "b"]]


def test_with_the_registry_down_the_last_answers_are_used(registry: Registry, clock: Clock) -> None:
    memory = ServedMemory(registry.served, ttl_s=60, clock=clock)
    memory(["a", "b", "gone"])
    registry.rows["a"] = ServedDocument(9, frozenset({"eng"}))  # never seen by the memory
    registry.down = True
    clock.now += 59
    assert memory(["a", "b", "gone"]) == {"a": PUBLIC, "b": HR}
    assert memory.fallbacks == 1


def test_a_document_not_served_when_last_seen_stays_unserved(
    registry: Registry, clock: Clock
) -> None:
    memory = ServedMemory(registry.served, ttl_s=60, clock=clock)
    memory(["a", "gone"])
    registry.down = True
    assert memory(["gone"]) == {}


def test_unknown_documents_are_not_served_from_memory(registry: Registry, clock: Clock) -> None:
    memory = ServedMemory(registry.served, ttl_s=60, clock=clock)
    memory(["a"])
    registry.down = True
    assert memory(["a", "b"]) == {"a": PUBLIC}  # b was never seen: denied


def test_when_no_document_is_known_the_outage_is_raised(registry: Registry, clock: Clock) -> None:
    memory = ServedMemory(registry.served, ttl_s=60, clock=clock)
    memory(["a"])
    registry.down = True
    with pytest.raises(DependencyUnavailableError, match="database is unavailable"):
        memory(["b"])
    assert memory.fallbacks == 0


def test_answers_older_than_the_ttl_are_forgotten(registry: Registry, clock: Clock) -> None:
    memory = ServedMemory(registry.served, ttl_s=60, clock=clock)
    memory(["a"])
    clock.now += 30
    memory(["b"])
    registry.down = True
    clock.now += 31  # a: 61 s old, b: 31 s old
    assert memory(["a", "b"]) == {"b": HR}
    assert memory.usable()
    clock.now += 30  # b: 61 s old
    with pytest.raises(DependencyUnavailableError):
        memory(["a", "b"])
    assert not memory.usable()


def test_usable_needs_a_recent_served_document(registry: Registry, clock: Clock) -> None:
    memory = ServedMemory(registry.served, ttl_s=60, clock=clock)
    assert not memory.usable()
    memory(["gone"])  # remembered as not served: nothing to answer from
    assert not memory.usable()
    memory(["a"])
    memory(["gone"])  # the newest entry is a negative one; an older positive still counts
    assert memory.usable()


def test_the_memory_is_bounded_least_recently_answered_first(
    registry: Registry, clock: Clock
) -> None:
    registry.rows.update({"c": PUBLIC, "d": PUBLIC})
    memory = ServedMemory(registry.served, ttl_s=60, max_documents=2, clock=clock)
    memory(["a"])
    memory(["b"])
    memory(["a"])  # a is now the most recent
    memory(["c"])  # evicts b
    registry.down = True
    assert memory(["a", "b", "c"]) == {"a": PUBLIC, "c": PUBLIC}


def test_a_ttl_of_zero_turns_the_memory_off(registry: Registry, clock: Clock) -> None:
    memory = ServedMemory(registry.served, ttl_s=0, clock=clock)
    memory(["a"])
    registry.down = True
    with pytest.raises(DependencyUnavailableError):
        memory(["a"])


def test_other_registry_errors_are_never_answered_from_memory(clock: Clock) -> None:
    calls = 0

    def broken(ids: Iterable[str]) -> dict[str, ServedDocument]:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise RuntimeError("a bug, not an outage")
        return dict.fromkeys(ids, PUBLIC)

    memory = ServedMemory(broken, ttl_s=60, clock=clock)
    memory(["a"])
    with pytest.raises(RuntimeError):
        memory(["a"])


@pytest.mark.parametrize(("ttl_s", "size"), [(-1, 10), (10, 0)])
def test_settings_are_checked(registry: Registry, ttl_s: float, size: int) -> None:
    with pytest.raises(ValueError):
        ServedMemory(registry.served, ttl_s=ttl_s, max_documents=size)
