"""Releases' housekeeping and operations signals, on a SQLite file and on PostgreSQL.

- The answer counts (``release_tallies``) of releases that ended long enough ago are
  deleted by the controller, in bounded batches, never a staged or current release's.
- Two processes starting two releases at the same instant: exactly one is staged, the
  other is refused (409), on SQLite as on PostgreSQL.
- What Prometheus scrapes of releases: the staged release's stage, every rollback
  (whichever process decided it), and answers per release and arm from the router.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from governance.audit_log import AuditLog
from governance.audit_port import Actor
from ingest.registry import Registry
from kernel.errors import ConflictError
from kernel.settings import ReleaseSettings
from observability.metrics import Metrics
from observability.release_metrics import ReleaseMetrics
from prompts.book import PromptBook
from ragline.metrics_collectors import ReleaseRollbacks, ReleaseStage
from releases.book import ReleaseBook
from releases.model import known_routes
from releases.router import ReleaseRouter
from releases.service import ReleaseService
from releases.tables import ReleaseTallyRow
from releases.tally import Stats, Tally
from retrieval.access import Principal
from tests.postgres_db import database_url

pytestmark = pytest.mark.service

ADMIN = Actor(key_id="key-admin", team="ops", identity="admin")
ROUTES = known_routes([("primary", "frontier"), ("backup", "fast")])
RETENTION_S = 3600.0
SETTINGS = ReleaseSettings(
    hold_s=0, hold_requests=5, min_requests=5, cache_s=60, tally_retention_s=RETENTION_S
)


class World:
    """One process's view: the production engine (``Registry``) and the release rooms on it."""

    def __init__(self, url: str, *, metrics: Metrics | None = None) -> None:
        self.registry = Registry(url)
        engine = self.registry.engine
        self.engine: Engine = engine
        self.audit = AuditLog(engine)
        self.prompts = PromptBook(engine)
        self.prompts.ensure_defaults()
        self.book = ReleaseBook(engine)
        self.tally = Tally()
        observer = ReleaseMetrics(metrics) if metrics is not None else None
        self.router = ReleaseRouter(
            self.book, SETTINGS, self.prompts, self.tally, observer=observer
        )
        self.service = ReleaseService(
            self.book, SETTINGS, self.audit, self.prompts, ROUTES,
            tally=self.tally, on_change=self.router.invalidate,
        )  # fmt: skip

    def create(self, route: str = "primary") -> str:
        return self.service.create(
            prompt_name="answer", prompt_version=1, route=route, settings={}, actor=ADMIN
        ).id

    def rows(self, epoch: str, arm: str) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.scalar(
                    select(func.count())
                    .select_from(ReleaseTallyRow)
                    .where(ReleaseTallyRow.epoch == epoch, ReleaseTallyRow.arm == arm)
                )
                or 0
            )

    def counts(self, epoch: str, arm: str, flushes: int = 1) -> None:
        """``flushes`` rows of answers of ``arm`` in ``epoch``, as that many flushes write."""
        for _ in range(flushes):
            self.book.add_tallies({(epoch, arm): Stats(requests=1)})

    def close(self) -> None:
        self.registry.close()


@contextmanager
def _world(backend: str, tmp_path: Path, **kwargs: Any) -> Iterator[World]:
    with database_url(backend, tmp_path) as url:
        world = World(url, **kwargs)
        try:
            yield world
        finally:
            world.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _after_retention(release_ended: datetime | None) -> datetime:
    assert release_ended is not None
    return release_ended + timedelta(seconds=RETENTION_S + 1)


# -- purging the counts of releases that ended ---------------------------------------


