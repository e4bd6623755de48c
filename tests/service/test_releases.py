"""Releases on real databases: a SQLite file (tables by ``create_all``) and PostgreSQL
(tables by the migrations, as in production).

The lifecycle, the gates judged from counters written to the database, the
controller's automatic rollback and advance, and every decision in the audit log.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from governance.audit_log import AuditLog
from governance.audit_port import Actor, AuditFilter
from kernel.errors import ConflictError, InvalidInputError, NotFoundError
from kernel.settings import ReleaseSettings
from prompts.book import PromptBook
from ragline.schema import ensure_schema
from releases.assignment import takes_candidate
from releases.book import ReleaseBook
from releases.model import known_routes
from releases.router import ReleaseRouter
from releases.service import ReleaseService
from releases.tally import Tally
from retrieval.access import Principal
from tests.postgres_db import fresh_database

pytestmark = pytest.mark.service

BACKENDS = ("sqlite", "postgresql")
ADMIN = Actor(key_id="key-admin", team="ops", identity="admin")
ROUTES = known_routes([("primary", "frontier"), ("flaky", "frontier"), ("backup", "fast")])
SETTINGS = ReleaseSettings(hold_s=0, hold_requests=5, min_requests=5, cache_s=60)


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
        engine = create_engine(f"sqlite:///{tmp_path / 'releases.db'}")
        try:
            yield engine
        finally:
            engine.dispose()


class World:
    def __init__(self, engine: Engine, settings: ReleaseSettings = SETTINGS) -> None:
        self.audit = AuditLog(engine)
        self.prompts = PromptBook(engine)
        self.prompts.ensure_defaults()
        self.book = ReleaseBook(engine)
        self.tally = Tally()
        self.router = ReleaseRouter(self.book, settings, self.prompts, self.tally)
        self.service = ReleaseService(
            self.book, settings, self.audit, self.prompts, ROUTES,
            tally=self.tally, on_change=self.router.invalidate,
        )  # fmt: skip

    def create(self, route: str = "primary", **settings: object) -> str:
        return self.service.create(
            prompt_name="answer", prompt_version=1, route=route, settings=dict(settings),
            actor=ADMIN,
        ).id  # fmt: skip

    def traffic(self, keys: int = 400, *, bad_release: str | None = None) -> None:
        """Requests from ``keys`` callers; ``bad_release``'s answers come back degraded."""
        for n in range(keys):
            caller = Principal(key_id=f"key-{n}", roles=frozenset({"public"}))
            assignment = self.router.assign(caller)
            assert assignment is not None
            bad = assignment.release_id == bad_release
            self.router.count(assignment, error=False, degraded=bad, grounding=0.9,
                              latency_s=0.05)  # fmt: skip

    def actions(self) -> list[tuple[str, str | None, dict[str, object]]]:
        page = self.audit.query(AuditFilter(kind="event"), limit=1000)
        return [
            (e.action, e.target, e.details or {})
            for e in page.entries
            if e.action.startswith("release.")
        ]


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with _engine(request.param, tmp_path) as engine:
        yield World(engine)


def test_a_bundle_naming_an_unknown_prompt_version_route_or_setting_is_refused(
    world: World,
) -> None:
    with pytest.raises(InvalidInputError, match="no version 9"):
        world.service.create(prompt_name="answer", prompt_version=9, route="primary",
                             settings={}, actor=ADMIN)  # fmt: skip
    with pytest.raises(InvalidInputError, match="unknown route 'nowhere'"):
        world.create(route="nowhere")
    with pytest.raises(InvalidInputError, match="top_k"):
        world.create(top_k=0)
    with pytest.raises(NotFoundError):
        world.service.start("rel-77", ADMIN)
    assert world.book.recent() == []


def test_the_lifecycle_moves_only_forward_and_records_every_decision(world: World) -> None:
    first = world.create(top_k=8, fusion="rrf")
    release = world.book.get(first)
    assert (release.status, release.stage_percent, release.version) == ("draft", 0, 1)
    assert release.bundle.settings == {"top_k": 8, "fusion": "rrf"}
    with pytest.raises(ConflictError, match="is draft"):
        world.service.promote(first, ADMIN)
    staged = world.service.start(first, ADMIN)
    assert (staged.status, staged.stage_percent) == ("staged", 5)
    with pytest.raises(ConflictError, match="is staged"):
        world.service.start(first, ADMIN)
    second = world.create(route="backup")
    with pytest.raises(ConflictError, match=f"{first} is being rolled out"):
        world.service.start(second, ADMIN)
    # Too few answers: a promotion waits, unless forced.
    with pytest.raises(ConflictError, match="fewer than the 5"):
        world.service.promote(first, ADMIN)
    forced = world.service.promote(first, ADMIN, force=True).release
    assert forced.stage_percent == 25
    rolled = world.service.rollback(first, ADMIN, reason="wrong top_k")
    assert (rolled.status, rolled.stage_percent, rolled.reason) == ("rolled_back", 0, "wrong top_k")
    with pytest.raises(ConflictError, match="is rolled_back"):
        world.service.rollback(first, ADMIN)
    assert [(a, t) for a, t, _ in world.actions()] == [
        ("release.create", first),
        ("release.start", first),
        ("release.create", second),
        ("release.promote", first),
        ("release.rollback", first),
    ]
    promote = world.actions()[3][2]
    assert promote["forced"] is True and promote["to_percent"] == 25
    assert [e.action for e in world.book.events(first)] == [
        "create", "start", "promote", "rollback",
    ]  # fmt: skip


