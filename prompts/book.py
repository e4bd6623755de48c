"""Prompts as immutable versions with movable labels, as Langfuse keeps them.

A prompt ``name`` has versions 1, 2, ... that are never changed once written; labels
(``production``, ``staging``, any name) point at versions and move. The service
answers with the version labelled ``production``, or, while a traffic split is set,
with the label the split picks for the caller: by a hash of the prompt name and a
sticky key (the API key's id), so one caller keeps seeing one variant.

Rollback walks back through a label's history like a browser's back button: each
move forward remembers where the label was; a rollback returns to it. Replaying the
moves in order, a move to the version the label held just before its current one is a
step back (whether made by ``rollback`` or by hand); any other move is a step
forward. So v1 -> v2 -> v3, then rollback, rollback gives v2, then v1; a third
rollback finds nothing to roll back to.

Concurrent writers are safe on SQLite and PostgreSQL alike: a new version's number is
the primary key, so two creators racing for the same number conflict and the loser
retries with the next one (on PostgreSQL, where many replicas write at once, creators
of one prompt also queue on a transaction-scoped advisory lock, so they rarely race at
all); a label moves by compare-and-set on the version it was read at, so a move made
meanwhile by another writer makes this one start over.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import yaml
from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from kernel.errors import ConflictError, InvalidInputError, NotFoundError
from prompts.tables import (
    PromptBase,
    PromptLabelMoveRow,
    PromptLabelRow,
    PromptSplitRow,
    PromptVersionRow,
)
from prompts.templates import check_prompt

PRODUCTION = "production"
DEFAULTS_DIR = Path(__file__).resolve().parent / "defaults"
# Who created the shipped defaults.
SHIPPED_BY = "ragline"

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_WHO_MAX = 64  # prompt_versions.created_by, prompt_label_moves.moved_by
_RETRIES = 20
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class PromptVersion:
    name: str
    version: int
    system: str
    user: str
    note: str | None
    created_by: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ResolvedPrompt:
    """The version a request answers with, and the label that chose it."""

    name: str
    version: int
    label: str
    system: str
    user: str


@dataclass(frozen=True, slots=True)
class LabelMove:
    name: str
    label: str
    from_version: int | None  # None: the label was new
    to_version: int
    moved_by: str | None
    moved_at: datetime


@dataclass(frozen=True, slots=True)
class PromptSummary:
    name: str
    latest_version: int
    labels: dict[str, int]
    split: dict[str, int] | None


class PromptBook:
    """Every read and write of prompts, on the registry's database."""

    def __init__(self, engine: Engine) -> None:
        PromptBase.metadata.create_all(engine)
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    # -- versions ----------------------------------------------------------------

    def create(
        self,
        name: str,
        *,
        system: str,
        user: str,
        note: str | None = None,
        by: str | None = None,
        labels: Iterable[str] = (),
    ) -> PromptVersion:
        """Write the next version of ``name`` (1 for a new prompt) and move ``labels`` to it.

        Raises :class:`InvalidInputError` for a bad name or label, or a template that
        does not render with the sample variables or never shows the model the
        question or the sources (``prompts.templates.check_prompt``).
        """
        _check_name("prompt name", name)
        wanted = _labels(labels)
        _check_text(note)
        check_prompt(system, user)
        return _retrying(lambda: self._insert(name, None, system, user, note, _who(by), wanted))

    def versions(self, name: str) -> list[PromptVersion]:
        """Oldest first; :class:`NotFoundError` for a prompt with none."""
        with self._session() as s:
            rows = s.scalars(
                select(PromptVersionRow)
                .where(PromptVersionRow.name == name)
                .order_by(PromptVersionRow.version)
            ).all()
            if not rows:
                raise _unknown(name)
            return [_version(r) for r in rows]

    def get(self, name: str, version: int) -> PromptVersion:
        with self._session() as s:
            row = s.get(PromptVersionRow, (name, version))
            if row is None:
                raise NotFoundError(f"prompt '{name}' has no version {version}")
            return _version(row)

    def names(self) -> list[PromptSummary]:
        """Every prompt with its latest version, labels and split, by name."""
        with self._session() as s:
            latest = s.execute(
                select(PromptVersionRow.name, func.max(PromptVersionRow.version))
                .group_by(PromptVersionRow.name)
                .order_by(PromptVersionRow.name)
            ).all()
            labels: dict[str, dict[str, int]] = {}
            for row in s.scalars(select(PromptLabelRow)):
                labels.setdefault(row.name, {})[row.label] = row.version
            splits = {row.name: dict(row.weights) for row in s.scalars(select(PromptSplitRow))}
        return [
            PromptSummary(
                name=name,
                latest_version=version,
                labels=dict(sorted(labels.get(name, {}).items())),
                split=splits.get(name),
            )
            for name, version in latest
        ]

    def labels(self, name: str) -> dict[str, int]:
        """``{label: version}`` of a prompt, by label."""
        with self._session() as s:
            rows = s.scalars(
                select(PromptLabelRow)
                .where(PromptLabelRow.name == name)
                .order_by(PromptLabelRow.label)
            )
            return {r.label: r.version for r in rows}

    # -- labels ------------------------------------------------------------------

    def label(self, name: str, label: str, version: int, *, by: str | None = None) -> LabelMove:
        """Point ``label`` at ``version`` (creating the label); :class:`NotFoundError`
        when the version does not exist."""
        _check_name("label", label)
        return _retrying(lambda: self._move_in_session(name, label, version, _who(by)))

    def rollback(self, name: str, label: str = PRODUCTION, *, by: str | None = None) -> LabelMove:
        """Move ``label`` back one step of its history (see the module docstring).

        Raises :class:`NotFoundError` for an unknown prompt or label, and
        :class:`ConflictError` when the label has no earlier version to go back to.
        """

        def step_back() -> LabelMove:
            with self._session() as s:
                current = _pointer(s, name, label)
                if current is None:
                    self._require_prompt(s, name)
                    raise NotFoundError(f"prompt '{name}' has no label '{label}'")
                moves = s.execute(
                    select(PromptLabelMoveRow.from_version, PromptLabelMoveRow.to_version)
                    .where(PromptLabelMoveRow.name == name, PromptLabelMoveRow.label == label)
                    .order_by(PromptLabelMoveRow.id)
                ).all()
                target = rollback_target([(m[0], m[1]) for m in moves])
                if target is None:
                    raise ConflictError(
                        f"nothing to roll back to: label '{label}' of prompt '{name}' "
                        f"has no earlier version in its history"
                    )
                return self._move(s, name, label, target, _who(by), current)

        return _retrying(step_back)

    # -- traffic split -----------------------------------------------------------

    def set_split(self, name: str, weights: Mapping[str, int]) -> dict[str, int]:
        """Split ``name``'s traffic between labels by percent (2+ labels, summing to 100).

        Raises :class:`InvalidInputError` for weights that are not that, and
        :class:`NotFoundError` for an unknown prompt or label.
        """
        clean = _weights(weights)
        with self._session() as s:
            self._require_prompt(s, name)
            known = set(s.scalars(select(PromptLabelRow.label).where(PromptLabelRow.name == name)))
            missing = sorted(set(clean) - known)
            if missing:
                raise NotFoundError(
                    f"prompt '{name}' has no label {', '.join(repr(m) for m in missing)}"
                )
            row = s.get(PromptSplitRow, name)
            if row is None:
                s.add(PromptSplitRow(name=name, weights=clean, updated_at=_now()))
            else:
                row.weights, row.updated_at = clean, _now()
        return clean

    def clear_split(self, name: str) -> bool:
        """Send all of ``name``'s traffic to ``production`` again; False if it had no split."""
        with self._session() as s:
            self._require_prompt(s, name)
            found = s.get(PromptSplitRow, name) is not None
            s.execute(delete(PromptSplitRow).where(PromptSplitRow.name == name))
            return found

    def split(self, name: str) -> dict[str, int] | None:
        with self._session() as s:
            row = s.get(PromptSplitRow, name)
            return dict(row.weights) if row else None

    # -- serving -----------------------------------------------------------------

    def resolve(self, name: str, sticky_key: str) -> ResolvedPrompt:
        """The version to answer ``sticky_key``'s request with.

        With a split, the label is picked by ``sha256(f"{name}:{sticky_key}")`` mod 100
        against the cumulative weights (labels in name order), so the same key always
        gets the same label while the split stands; without one, ``production``.
        Raises :class:`NotFoundError` if the prompt or the picked label does not exist.
        """
        with self._session() as s:
            split = s.get(PromptSplitRow, name)
            label = pick_label(name, sticky_key, split.weights) if split else PRODUCTION
            pointer = s.get(PromptLabelRow, (name, label))
            if pointer is None:
                self._require_prompt(s, name)
                raise NotFoundError(f"prompt '{name}' has no '{label}' label")
            row = s.get(PromptVersionRow, (name, pointer.version))
            if row is None:  # versions are never deleted; a label cannot dangle
                raise NotFoundError(f"prompt '{name}' has no version {pointer.version}")
            return ResolvedPrompt(name, row.version, label, row.system, row.user)

    # -- shipped defaults --------------------------------------------------------

    def ensure_defaults(self, directory: Path | None = None) -> list[str]:
        """Load each shipped prompt (``*.yaml``) whose name has no versions yet, as v1
        labelled ``production``; the names loaded. Idempotent, and safe when several
        processes start at once: the one that loses the race finds version 1 taken."""
        created: list[str] = []
        for path in sorted((directory or DEFAULTS_DIR).glob("*.yaml")):
            shipped = _read_default(path)
            name = shipped["name"]
            with self._session() as s:
                if s.scalar(
                    select(PromptVersionRow.version).where(PromptVersionRow.name == name).limit(1)
                ):
                    continue
            _check_name("prompt name", name)
            check_prompt(shipped["system"], shipped["user"])
            try:
                self._insert(
                    name,
                    1,
                    shipped["system"],
                    shipped["user"],
                    shipped.get("note"),
                    SHIPPED_BY,
                    (PRODUCTION,),
                )
            except (IntegrityError, _RacedError):
                continue  # another process loaded it first
            created.append(name)
        return created

    # -- internals ---------------------------------------------------------------

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def _insert(
        self,
        name: str,
        version: int | None,
        system: str,
        user: str,
        note: str | None,
        by: str | None,
        labels: Sequence[str],
    ) -> PromptVersion:
        """One transaction: the version (the next number, unless given) and its labels."""
        with self._session() as s:
            if version is None:
                _queue_creators(s, name)
                latest = s.scalar(
                    select(func.max(PromptVersionRow.version)).where(PromptVersionRow.name == name)
                )
                version = (latest or 0) + 1
            row = PromptVersionRow(
                name=name,
                version=version,
                system=system,
                user=user,
                note=note,
                created_by=by,
                created_at=_now(),
            )
            s.add(row)
            s.flush()  # a taken number fails here, before any label moves
            for label in labels:
                self._move(s, name, label, version, by, _pointer(s, name, label))
            return _version(row)

    def _move_in_session(self, name: str, label: str, version: int, by: str | None) -> LabelMove:
        with self._session() as s:
            if s.get(PromptVersionRow, (name, version)) is None:
                self._require_prompt(s, name)
                raise NotFoundError(f"prompt '{name}' has no version {version}")
            return self._move(s, name, label, version, by, _pointer(s, name, label))

    @staticmethod
    def _move(
        s: Session, name: str, label: str, version: int, by: str | None, before: int | None
    ) -> LabelMove:
        """Move the label from ``before`` (None: create it) to ``version``, and record it.

        A compare-and-set: if another writer moved or created the label since
        ``before`` was read, this raises :class:`_RacedError` (or ``IntegrityError``) and the
        whole transaction is tried again from a fresh read.
        """
        now = _now()
        if before is None:
            s.add(PromptLabelRow(name=name, label=label, version=version, updated_at=now))
        else:
            moved = s.execute(
                update(PromptLabelRow)
                .where(
                    PromptLabelRow.name == name,
                    PromptLabelRow.label == label,
                    PromptLabelRow.version == before,
                )
                .values(version=version, updated_at=now)
            )
            if not isinstance(moved, CursorResult) or moved.rowcount != 1:
                raise _RacedError
        s.add(
            PromptLabelMoveRow(
                name=name,
                label=label,
                from_version=before,
                to_version=version,
                moved_by=by,
                moved_at=now,
            )
        )
        s.flush()
        return LabelMove(name, label, before, version, by, now)

    @staticmethod
    def _require_prompt(s: Session, name: str) -> None:
        if (
            s.scalar(select(PromptVersionRow.version).where(PromptVersionRow.name == name).limit(1))
            is None
        ):
            raise _unknown(name)