def test_counts_of_ended_releases_go_after_the_retention_and_live_ones_never(
    backend: str, tmp_path: Path
) -> None:
    with _world(backend, tmp_path) as w:
        # rel-1: started, counted, rolled back by hand.
        first = w.create()
        w.service.start(first, ADMIN)
        w.counts(f"{first}@5", first, 2)
        w.counts(f"{first}@5", "baseline", 2)
        w.service.rollback(first, ADMIN, reason="wrong prompt")
        # rel-2: counted at every stage, now current.
        second = w.create()
        w.service.start(second, ADMIN)
        w.counts(f"{second}@5", second)
        w.counts(f"{second}@5", "baseline")
        w.service.promote(second, ADMIN, force=True)
        w.counts(f"{second}@25", second)
        w.service.promote(second, ADMIN, force=True)
        # rel-3: staged, judged against rel-2.
        third = w.create(route="backup")
        w.service.start(third, ADMIN)
        w.counts(f"{third}@5", third)
        w.counts(f"{third}@5", second)
        ended = w.book.get(first).ended_at

        # Within the retention nothing goes.
        assert w.service.purge_tallies(datetime.now(UTC)) == 0
        assert w.rows(f"{first}@5", first) == 2
        # After it, rel-1's stage goes (its own answers and the baseline's beside them);
        # the current's and the staged's stay.
        assert w.service.purge_tallies(_after_retention(ended)) == 4
        assert (w.rows(f"{first}@5", first), w.rows(f"{first}@5", "baseline")) == (0, 0)
        assert w.rows(f"{second}@5", second) == w.rows(f"{second}@25", second) == 1
        assert w.rows(f"{third}@5", third) == w.rows(f"{third}@5", second) == 1

        # rel-3 becomes current: rel-2 is superseded, and its stages go in time, except
        # nothing of rel-3 (current) is touched, nor rel-2's answers in rel-3's stages.
        w.service.promote(third, ADMIN, force=True)
        w.service.promote(third, ADMIN, force=True)
        superseded = w.book.get(second)
        assert superseded.status == "superseded"
        assert w.service.purge_tallies(_after_retention(superseded.ended_at)) == 3
        assert w.rows(f"{second}@5", second) == w.rows(f"{second}@25", second) == 0
        assert w.rows(f"{third}@5", third) == w.rows(f"{third}@5", second) == 1

        # rel-3 rolled back: rel-2 is current again (reinstated). rel-3's stage goes,
        # but never the answers rel-2 (current) gave in it.
        w.service.rollback(third, ADMIN, reason="answers too short")
        assert w.book.get(second).status == "current"
        ended = w.book.get(third).ended_at
        assert w.service.purge_tallies(_after_retention(ended)) == 1
        assert (w.rows(f"{third}@5", third), w.rows(f"{third}@5", second)) == (0, 1)


def test_the_purge_goes_in_bounded_batches_and_the_controller_tick_runs_it(
    backend: str, tmp_path: Path
) -> None:
    with _world(backend, tmp_path) as w:
        first = w.create()
        w.service.start(first, ADMIN)
        w.counts(f"{first}@5", first, 7)
        w.service.rollback(first, ADMIN)
        later = _after_retention(w.book.get(first).ended_at)
        # Three rows per transaction, two transactions: six now, the last one next time.
        assert w.book.purge_tallies(later - timedelta(seconds=1), batch=3, max_batches=2) == 6
        assert w.rows(f"{first}@5", first) == 1
        # The controller's tick purges too (with no release staged, it decides nothing).
        assert w.service.tick(later) == []
        assert w.rows(f"{first}@5", first) == 0


# -- starting two releases at the same instant ---------------------------------------


def test_two_processes_starting_two_releases_at_once_stage_exactly_one(
    backend: str, tmp_path: Path
) -> None:
    with database_url(backend, tmp_path) as url:
        # Two processes: each its own engine, its own connections, its own services.
        one, two = World(url), World(url)
        try:
            for round_ in range(8):
                drafts = [one.create(), one.create()]
                barrier = threading.Barrier(2)
                won: list[str] = []
                refused: list[str] = []

                def start(world: World, ident: str, barrier: threading.Barrier = barrier,
                          won: list[str] = won, refused: list[str] = refused) -> None:  # fmt: skip
                    barrier.wait()
                    try:
                        won.append(world.service.start(ident, ADMIN).id)
                    except ConflictError as exc:
                        refused.append(str(exc))

                threads = [
                    threading.Thread(target=start, args=(world, ident))
                    for world, ident in zip((one, two), drafts, strict=True)
                ]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(60)
                assert len(won) == 1 and len(refused) == 1, (round_, won, refused)
                assert "is being rolled out" in refused[0]
                _, staged = one.book.active()
                assert staged is not None and staged.id == won[0]
                one.service.rollback(won[0], ADMIN, reason="next round")
        finally:
            one.close()
            two.close()


