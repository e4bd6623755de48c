"""Eval reports: one JSON shape for every ``ragline eval``, and the regression gate.

A report is ``{"eval": name, "created_at": ..., "settings": {...}, "metrics": {name:
value}, "details": {...}}``. Metrics are flat ``"<group>.<metric>"`` names (for example
``"hybrid.ndcg@10"``) so that any two reports of one eval compare key by key. A metric
is a quality where higher is better. Timings (names ending in ``_ms``) are reported
and never gated: a busy machine is not a regression, and speed has its benchmarks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kernel.errors import InvalidInputError

TIMING_SUFFIX = "_ms"


@dataclass(frozen=True, slots=True)
class Regression:
    metric: str
    baseline: float
    current: float
    tolerance: float

    def describe(self) -> str:
        return (
            f"{self.metric}: {self.current:.4f} against the baseline's {self.baseline:.4f} "
            f"(tolerance {self.tolerance:g})"
        )


def build_report(
    name: str,
    metrics: Mapping[str, float],
    *,
    settings: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "eval": name,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": dict(settings or {}),
        "metrics": {k: float(v) for k, v in sorted(metrics.items())},
        "details": dict(details or {}),
    }


def write_report(path: Path, report: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_report(path: Path) -> dict[str, Any]:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInputError(f"baseline report {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInputError(f"baseline report {path} cannot be read: {exc}") from None
    if not isinstance(report, dict) or not isinstance(report.get("metrics"), dict):
        raise InvalidInputError(f"baseline report {path} has no `metrics` object")
    return report


def regressions(
    current: Mapping[str, Any], baseline: Mapping[str, Any], tolerance: float
) -> list[Regression]:
    """Metrics of ``baseline`` that ``current`` is worse on by more than ``tolerance``.

    Reports of different evals never compare (InvalidInputError); a metric the
    baseline has and the current report lacks is a regression (it stopped being
    measured), a metric only the current report has is not.
    """
    if current.get("eval") != baseline.get("eval"):
        raise InvalidInputError(
            f"the baseline is a report of `{baseline.get('eval')}`, not `{current.get('eval')}`"
        )
    found = []
    now: Mapping[str, float] = current["metrics"]
    for metric, before in sorted(baseline["metrics"].items()):
        if metric.endswith(TIMING_SUFFIX):
            continue
        after = now.get(metric)
        if after is None:
            found.append(Regression(metric, float(before), float("nan"), tolerance))
            continue
        if before - after > tolerance:
            found.append(Regression(metric, float(before), float(after), tolerance))
    return found
