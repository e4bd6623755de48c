"""Ingestion outcomes and stage timings as Prometheus series (the pipeline's observer).

The pipeline tells one observer how each attempt ended (``ingest.ports.IngestObserver``);
this one counts it in the process that ran it, so a distributed deployment sums the
workers' series and an embedded one serves them on the API's ``/metrics``. The label
values are bounded: an outcome outside the contract's three (a deletion or a newer
version that won a race) is not a document's result and is not counted, though the
time it spent is.
"""

from __future__ import annotations

from collections.abc import Mapping

from observability.metrics import Metrics

__all__ = ["COUNTED_OUTCOMES", "STAGES", "IngestMetrics"]

COUNTED_OUTCOMES = frozenset({"indexed", "unchanged", "failed"})
# Claim and version (registry), parse, chunk, embed (dense), sparse (BM25), write (the
# upsert), commit (the registry flips the served version; old versions leave the index).
STAGES = ("registry", "parse", "chunk", "embed", "sparse", "write", "commit")
UNKNOWN_FORMAT = "unknown"


class IngestMetrics:
    """``ragline_ingest_documents_total`` and ``ragline_ingest_duration_seconds`` on ``metrics``."""

    def __init__(self, metrics: Metrics) -> None:
        self._documents = metrics.ingest_documents
        self._duration = metrics.ingest_duration

    def observed(
        self,
        *,
        outcome: str,
        format: str | None,
        error_code: str | None,
        stages: Mapping[str, float],
    ) -> None:
        for stage in STAGES:
            if stage in stages:
                self._duration.labels(stage=stage).observe(max(0.0, stages[stage]))
        if outcome not in COUNTED_OUTCOMES:
            return
        self._documents.labels(
            format=format or UNKNOWN_FORMAT,
            outcome=outcome,
            error_code=(error_code or "") if outcome == "failed" else "",
        ).inc()
