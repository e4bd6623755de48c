"""The ``/ask`` side of releases: which release answers this caller, and counting how it went.

Cheap on purpose: the rollout (current and staged release) is read from the database
at most every ``cache_s`` seconds per process, and prompt versions once ever (they are
immutable); the choice is a hash; counting is an addition in memory
(:class:`~releases.tally.Tally`), written in bulk by :meth:`ReleaseRouter.flush_forever`
or the controller. With the database down the last rollout read stays in force.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from kernel.settings import ReleaseSettings
from prompts.book import ResolvedPrompt
from releases.assignment import takes_candidate
from releases.book import ReleaseBook, epoch_of
from releases.model import BASELINE, EXTRACTIVE_ROUTE, Release
from releases.ports import PromptVersions, ReleaseObserver
from releases.tally import Tally
from retrieval.access import Principal

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Assignment:
    """What one request answers with: ``answer.ports.ReleaseAssignment``."""

    release_id: str | None  # None: the service's own settings (no release current yet)
    version: int | None
    arm: str  # "candidate" or "current"
    epoch: str | None  # the stage being judged, when one is; None: nothing is counted
    tally_as: str  # the release id, or "baseline"
    prompt: ResolvedPrompt | None
    route: str | None
    extractive: bool
    top_k: int | None
    fusion: str | None
    dense_weight: float | None
    min_relevance: float | None
    min_grounding: float | None


@dataclass(frozen=True, slots=True)
class _Rollout:
    current: Release | None
    staged: Release | None
    read_at: float


class ReleaseRouter:
    def __init__(
        self,
        book: ReleaseBook,
        settings: ReleaseSettings,
        prompts: PromptVersions,
        tally: Tally,
        *,
        observer: ReleaseObserver | None = None,
    ) -> None:
        self._book = book
        self._observer = observer
        self._settings = settings
        self._prompts = prompts
        self.tally = tally
        self._lock = threading.Lock()
        self._rollout: _Rollout | None = None
        self._pinned: dict[tuple[str, int], ResolvedPrompt] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def invalidate(self) -> None:
        """Read the rollout again on the next request (this process just changed it)."""
        with self._lock:
            self._rollout = None

    def assign(self, principal: Principal) -> Assignment | None:
        rollout = self._read()
        staged, current = rollout.staged, rollout.current
        if staged is None and current is None:
            return None
        sticky = principal.team if self._settings.sticky == "team" else principal.key_id
        if staged is not None and takes_candidate(staged.id, sticky, staged.stage_percent):
            return self._assignment(staged, "candidate", epoch_of(staged))
        epoch = epoch_of(staged) if staged is not None else None
        if current is None:
            return Assignment(None, None, "current", epoch, BASELINE, None, None, False,
                              None, None, None, None, None)  # fmt: skip
        return self._assignment(current, "current", epoch)

    def count(
        self,
        assignment: object,
        *,
        error: bool,
        degraded: bool = False,
        abstained: bool = False,
        grounding: float | None = None,
        latency_s: float = 0.0,
        cost_usd: float = 0.0,
    ) -> None:
        """Count one request of ``assignment`` (one of this router's) in its stage, and
        tell the observer of it whether or not a stage is being judged."""
        if not isinstance(assignment, Assignment):
            return
        if self._observer is not None:
            outcome = (
                "error" if error
                else "degraded" if degraded
                else "abstained" if abstained
                else "answered"
            )  # fmt: skip
            try:
                self._observer.answered(assignment.tally_as, assignment.arm, outcome)
            except Exception:  # metrics never fail an answer
                log.warning("release metrics not updated", exc_info=True)
        if assignment.epoch is not None:
            self.tally.count(
                assignment.epoch,
                assignment.tally_as,
                error=error,
                degraded=degraded,
                abstained=abstained,
                grounding=grounding,
                latency_s=latency_s,
                cost_usd=cost_usd,
            )

    def flush(self) -> None:
        taken = self.tally.drain()
        try:
            self._book.add_tallies(taken)
        except Exception:
            self.tally.restore(taken)
            raise

    def start_flushing(self) -> None:
        """Write the counts every ``flush_s`` seconds in a thread (API processes)."""

        def loop() -> None:
            while not self._stop.wait(self._settings.flush_s):
                try:
                    self.flush()
                except Exception:  # the database may be down; the counts wait in memory
                    log.warning("release counters not written; retrying", exc_info=True)

        self._thread = threading.Thread(target=loop, name="ragline-release-flush", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        try:
            self.flush()
        except Exception:  # noqa: BLE001  (shutting down: say so, never fail the exit)
            log.warning("release counters of this process were not written at exit")

    # -- internals ---------------------------------------------------------------

    def _read(self) -> _Rollout:
        rollout = self._rollout
        now = time.monotonic()
        if rollout is not None and now - rollout.read_at < self._settings.cache_s:
            return rollout
        with self._lock:
            rollout = self._rollout
            if rollout is not None and now - rollout.read_at < self._settings.cache_s:
                return rollout
            try:
                current, staged = self._book.active()
            except Exception:
                if rollout is None:
                    raise
                log.warning("releases unreadable: the last rollout read stays in force")
                current, staged = rollout.current, rollout.staged
            self._rollout = _Rollout(current, staged, now)
            return self._rollout

    def _assignment(self, release: Release, arm: str, epoch: str | None) -> Assignment:
        prompt = None
        if release.bundle.route != EXTRACTIVE_ROUTE:
            key = (release.bundle.prompt_name, release.bundle.prompt_version)
            prompt = self._pinned.get(key)
            if prompt is None:
                got = self._prompts.get(*key)
                prompt = ResolvedPrompt(got.name, got.version, "", got.system, got.user)
                self._pinned[key] = prompt
        return bundle_assignment(release, prompt, arm=arm, epoch=epoch)


def bundle_assignment(
    release: Release, prompt: ResolvedPrompt | None, *, arm: str, epoch: str | None = None
) -> Assignment:
    """What ``release``'s bundle changes, given its prompt version's text (None: extractive)."""
    bundle = release.bundle
    extractive = bundle.route == EXTRACTIVE_ROUTE
    s = bundle.settings
    pinned = None
    if prompt is not None and not extractive:
        # Labelled with the release that pinned it (several releases may pin one version).
        pinned = ResolvedPrompt(prompt.name, prompt.version, release.id, prompt.system, prompt.user)
    return Assignment(
        release_id=release.id,
        version=release.version,
        arm=arm,
        epoch=epoch,
        tally_as=release.id,
        prompt=pinned,
        route=None if extractive else bundle.route,
        extractive=extractive,
        top_k=s.get("top_k"),
        fusion=s.get("fusion"),
        dense_weight=s.get("dense_weight"),
        min_relevance=s.get("min_relevance"),
        min_grounding=s.get("min_grounding"),
    )
