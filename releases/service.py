"""Releases as operations: create, start, promote, roll back, and the controller's tick.

Every decision goes to the audit log with who made it (an admin's key, the CLI's
operator, or ragline itself for the controller), and with the gates and their numbers
when gates decided it. The controller (:meth:`ReleaseService.tick`, on every
scheduler tick) judges the staged release against the current one over the same
stage: a failing gate rolls it back at once; a stage held long enough with every gate
passing advances it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from governance.audit_port import SYSTEM_ACTOR, Actor, AuditTrail
from kernel.errors import (
    ConflictError,
    DependencyUnavailableError,
    InvalidInputError,
    NotFoundError,
)
from kernel.settings import ReleaseSettings
from releases.book import ReleaseBook, epoch_of
from releases.eval_gate import compare, gate_of
from releases.gates import GateResult, failing, judge, judged, pending
from releases.model import BASELINE, Bundle, Release, Status, check_overrides
from releases.ports import BundleEval, PromptVersions
from releases.stages import becomes_current, check_move, first_stage, next_stage
from releases.tally import Stats, Tally

log = logging.getLogger(__name__)

_NOTE_MAX = 2000
# Tally rows deleted per transaction, and transactions per controller tick.
_PURGE_BATCH = 1000
_PURGE_BATCHES = 20


@dataclass(frozen=True, slots=True)
class ReleaseStatus:
    """A release with its window: the stage's counts on both sides and the gates' verdicts."""

    release: Release
    epoch: str | None
    candidate: Stats | None
    current: Stats | None
    current_id: str
    gates: list[GateResult]


class ReleaseService:
    def __init__(
        self,
        book: ReleaseBook,
        settings: ReleaseSettings,
        audit: AuditTrail,
        prompts: PromptVersions,
        routes: Iterable[str],
        *,
        tally: Tally | None = None,
        on_change: Callable[[], None] | None = None,
        evaluate: BundleEval | None = None,
    ) -> None:
        self.book = book
        self.settings = settings
        self._audit = audit
        self._prompts = prompts
        self._routes = frozenset(routes)
        # This process's unwritten counts: written before anything is judged.
        self._tally = tally
        self._on_change = on_change
        # Runs the answers eval through a bundle (the eval gate); None: no eval gate.
        self._evaluate = evaluate if settings.eval_golden is not None else None
        self._eval_lock = threading.Lock()

    @property
    def routes(self) -> frozenset[str]:
        return self._routes

    # -- operations --------------------------------------------------------------

    def create(
        self,
        *,
        prompt_name: str,
        prompt_version: int,
        route: str,
        settings: dict[str, Any] | None,
        actor: Actor,
        note: str | None = None,
    ) -> Release:
        """A draft release; :class:`InvalidInputError` for an unknown prompt version or
        route, or a setting outside its constraints."""
        overrides = check_overrides(settings)
        if route not in self._routes:
            raise InvalidInputError(
                f"unknown route '{route[:64]}': one of {', '.join(sorted(self._routes))}"
            )
        try:
            self._prompts.get(prompt_name, prompt_version)
        except NotFoundError as exc:
            raise InvalidInputError(
                f"the release names a prompt that does not exist: {exc}"
            ) from None
        if note is not None and (len(note) > _NOTE_MAX or "\x00" in note):
            raise InvalidInputError(f"a note is at most {_NOTE_MAX} characters of text")
        bundle = Bundle(prompt_name, prompt_version, route, overrides)
        release = self.book.create(bundle, by=_who(actor), note=note)
        self._record(actor, "release.create", release, bundle=bundle.as_json(), note=note)
        return release

    def start(self, ident: str, actor: Actor) -> Release:
        release = self.book.get(ident)
        check_move(release, "start")
        percent = first_stage(self.settings.stages)
        status: Status = "current" if becomes_current(percent) else "staged"
        moved = self.book.move(
            release, action="start", status=status, percent=percent, by=_who(actor)
        )
        self._changed()
        self._record(actor, "release.start", moved, stage_percent=percent)
        return moved

    def promote(self, ident: str, actor: Actor, *, force: bool = False) -> ReleaseStatus:
        """One stage further, only when every gate passes (``force``: whatever they say,
        recorded as forced)."""
        release = self.book.get(ident)
        check_move(release, "advance")
        status = self.status(ident)
        if not force:
            if not judged(status.gates):
                raise ConflictError(
                    f"release {release.id} has {_count(status.candidate)} answers in this stage,"
                    f" fewer than the {self.settings.min_requests} the gates need:"
                    " wait, or promote with force"
                )
            if pending(status.gates):
                raise ConflictError(
                    f"release {release.id}'s eval gate is still running: wait, or promote"
                    " with force"
                )
            bad = failing(status.gates)
            if bad:
                raise ConflictError(
                    f"release {release.id} fails its gates ("
                    + "; ".join(g.describe() for g in bad)
                    + "): roll it back, or promote with force"
                )
        moved = self._advance(release, actor, "release.promote", status.gates, forced=force)
        return self.status(moved.id)

    def rollback(self, ident: str, actor: Actor, *, reason: str | None = None) -> Release:
        release = self.book.get(ident)
        check_move(release, "rollback")
        why = (reason or "rolled back by hand")[:_NOTE_MAX]
        return self._roll_back(release, actor, why, automatic=False)

    # -- reads -------------------------------------------------------------------

    def current(self) -> Release | None:
        return self.book.active()[0]

    def status(self, ident: str) -> ReleaseStatus:
        """The release, and when it is staged, its stage's window and gates."""
        self.flush()
        release = self.book.get(ident)
        current, _ = self.book.active()
        current_id = current.id if current is not None else BASELINE
        if release.status != "staged":
            return ReleaseStatus(release, None, None, None, current_id, [])
        epoch = epoch_of(release)
        candidate = self.book.stats(release.id, epoch)
        baseline = self.book.stats(current_id, epoch)
        if baseline.requests < self.settings.min_requests:
            # Too little of the current in this stage (most callers moved, little
            # traffic): its whole history stands in for it.
            history = self.book.stats(current_id)
            if history.requests > baseline.requests:
                baseline = history
        gates = judge(candidate, baseline, self.settings)
        evaluated = gate_of(release.eval, self.settings.eval_tolerance)
        if evaluated is not None:
            gates.append(evaluated)
        return ReleaseStatus(release, epoch, candidate, baseline, current_id, gates)

    # -- the controller ----------------------------------------------------------

    def tick(self, now: datetime | None = None) -> list[str]:
        """Judge the staged release: roll back on a failing gate, advance a held stage;
        then delete the counts of releases ended longer than the retention ago.

        Returns what it did, one line per decision (for the scheduler's log).
        """
        now = now or datetime.now(UTC)
        self.flush()
        decisions = self._judge(now)
        try:
            self.purge_tallies(now)
        except Exception:  # judging matters more; the next tick purges
            log.warning("release tallies not purged; the next tick tries again", exc_info=True)
        return decisions

    def purge_tallies(self, now: datetime | None = None) -> int:
        """Delete the counts of releases that ended more than ``tally_retention_s`` ago,
        at most ``_PURGE_BATCH * _PURGE_BATCHES`` rows at a time; returns how many went."""
        now = now or datetime.now(UTC)
        cutoff = now - timedelta(seconds=self.settings.tally_retention_s)
        removed = self.book.purge_tallies(cutoff, batch=_PURGE_BATCH, max_batches=_PURGE_BATCHES)
        if removed:
            log.info("deleted %d answer counts of releases that ended before %s", removed, cutoff)
        return removed

    def _judge(self, now: datetime) -> list[str]:
        current, staged = self.book.active()
        if staged is None:
            return []
        self._start_eval(staged, current)
        status = self.status(staged.id)
        bad = failing(status.gates)
        if bad and (judged(status.gates) or any(g.name == "answers_eval" for g in bad)):
            reason = "gate failed: " + "; ".join(g.describe() for g in bad)
            try:
                self._roll_back(staged, SYSTEM_ACTOR, reason, automatic=True, gates=status.gates)
            except ConflictError:
                return []  # someone else decided first
            return [f"{staged.id} rolled back: {reason}"]
        ready = judged(status.gates) and not pending(status.gates)
        if not bad and ready and self._held(staged, status, now):
            try:
                moved = self._advance(staged, SYSTEM_ACTOR, "release.advance", status.gates)
            except ConflictError:
                return []
            return [f"{staged.id} advanced to {moved.stage_percent}%"]
        return []

    def flush(self) -> None:
        """Write this process's counts; with the database down they wait for the next flush."""
        if self._tally is None:
            return
        taken = self._tally.drain()
        try:
            self.book.add_tallies(taken)
        except Exception:
            self._tally.restore(taken)
            raise

    # -- the eval gate -----------------------------------------------------------

    def _start_eval(self, staged: Release, current: Release | None) -> None:
        """Run the eval gate of a newly staged release in the background, once."""
        if self._evaluate is None or staged.eval is not None:
            return
        if not self.book.claim_eval(staged):
            return  # another controller runs it
        evaluate = self._evaluate
        thread = threading.Thread(
            target=self.run_eval,
            args=(staged, current, evaluate),
            name=f"ragline-release-eval-{staged.id}",
            daemon=True,
        )
        thread.start()

    def run_eval(self, staged: Release, current: Release | None, evaluate: BundleEval) -> None:
        """Run the answers eval through both bundles and store the comparison."""
        with self._eval_lock:  # one eval at a time: each opens a scratch runtime
            try:
                candidate = evaluate(staged.bundle)["metrics"]
                against = evaluate(None if current is None else current.bundle)["metrics"]
                result = compare(candidate, against, self.settings.eval_tolerance)
            except Exception as exc:  # recorded as the gate's failure
                log.exception("the eval gate of %s could not run", staged.id)
                result = {"state": "error", "error": f"{type(exc).__name__}: {exc}"[:500]}
        result["against"] = current.id if current is not None else BASELINE
        self.book.set_eval(staged, result)
        self._record(SYSTEM_ACTOR, "release.eval", staged, **{
            k: result.get(k) for k in ("state", "against", "failed", "gate", "error") if k in result
        })  # fmt: skip

    # -- internals ---------------------------------------------------------------

    def _held(self, release: Release, status: ReleaseStatus, now: datetime) -> bool:
        started = release.stage_started_at or now
        held_s = (now - started).total_seconds()
        return (
            held_s >= self.settings.hold_s
            and _count(status.candidate) >= self.settings.hold_requests
        )

    def _advance(
        self,
        release: Release,
        actor: Actor,
        action: str,
        gates: list[GateResult],
        *,
        forced: bool = False,
    ) -> Release:
        percent = next_stage(self.settings.stages, release.stage_percent)
        status: Status = "current" if becomes_current(percent) else "staged"
        details: dict[str, Any] = {"gates": [g.as_json() for g in gates]}
        if forced:
            details["forced"] = True
        moved = self.book.move(
            release, action=action.removeprefix("release."), status=status, percent=percent,
            by=_who(actor), details={"forced": True} if forced else None,
        )  # fmt: skip
        self._changed()
        self._record(
            actor,
            action,
            moved,
            from_percent=release.stage_percent,
            to_percent=percent,
            current=status == "current",
            **details,
        )
        return moved

    def _roll_back(
        self,
        release: Release,
        actor: Actor,
        reason: str,
        *,
        automatic: bool,
        gates: list[GateResult] | None = None,
    ) -> Release:
        moved = self.book.move(
            release,
            action="rollback",
            status="rolled_back",
            percent=0,
            by=_who(actor),
            reason=reason,
            details={
                "automatic": automatic,
                **({"failed_gates": [g.as_json() for g in failing(gates)]} if gates else {}),
            },
        )
        details: dict[str, Any] = {
            "automatic": automatic,
            "from_percent": release.stage_percent,
            "reason": reason,
        }
        if gates is not None:
            details["failed_gates"] = [g.as_json() for g in failing(gates)]
            details["gates"] = [g.as_json() for g in gates]
        back_to = BASELINE
        if release.status == "current":
            previous = self.book.last_superseded(release.version)
            if previous is not None:
                self.book.reinstate(previous, by=_who(actor), after=release.id)
                back_to = previous.id
        else:
            current = self.book.active()[0]
            back_to = current.id if current is not None else BASELINE
        details["traffic_to"] = back_to
        self._changed()
        self._record(actor, "release.rollback", moved, **details)
        return moved

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    def _record(self, actor: Actor, action: str, release: Release, **details: object) -> None:
        payload: dict[str, object] = {
            "version": release.version,
            "status": release.status,
            "stage_percent": release.stage_percent,
            **details,
        }
        try:
            self._audit.record(actor=actor, action=action, target=release.id, details=payload)
        except DependencyUnavailableError:
            log.warning(
                "audit event %s on %s not recorded: the database is down", action, release.id
            )


def _who(actor: Actor) -> str:
    return actor.identity or actor.key_id


def _count(stats: Stats | None) -> int:
    return 0 if stats is None else stats.requests