def rollback_target(moves: Sequence[tuple[int | None, int]]) -> int | None:
    """Where a rollback takes a label, from its ``(from_version, to_version)`` moves,
    oldest first; None when there is nowhere to go back to.

    A stack of the versions the label left: a move to the top of the stack is a step
    back (pops it), any other move a step forward (pushes the version it left).
    """
    left: list[int] = []
    for before, after in moves:
        if left and after == left[-1]:
            left.pop()
        elif before is not None and before != after:
            left.append(before)
    return left[-1] if left else None


def pick_label(name: str, sticky_key: str, weights: Mapping[str, int]) -> str:
    """The label a split gives ``sticky_key``: stable for as long as the weights are."""
    digest = hashlib.sha256(f"{name}:{sticky_key}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") % 100
    total = 0
    for label in sorted(weights):
        total += weights[label]
        if point < total:
            return label
    return sorted(weights)[-1]  # weights sum to 100: unreachable, but never fail a request


class _RacedError(Exception):
    """Another writer changed what this transaction read; it is tried again."""


def _queue_creators(s: Session, name: str) -> None:
    """On PostgreSQL, wait for the other creators of ``name`` to commit (the lock ends
    with the transaction), so the next number read is free. SQLite has one writer at a
    time already; there the primary key and the retry alone settle a race."""
    if s.get_bind().dialect.name == "postgresql":
        digest = hashlib.sha256(f"ragline-prompt:{name}".encode()).digest()
        s.execute(select(func.pg_advisory_xact_lock(int.from_bytes(digest[:8], signed=True))))


