"""`ragline eval answers --judge`: LLM-as-judge verdicts through the gateway, against doubles.

A models file names two OpenAI-compatible doubles on loopback: ``writer`` (the routing
default, so it writes the answers) and ``judge``. The golden subset is three questions
of the project's set: one the writer answers faithfully, one it answers against its
source, and one it abstains on. The judge double says YES to faithfulness only for the
faithful answer, and YES to every relevancy question; then it goes down (status 500),
and the eval still ends, with the failures recorded per question. Both runs share one
``--data-dir``, so the documents are ingested once.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

import ragline.runtime
from kernel.settings import get_settings
from tests.e2e.test_cli_eval_answers import GOLDEN, METRICS, QUESTIONS, _app
from tests.llm_double import ChatDouble, Messages, serve

pytestmark = pytest.mark.e2e

SUBSET = ("sec-password-length", "sec-mfa", "no-pension")
FAITHFUL = "Passwords must be at least 14 characters long [1]."
UNFAITHFUL = "Multi-factor authentication is optional for email [1]."
ABSTAIN = "I could not find this in the documents you can access."
PRICE_IN, PRICE_OUT = 1.0, 2.0  # the judge's USD per million tokens


def _writer(messages: Messages) -> str:
    user = str(messages[-1]["content"])
    if "minimum password length" in user:
        return FAITHFUL
    if "multi-factor authentication" in user.casefold():
        return UNFAITHFUL
    return ABSTAIN


def _judge(messages: Messages) -> str:
    """YES to faithfulness only for the 14-character claim; YES to every relevancy prompt."""
    prompt = str(messages[-1]["content"])
    if "is supported by the context" in prompt:
        information = prompt.rsplit("Information:", 1)[1].split("\nContext:", 1)[0]
        return "YES" if "14 characters" in information else "NO"
    return "YES"


@pytest.fixture(scope="module")
def doubles() -> Iterator[dict[str, ChatDouble]]:
    with serve("writer", "judge") as started:
        started["writer"].reply = _writer
        started["judge"].reply = _judge
        yield started


@pytest.fixture(scope="module")
def root(
    tmp_path_factory: pytest.TempPathFactory, embedder: Any, doubles: dict[str, ChatDouble]
) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("eval-answers-judge")
    rows = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    (root / "questions.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in rows if row["id"] in SUBSET)
    )
    (root / "models.yaml").write_text(
        yaml.safe_dump(
            {
                "deployments": [
                    _deployment("writer", doubles, "frontier", 0.0, 0.0),
                    _deployment("judge", doubles, "fast", PRICE_IN, PRICE_OUT),
                ],
                # a failing judge fails with the provider's error, never "cooling down"
                "routing": {"default_tier": "frontier", "allowed_fails": 1000},
            }
        )
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DOUBLE_KEY", "sk-double-not-a-secret")
        patch.setattr(
            ragline.runtime,
            "open_runtime",
            functools.partial(ragline.runtime.open_runtime, dense=embedder),
        )
        yield root


def _deployment(
    name: str, doubles: dict[str, ChatDouble], tier: str, pin: float, pout: float
) -> dict[str, Any]:
    return {
        "name": name,
        "model": f"openai/{name}-model",
        "api_base": doubles[name].api_base,
        "api_key_env": "DOUBLE_KEY",
        "tier": tier,
        "input_price_per_mtok": pin,
        "output_price_per_mtok": pout,
        "timeout_s": 5,
    }


def invoke(root: Path, *args: str, models_file: Path | None) -> Result:
    get_settings.cache_clear()
    environment = {
        "RAGLINE_DATA_DIR": str(root / "served"),
        "RAGLINE_MODELS_FILE": str(models_file) if models_file else None,
        "COLUMNS": "200",
    }
    try:
        return CliRunner().invoke(_app(), ["eval", "answers", *args], env=environment)
    finally:
        get_settings.cache_clear()


def run_judged(root: Path, report: Path) -> Result:
    return invoke(
        root,
        str(root / "questions.jsonl"), "--docs", str(GOLDEN), "--report", str(report),
        "--data-dir", str(root / "kept"), "--judge", "judge",
        models_file=root / "models.yaml",
    )  # fmt: skip


def test_the_judge_scores_each_answer_through_the_gateway(
    root: Path, doubles: dict[str, ChatDouble]
) -> None:
    judge = doubles["judge"]
    judge.status = 200
    judge.clear()
    report_path = root / "judged.json"

    result = run_judged(root, report_path)

    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(report_path.read_text())
    metrics = report["metrics"]
    assert metrics["judge.faithfulness"] == 0.5
    assert metrics["judge.relevancy"] == 1.0
    assert set(metrics) - METRICS == {"judge.faithfulness", "judge.relevancy"}
    assert report["settings"]["judge"] == "judge"
    assert report["settings"]["models"] == ["writer"]

    by_id = {q["id"]: q for q in report["details"]["questions"]}
    assert by_id["sec-password-length"]["answer"] == FAITHFUL
    faithful = by_id["sec-password-length"]["judge"]
    assert (faithful["faithful"], faithful["relevant"]) == (True, True)
    assert faithful["feedback"] == {"faithfulness": "YES", "relevancy": "YES"}
    assert faithful["deployments"] == ["judge"] and faithful["errors"] == {}
    unfaithful = by_id["sec-mfa"]["judge"]
    assert (unfaithful["faithful"], unfaithful["relevant"]) == (False, True)
    assert "judge" not in by_id["no-pension"]  # an abstention is not judged
    assert by_id["no-pension"]["found"] is False
    assert "judge: not supported by the cited text" in report["details"]["failures"]["sec-mfa"]
    failures = report["details"]["failures"]
    assert not any(r.startswith("judge:") for r in failures.get("sec-password-length", []))

    # Four judge calls (two answers, two evaluators), all on the judge, none on the writer;
    # tokens are what the judge's deployment reported, priced by the models file.
    sent = judge.received()
    assert len(sent) == 4
    assert all(body["model"] == "judge-model" for body in sent)
    assert not any(
        "is supported by the context" in str(body["messages"])
        for body in doubles["writer"].received()
    )
    prompt_tokens = sum(len(str(m["content"]).split()) for body in sent for m in body["messages"])
    summary = report["details"]["judge"]
    assert summary["deployment"] == "judge" and summary["deployments_used"] == ["judge"]
    assert (summary["judged"], summary["calls"]) == (2, 4)
    assert summary["prompt_tokens"] == prompt_tokens
    assert summary["completion_tokens"] == 4  # YES / NO, one word each
    expected_cost = (prompt_tokens * PRICE_IN + 4 * PRICE_OUT) / 1_000_000
    assert summary["cost_usd"] == pytest.approx(expected_cost)
    assert summary["errors"] == {}

    assert "judge.faithfulness" in result.stdout and "0.500" in result.stdout
    assert "Judged by judge: 2 answered question(s), 4 call(s)" in result.stdout
    assert "  sec-mfa: " in result.stdout


def test_a_judge_that_is_down_is_recorded_per_question(
    root: Path, doubles: dict[str, ChatDouble]
) -> None:
    judge = doubles["judge"]
    judge.status = 500
    report_path = root / "judge-down.json"
    try:
        result = run_judged(root, report_path)
    finally:
        judge.status = 200

    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(report_path.read_text())
    # no verdict, no judge metric; the rest of the eval is measured as always
    assert not any(name.startswith("judge.") for name in report["metrics"])
    assert {"citations.hit@3", "answers.term_recall"} <= set(report["metrics"])
    errors = report["details"]["judge"]["errors"]
    assert set(errors) == {"sec-password-length", "sec-mfa"}
    for reasons in errors.values():
        assert set(reasons) == {"faithfulness", "relevancy"}
        for reason in reasons.values():
            assert "(judge)" in reason and "500" in reason
    by_id = {q["id"]: q for q in report["details"]["questions"]}
    assert by_id["sec-mfa"]["judge"]["faithful"] is None
    assert by_id["sec-mfa"]["answer"] == UNFAITHFUL  # the writer was not affected
    assert "The judge could not score 2 question(s):" in result.stdout


def test_a_judge_needs_a_models_file_naming_it(root: Path) -> None:
    questions = str(root / "questions.jsonl")
    result = invoke(
        root, questions, "--docs", str(GOLDEN), "--report", str(root / "none.json"),
        "--judge", "judge", models_file=None,
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: --judge needs a models file: set RAGLINE_MODELS_FILE to one naming the judge"
    )

    result = invoke(
        root, questions, "--docs", str(GOLDEN), "--report", str(root / "none.json"),
        "--judge", "gpt-judge", models_file=root / "models.yaml",
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: --judge gpt-judge: the models file has no such deployment (it has writer, judge)"
    )
    assert not (root / "none.json").exists()
