"""Answers per release as a Prometheus counter: what ``ReleaseRouter.count`` tells it.

It implements ``releases.ports.ReleaseObserver`` structurally. The labels stay few: a
release id (releases are created by hand, a handful live at a time) or "baseline", the
arm ("candidate" or "current") and one of four outcomes. The stage a release is at and
its rollbacks are database state, read at scrape time (``ragline.metrics_collectors``).
"""

from __future__ import annotations

from observability.metrics import Metrics

__all__ = ["ReleaseMetrics"]


class ReleaseMetrics:
    def __init__(self, metrics: Metrics) -> None:
        self._answers = metrics.release_answers

    def answered(self, release: str, arm: str, outcome: str) -> None:
        self._answers.labels(release, arm, outcome).inc()