def _has_versions(s: Session, name: str) -> bool:
    found = s.scalar(select(PromptVersionRow.version).where(PromptVersionRow.name == name).limit(1))
    return found is not None


def _pointer(s: Session, name: str, label: str) -> int | None:
    """The version ``label`` points at now; None for a new label."""
    return s.scalar(
        select(PromptLabelRow.version).where(
            PromptLabelRow.name == name, PromptLabelRow.label == label
        )
    )


def _retrying(attempt: Callable[[], _T]) -> _T:
    """Run ``attempt`` again when another writer took the same key first."""
    for _ in range(_RETRIES - 1):
        try:
            return attempt()
        except (IntegrityError, _RacedError):
            continue
    try:
        return attempt()
    except (IntegrityError, _RacedError):
        raise ConflictError("too many concurrent changes to this prompt; try again") from None


def _version(row: PromptVersionRow) -> PromptVersion:
    return PromptVersion(
        name=row.name,
        version=row.version,
        system=row.system,
        user=row.user,
        note=row.note,
        created_by=row.created_by,
        created_at=_utc(row.created_at),
    )


def _read_default(path: Path) -> dict[str, str]:
    """A shipped prompt file; a malformed one is our bug, reported with its file name."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    keys = {"name", "system", "user", "note"}
    if (
        not isinstance(data, dict)
        or not {"name", "system", "user"} <= data.keys() <= keys
        or not all(isinstance(v, str) for v in data.values())
    ):
        raise InvalidInputError(
            f"{path.name}: a prompt file holds the text keys name, system, user and "
            "optionally note, nothing else"
        )
    return data


def _check_name(what: str, value: str) -> None:
    if not _NAME.fullmatch(value):
        raise InvalidInputError(
            f"invalid {what} {value[:80]!r}: 1-64 characters of a-z, 0-9, '_', '.', '-', "
            "starting with a letter or digit"
        )


def _labels(labels: Iterable[str]) -> list[str]:
    unique = list(dict.fromkeys(labels))
    for label in unique:
        _check_name("label", label)
    return unique


def _check_text(note: str | None) -> None:
    if note is not None and "\x00" in note:
        raise InvalidInputError("the note contains a NUL character")


def _weights(weights: Mapping[str, int]) -> dict[str, int]:
    if len(weights) < 2:
        raise InvalidInputError("a split needs at least two labels")
    for label, weight in weights.items():
        _check_name("label", label)
        if isinstance(weight, bool) or not isinstance(weight, int) or weight <= 0:
            raise InvalidInputError(
                f"the weight of '{label}' must be a positive whole percent, not {weight!r}"
            )
    total = sum(weights.values())
    if total != 100:
        raise InvalidInputError(f"a split's weights must sum to 100, not {total}")
    return dict(sorted(weights.items()))


def _who(by: str | None) -> str | None:
    return by[:_WHO_MAX] if by else None


def _unknown(name: str) -> NotFoundError:
    return NotFoundError(f"prompt '{name}' not found")


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes for what was stored as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