def test_a_failing_gate_rolls_the_candidate_back_and_its_callers_return(world: World) -> None:
    bad = world.create(route="flaky")
    world.service.start(bad, ADMIN)
    world.traffic(bad_release=bad)
    decisions = world.service.tick()  # it writes this process's counts, then judges
    assert len(decisions) == 1 and decisions[0].startswith(f"{bad} rolled back: gate failed")
    release = world.book.get(bad)
    assert release.status == "rolled_back"
    assert release.reason is not None and release.reason.startswith("gate failed: degraded_rate")
    action, target, details = world.actions()[-1]
    assert (action, target) == ("release.rollback", bad)
    assert details["automatic"] is True and details["traffic_to"] == "baseline"
    failed = details["failed_gates"]
    assert isinstance(failed, list) and failed[0]["name"] == "degraded_rate"
    assert failed[0]["candidate"] == 1.0 and failed[0]["current"] == 0.0
    # Every caller is back on the service's own settings.
    for n in range(100):
        a = world.router.assign(Principal(key_id=f"key-{n}", roles=frozenset()))
        assert a is None


def test_a_healthy_release_advances_5_25_100_and_supersedes_the_current(world: World) -> None:
    first = world.create()
    world.service.start(first, ADMIN)
    decisions: list[str] = []
    for _ in range(3):
        world.traffic()
        decisions += world.service.tick()
    assert decisions == [f"{first} advanced to 25%", f"{first} advanced to 100%"]
    assert world.book.get(first).status == "current"
    assert [a for a, _, _ in world.actions()] == [
        "release.create", "release.start", "release.advance", "release.advance",
    ]  # fmt: skip
    # The next release is judged against this one, and replaces it at 100%.
    second = world.create(route="backup")
    world.service.start(second, ADMIN)
    callers = [Principal(key_id=f"key-{n}", roles=frozenset()) for n in range(400)]
    picked = [world.router.assign(c) for c in callers]
    on_second = [p for p in picked if p is not None and p.release_id == second]
    expected = [c for c in callers if takes_candidate(second, c.key_id, 5)]
    assert len(on_second) == len(expected) and 0 < len(on_second) < 60
    assert all(p is not None and p.release_id in (first, second) for p in picked)
    world.service.promote(second, ADMIN, force=True)
    world.service.promote(second, ADMIN, force=True)
    assert world.book.get(first).status == "superseded"
    assert world.book.get(second).status == "current"
    # Rolling the current release back reinstates the one before it.
    world.service.rollback(second, ADMIN, reason="answers too short")
    assert world.book.get(first).status == "current"
    assert world.service.current() is not None and world.service.current().id == first  # type: ignore[union-attr]
    assert world.actions()[-1][2]["traffic_to"] == first


def test_a_stage_is_held_for_its_time_before_it_advances(tmp_path: Path) -> None:
    with _engine("sqlite", tmp_path) as engine:
        held = World(engine, SETTINGS.model_copy(update={"hold_s": 600}))
        first = held.create()
        held.service.start(first, ADMIN)
        held.traffic()
        assert held.service.tick() == []
        later = datetime.now(UTC) + timedelta(seconds=601)
        assert held.service.tick(later) == [f"{first} advanced to 25%"]


def test_the_status_shows_the_window_numbers_on_both_sides(world: World) -> None:
    first = world.create()
    world.service.start(first, ADMIN)
    world.traffic()
    status = world.service.status(first)
    assert status.epoch == f"{first}@5" and status.current_id == "baseline"
    assert status.candidate is not None and status.current is not None
    assert status.candidate.requests + status.current.requests == 400
    assert 0 < status.candidate.requests < 60
    assert {g.name for g in status.gates} >= {"requests", "degraded_rate", "mean_grounding"}
    assert all(g.passed for g in status.gates)


def test_with_sticky_teams_every_key_of_a_team_gets_the_same_release(tmp_path: Path) -> None:
    with _engine("sqlite", tmp_path) as engine:
        teams = World(engine, SETTINGS.model_copy(update={"sticky": "team"}))
        first = teams.create()
        teams.service.start(first, ADMIN)
        teams.service.promote(first, ADMIN, force=True)  # 25%: some teams in, most out
        for team in (f"team-{n}" for n in range(40)):
            picked = {
                a.release_id
                for k in range(10)
                if (a := teams.router.assign(Principal(f"key-{k}", frozenset(), team=team)))
            }
            assert len(picked) == 1
            assert (first in picked) == takes_candidate(first, team, 25)
