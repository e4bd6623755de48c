#!/usr/bin/env bash
# Installs everything, then runs the whole test suite with the linters and type checks.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -m unit -x`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/services.sh
export HF_HUB_OFFLINE=1 DO_NOT_TRACK=1 SCARF_NO_ANALYTICS=1 TOKENIZERS_PARALLELISM=false
echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "==> mypy"
.venv/bin/mypy
echo "==> import contracts (pyproject: tool.importlinter)"
.venv/bin/lint-imports --no-cache
echo "==> import every module"
.venv/bin/python scripts/check_imports.py
echo "==> eval gate: grounding on the project's golden set (evals/baselines)"
.venv/bin/ragline eval grounding evals/golden/grounding.jsonl \
  --baseline evals/baselines/grounding.json --tolerance 0.01 \
  --report "${TMPDIR:-/tmp}/ragline-eval-grounding.json"
echo "==> eval gate: PII detection on the project's golden set"
.venv/bin/ragline eval pii evals/golden/pii.jsonl \
  --baseline evals/baselines/pii.json --tolerance 0.01 \
  --report "${TMPDIR:-/tmp}/ragline-eval-pii.json"
echo "==> eval gate: extractive answers on the project's golden set"
.venv/bin/ragline eval answers evals/golden/answers/questions.jsonl \
  --baseline evals/baselines/answers.json --tolerance 0.01 \
  --report "${TMPDIR:-/tmp}/ragline-eval-answers.json"
echo "==> eval gate: retrieval on the project's golden set"
.venv/bin/ragline eval retrieval evals/golden/retrieval \
  --baseline evals/baselines/retrieval.json --tolerance 0.01 \
  --report "${TMPDIR:-/tmp}/ragline-eval-retrieval.json"
echo "==> pytest"
if [ "$#" -eq 0 ]; then
  # The whole suite also enforces the coverage floor (pyproject: tool.coverage), and
  # names its slowest tests, so a CI log shows where its minutes went.
  .venv/bin/python -m pytest --cov --cov-report=term --durations=30
else
  .venv/bin/python -m pytest "$@"
fi
