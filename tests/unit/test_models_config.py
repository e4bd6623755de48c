"""The models file: the issue's shape and the shipped example load; mistakes are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel.errors import ConfigurationError
from kernel.models_config import load_models_file

ROOT = Path(__file__).resolve().parents[2]

ISSUE_SHAPE = """
deployments:
  - name: primary
    model: openai/gpt-4o-mini
    api_base: http://127.0.0.1:4000/v1
    api_key_env: OPENAI_API_KEY
    tier: frontier
    region: eu
    input_price_per_mtok: 0.15
    output_price_per_mtok: 0.60
  - name: backup
    model: openai/llama-3.1-8b
    api_base: http://127.0.0.1:8001/v1
    api_key_env: LOCAL_KEY
    tier: fast
    region: eu
    input_price_per_mtok: 0.02
    output_price_per_mtok: 0.02
routing:
  default_tier: frontier
  fallbacks:
    primary: [backup]
"""


def test_the_issue_shape_loads_with_prices(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(ISSUE_SHAPE)
    models = load_models_file(path)
    assert [d.name for d in models.deployments] == ["primary", "backup"]
    assert models.routing.fallbacks == {"primary": ["backup"]}
    assert models.deployment("primary").cost_usd(1_000_000, 1_000_000) == pytest.approx(0.75)
    assert models.deployment("backup").tier == "fast"


def test_the_shipped_example_loads() -> None:
    models = load_models_file(ROOT / "config" / "models.example.yaml")
    assert {d.name for d in models.deployments} >= {"primary", "claude", "azure-eu", "local-vllm"}
    assert models.budgets.teams["search"].daily_hard_usd == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("deployments: []", "deployments"),
        (
            "deployments:\n  - {name: a, model: openai/x}\nrouting: {fallbacks: {a: [ghost]}}",
            "unknown deployments",
        ),
        (
            "deployments:\n  - {name: a, model: openai/x}\n  - {name: a, model: openai/y}",
            "unique",
        ),
        ("deployments:\n  - {name: a, model: openai/x, api_key: sk-123}", "api_key"),
        ("deployments: [", "not valid YAML"),
        ("- a list", "must be a mapping"),
    ],
)
def test_mistakes_are_refused_with_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match=message) as refused:
        load_models_file(path)
    assert "sk-123" not in refused.value.message


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_models_file(tmp_path / "nope.yaml")