# -- what Prometheus scrapes ---------------------------------------------------------


def _scrape(*collectors: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    registry = CollectorRegistry(auto_describe=True)
    for collector in collectors:
        registry.register(collector)
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in registry.collect()
        for s in family.samples
        if not s.name.endswith("_created")
    }


def test_the_stage_and_the_rollbacks_are_read_from_the_database(
    backend: str, tmp_path: Path
) -> None:
    with _world(backend, tmp_path) as w:
        stage, rollbacks = ReleaseStage(w.book), ReleaseRollbacks(w.book)
        # Before any rollback both counters are there at 0 (increase() sees the first).
        assert _scrape(stage, rollbacks) == {
            ("ragline_release_rollbacks_total", (("automatic", "true"),)): 0,
            ("ragline_release_rollbacks_total", (("automatic", "false"),)): 0,
        }
        first = w.create()
        w.service.start(first, ADMIN)
        w.service.promote(first, ADMIN, force=True)
        assert _scrape(stage)[("ragline_release_stage_percent", (("release", first),))] == 25
        w.service.rollback(first, ADMIN)
        # A rollback the controller decided, in another process (another engine).
        other = World(str(w.engine.url.render_as_string(hide_password=False)))
        try:
            bad = other.create()
            other.service.start(bad, ADMIN)
            for n in range(400):
                a = other.router.assign(Principal(key_id=f"key-{n}", roles=frozenset()))
                assert a is not None
                other.router.count(a, error=a.release_id == bad, latency_s=0.05)
            assert other.service.tick()[0].startswith(f"{bad} rolled back")
        finally:
            other.close()
        assert _scrape(stage, rollbacks) == {
            ("ragline_release_rollbacks_total", (("automatic", "true"),)): 1,
            ("ragline_release_rollbacks_total", (("automatic", "false"),)): 1,
        }


def test_with_the_database_gone_the_release_families_are_absent_not_zero(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'gone.db'}"
    w = World(url)
    try:
        first = w.create()
        w.service.start(first, ADMIN)
        stage, rollbacks = ReleaseStage(w.book), ReleaseRollbacks(w.book)
        assert len(_scrape(stage, rollbacks)) == 3
        w.engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            (tmp_path / f"gone.db{suffix}").unlink(missing_ok=True)
        assert _scrape(stage, rollbacks) == {}
    finally:
        w.close()


def test_the_router_counts_answers_per_release_arm_and_outcome(tmp_path: Path) -> None:
    metrics = Metrics()
    with _world("sqlite", tmp_path, metrics=metrics) as w:
        first = w.create()
        w.service.start(first, ADMIN)
        w.service.promote(first, ADMIN, force=True)  # 25%
        seen: dict[tuple[str, str], int] = {}
        for n in range(200):
            a = w.router.assign(Principal(key_id=f"key-{n}", roles=frozenset()))
            assert a is not None
            w.router.count(a, error=n % 10 == 0, degraded=n % 10 == 1, abstained=n % 10 == 2)
            seen[(a.tally_as, a.arm)] = seen.get((a.tally_as, a.arm), 0) + 1
        counter = metrics.release_answers
        got: dict[tuple[str, str], float] = {}
        by_outcome: dict[str, float] = {}
        for family in counter.collect():
            for s in family.samples:
                if s.name.endswith("_total"):
                    key = (s.labels["release"], s.labels["arm"])
                    got[key] = got.get(key, 0) + s.value
                    outcome = s.labels["outcome"]
                    by_outcome[outcome] = by_outcome.get(outcome, 0) + s.value
        assert got == seen
        assert set(seen) == {(first, "candidate"), ("baseline", "current")}
        assert by_outcome == {"error": 20, "degraded": 20, "abstained": 20, "answered": 140}
