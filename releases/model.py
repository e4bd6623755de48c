"""What a release is: an immutable bundle of what changes answers, and where it stands.

A release pins the prompt version, the model route and a few retrieval and answer
settings, so that changing answers is a deploy of data with a staged rollout and a
way back, never a code change. Its bundle is written once; only its status and stage
move (``releases.stages`` says how).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from kernel.errors import InvalidInputError
from kernel.settings import AnswerSettings, RetrievalSettings

Status = Literal["draft", "staged", "current", "rolled_back", "superseded"]
STATUSES: tuple[Status, ...] = ("draft", "staged", "current", "rolled_back", "superseded")
# The route that answers without any model: extractive answers only.
EXTRACTIVE_ROUTE = "extractive"
# What the tallies call the traffic no release has taken over yet: the service's settings.
BASELINE = "baseline"

# The settings a release may override, and the room whose field constraints apply.
_RETRIEVAL_FIELDS = ("top_k", "fusion", "dense_weight")
_ANSWER_FIELDS = ("min_relevance", "min_grounding")
OVERRIDABLE = _RETRIEVAL_FIELDS + _ANSWER_FIELDS


def _overrides_model() -> type[BaseModel]:
    """A model whose fields are the overridable settings, each with its own constraints
    copied from ``RetrievalSettings`` / ``AnswerSettings`` and optional."""
    fields: dict[str, Any] = {}
    for name in _RETRIEVAL_FIELDS:
        info = RetrievalSettings.model_fields[name]
        fields[name] = (info.annotation | None, _optional(info))  # type: ignore[operator]
    for name in _ANSWER_FIELDS:
        info = AnswerSettings.model_fields[name]
        fields[name] = (info.annotation | None, _optional(info))  # type: ignore[operator]
    model: type[BaseModel] = create_model(  # type: ignore[call-overload]
        "SettingsOverrides", __config__=ConfigDict(extra="forbid", frozen=True), **fields
    )
    return model


def _optional(info: Any) -> Any:
    from pydantic import Field

    constraints = {
        attr: getattr(m, attr)
        for m in info.metadata
        for attr in ("ge", "le", "gt", "lt")
        if getattr(m, attr, None) is not None
    }
    return Field(default=None, **constraints)


SettingsOverrides = _overrides_model()


def check_overrides(raw: dict[str, Any] | None) -> dict[str, Any]:
    """The overrides as given, checked with the settings' own constraints; None values dropped.

    Raises :class:`InvalidInputError` naming the field and what is wrong.
    """
    try:
        checked = SettingsOverrides.model_validate(raw or {})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidInputError(f"invalid release settings: {problems}") from None
    return {k: v for k, v in checked.model_dump().items() if v is not None}


@dataclass(frozen=True, slots=True)
class Bundle:
    """What a release changes. ``settings`` holds only the overridden fields."""

    prompt_name: str
    prompt_version: int
    route: str
    settings: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "prompt_name": self.prompt_name,
            "prompt_version": self.prompt_version,
            "route": self.route,
            "settings": dict(self.settings),
        }


@dataclass(frozen=True, slots=True)
class Release:
    id: str
    version: int
    status: Status
    stage_percent: int
    bundle: Bundle
    note: str | None
    created_at: datetime
    created_by: str | None
    # When the current stage began (None: never started), and when it ended for good.
    stage_started_at: datetime | None
    ended_at: datetime | None
    # Why it was rolled back (or what forced it on), in words.
    reason: str | None
    # The eval gate's comparison, once run: {"metrics": {...}, "passed": bool, ...}.
    eval: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ReleaseEvent:
    release_id: str
    action: str
    from_percent: int
    to_percent: int
    by: str | None
    at: datetime
    details: dict[str, Any] | None


def release_id(version: int) -> str:
    return f"rel-{version}"


def parse_release_id(value: str) -> int | None:
    """``rel-3`` or ``3`` -> 3; None for anything else."""
    text = value.strip().lower().removeprefix("rel-")
    return int(text) if text.isdigit() and 0 < len(text) < 10 else None


def known_routes(deployments: list[tuple[str, str]] | None) -> frozenset[str]:
    """The routes a release may name: ``extractive`` always; with a models file (its
    deployments as ``(name, tier)``), each tier that has a deployment and each deployment."""
    routes = {EXTRACTIVE_ROUTE}
    for name, tier in deployments or []:
        routes.update((name, tier))
    return frozenset(routes)
