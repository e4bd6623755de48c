"""The eval gate's runner: the answers eval through one release's bundle, on a scratch ragline.

``RAGLINE_RELEASES__EVAL_GOLDEN`` names a golden set (``questions.jsonl`` beside its
``buckets.json``, as ``ragline eval answers`` reads it). Its documents go into a
scratch data directory of their own (``<data dir>/release-eval``, kept, so a second
run re-indexes nothing), opened in embedded mode with this process's models file, so
generated answers reach the same deployments a release would route to. Each question
is asked through the answer service with the bundle applied
(``AnswerService.with_release``); the prompt text comes from this service's database.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from evals.answers_eval import evaluate_answers, load_golden
from kernel.settings import Settings
from prompts.book import PRODUCTION, PromptBook, ResolvedPrompt
from ragline.eval_retrieval_cmd import scratch_settings
from releases.model import Bundle, Release
from releases.router import Assignment, bundle_assignment
from retrieval.encoders import DenseEncoder


class GoldenEval:
    """A ``releases.ports.BundleEval``: the eval report of one bundle (None: the service's
    own settings, with the prompt its ``production`` label points at)."""

    def __init__(
        self, settings: Settings, prompts: PromptBook, dense: DenseEncoder | None = None
    ) -> None:
        golden = settings.releases.eval_golden
        assert golden is not None, "no golden set configured"
        self._golden = golden
        self._settings = settings
        self._prompts = prompts
        self._dense = dense

    def __call__(self, bundle: Bundle | None) -> dict[str, Any]:
        from ragline.runtime import open_runtime

        golden = load_golden(self._golden, self._golden.parent)
        scratch = scratch_settings(self._settings, self._settings.data_dir / "release-eval")
        runtime = open_runtime(
            scratch.model_copy(update={"models_file": self._settings.models_file}),
            dense=self._dense,
        )
        try:
            service = runtime.answers.with_release(self._assignment(bundle))
            return evaluate_answers(golden, runtime.ingestion, service, progress=_Silent())
        finally:
            runtime.close()

    def _assignment(self, bundle: Bundle | None) -> Assignment:
        if bundle is None:
            name = self._settings.answer.prompt_name
            version = self._prompts.labels(name).get(PRODUCTION, 1)
            bundle = Bundle(name, version, "")
            found = bundle_assignment(
                _as_release(bundle, "baseline"), self._pinned(bundle), arm="eval"
            )
            # The baseline routes as the models file says: no route of its own.
            return replace(found, route=None)
        return bundle_assignment(_as_release(bundle, "candidate"), self._pinned(bundle), arm="eval")

    def _pinned(self, bundle: Bundle) -> ResolvedPrompt:
        text = self._prompts.get(bundle.prompt_name, bundle.prompt_version)
        return ResolvedPrompt(text.name, text.version, "", text.system, text.user)


def _as_release(bundle: Bundle, name: str) -> Release:
    return Release(
        id=f"eval-{name}", version=0, status="draft", stage_percent=0, bundle=bundle,
        note=None, created_at=datetime.now(UTC), created_by=None, stage_started_at=None,
        ended_at=None, reason=None,
    )  # fmt: skip


class _Silent:
    def stage(self, description: str, total: int) -> None:
        pass

    def advance(self) -> None:
        pass
