"""The release lifecycle: legal moves, the stage after each, and what conflicts (409)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kernel.errors import ConflictError, InvalidInputError
from kernel.settings import ReleaseSettings
from releases.model import Bundle, Release, check_overrides, known_routes, parse_release_id
from releases.stages import becomes_current, check_move, first_stage, next_stage

pytestmark = pytest.mark.unit


def _release(status: str, percent: int = 0) -> Release:
    return Release(
        id="rel-1",
        version=1,
        status=status,  # type: ignore[arg-type]
        stage_percent=percent,
        bundle=Bundle("answer", 1, "extractive"),
        note=None,
        created_at=datetime.now(UTC),
        created_by="admin",
        stage_started_at=None,
        ended_at=None,
        reason=None,
    )


def test_stages_run_5_25_100_and_the_last_makes_it_current() -> None:
    stages = ReleaseSettings().stages
    assert stages == [5, 25, 100]
    assert first_stage(stages) == 5
    assert next_stage(stages, 5) == 25
    assert next_stage(stages, 25) == 100
    assert not becomes_current(25) and becomes_current(100)


@pytest.mark.parametrize(
    ("status", "move", "legal"),
    [
        ("draft", "start", True),
        ("draft", "advance", False),
        ("draft", "rollback", False),
        ("staged", "start", False),
        ("staged", "advance", True),
        ("staged", "rollback", True),
        ("current", "advance", False),
        ("current", "rollback", True),
        ("rolled_back", "start", False),
        ("rolled_back", "advance", False),
        ("rolled_back", "rollback", False),
        ("superseded", "rollback", False),
    ],
)
def test_only_legal_moves_pass(status: str, move: str, legal: bool) -> None:
    release = _release(status, 5 if status == "staged" else 0)
    if legal:
        check_move(release, move)  # type: ignore[arg-type]
    else:
        with pytest.raises(ConflictError, match=f"is {status}"):
            check_move(release, move)  # type: ignore[arg-type]


@pytest.mark.parametrize("stages", [[25, 5, 100], [5, 25], [0, 100], [5, 5, 100], [5, 150]])
def test_stages_must_rise_to_100(stages: list[int]) -> None:
    with pytest.raises(ValueError, match="stage"):
        ReleaseSettings(stages=stages)


def test_overrides_keep_the_settings_own_constraints() -> None:
    assert check_overrides({"top_k": 8, "fusion": "rrf", "min_grounding": 0.7}) == {
        "top_k": 8,
        "fusion": "rrf",
        "min_grounding": 0.7,
    }
    for bad in ({"top_k": 0}, {"top_k": 51}, {"dense_weight": 1.5}, {"fusion": "max"},
                {"min_relevance": -0.1}, {"prefetch_limit": 10}):  # fmt: skip
        with pytest.raises(InvalidInputError, match="invalid release settings"):
            check_overrides(bad)


def test_routes_are_extractive_the_tiers_in_use_and_the_deployments() -> None:
    assert known_routes(None) == {"extractive"}
    assert known_routes([("primary", "frontier"), ("backup", "fast")]) == {
        "extractive", "primary", "backup", "frontier", "fast",
    }  # fmt: skip


def test_release_ids_read_with_or_without_their_prefix() -> None:
    assert parse_release_id("rel-3") == 3
    assert parse_release_id("3") == 3
    assert parse_release_id("rel-x") is None
    assert parse_release_id("../etc") is None
