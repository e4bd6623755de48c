"""The release lifecycle as pure rules: which move is legal from where, and where it leads.

draft -> start (the first stage) -> each next stage -> 100 %: current (the previous
current is superseded). A staged release can be rolled back at any stage (0 %,
``rolled_back``, with a reason); so can the current one, which hands traffic back to
the release that was current before it (or to the service's own settings). Anything
else is a conflict (409), named with what the release is now.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from kernel.errors import ConflictError
from releases.model import Release

Move = Literal["start", "advance", "rollback"]


def check_move(release: Release, move: Move) -> None:
    """Raise :class:`ConflictError` unless ``move`` is legal for ``release`` now."""
    allowed = {
        "start": ("draft",),
        "advance": ("staged",),
        "rollback": ("staged", "current"),
    }[move]
    if release.status not in allowed:
        raise ConflictError(
            f"release {release.id} is {release.status}: it cannot {_verb(move)} "
            f"(only a {' or '.join(allowed)} release can)"
        )


def first_stage(stages: Sequence[int]) -> int:
    return stages[0]


def next_stage(stages: Sequence[int], percent: int) -> int:
    """The stage after ``percent``: the first one above it (100 is the last)."""
    for stage in stages:
        if stage > percent:
            return stage
    return 100


def becomes_current(percent: int) -> bool:
    return percent >= 100


def _verb(move: Move) -> str:
    return {"start": "be started", "advance": "be promoted", "rollback": "be rolled back"}[move]
