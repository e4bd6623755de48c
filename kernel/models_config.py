"""The models file (``RAGLINE_MODELS_FILE``): deployments, routing rules and budgets.

One YAML file says which generative models ragline may call and what they cost, so
that changing provider, price or fallback order is an edit and a restart, never a
code change. Keys never appear in it: a deployment names the environment variable
that holds its key (``api_key_env``), and the variable is read when the gateway is
built. The file is validated in full at start-up; a mistake is refused with a
message that names the field, before any request depends on it.

No file (the embedded default) means no generative model: answers are extractive,
and not marked degraded, since nothing failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kernel.errors import ConfigurationError

Tier = Literal["fast", "frontier"]
TIERS: tuple[Tier, ...] = ("fast", "frontier")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Deployment(_Strict):
    """One model endpoint ragline may call, and what a token costs there."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    # A LiteLLM model string: openai/gpt-4o-mini, anthropic/claude-..., azure/<deployment>,
    # bedrock/..., ollama/llama3, hosted_vllm/..., or openai/<name> for any compatible server.
    model: str = Field(min_length=1)
    api_base: str | None = None
    # The name of the environment variable holding the key, never the key itself.
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    api_version: str | None = None  # Azure
    tier: Tier = "frontier"
    region: str = Field(default="any", min_length=1, max_length=32)
    # What this deployment receives of the personal data in a question or its sources:
    # "redact" sends typed placeholders (<EMAIL_1>) and restores them in the answer;
    # "allow" sends the text as it is: only for a model inside your own boundary.
    pii: Literal["redact", "allow"] = "redact"
    input_price_per_mtok: float = Field(default=0.0, ge=0)
    output_price_per_mtok: float = Field(default=0.0, ge=0)
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    max_output_tokens: int = Field(default=512, ge=1, le=32768)
    # Provider rate limits: LiteLLM's router keeps each deployment under them.
    rpm: int | None = Field(default=None, ge=1)
    tpm: int | None = Field(default=None, ge=1)

    def cost_usd(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (
            prompt_tokens * self.input_price_per_mtok
            + completion_tokens * self.output_price_per_mtok
        ) / 1_000_000


class Routing(_Strict):
    """Which tier a request starts on, and where it goes when a deployment fails."""

    default_tier: Tier = "frontier"
    # Questions shorter than this go to the fast tier (0: never); a long or hard
    # question keeps the default.
    fast_below_chars: int = Field(default=0, ge=0)
    # Buckets whose answers always use this tier (a bucket's `sensitivity` may also
    # name one, see `sensitivity_tiers`).
    bucket_tiers: dict[str, Tier] = Field(default_factory=dict)
    sensitivity_tiers: dict[str, Tier] = Field(default_factory=dict)
    # deployment -> the deployments tried, in order, when it fails.
    fallbacks: dict[str, list[str]] = Field(default_factory=dict)
    # Circuit breaker: after this many failures within a minute a deployment is
    # skipped for `cooldown_s`.
    allowed_fails: int = Field(default=2, ge=0)
    cooldown_s: float = Field(default=30.0, ge=0)
    # Retries on the same deployment before its fallbacks (LiteLLM's num_retries).
    retries: int = Field(default=0, ge=0, le=5)


class Limits(_Strict):
    """Spend limits in US dollars; None leaves that limit off."""

    daily_soft_usd: float | None = Field(default=None, gt=0)
    daily_hard_usd: float | None = Field(default=None, gt=0)
    monthly_soft_usd: float | None = Field(default=None, gt=0)
    monthly_hard_usd: float | None = Field(default=None, gt=0)


class Budgets(_Strict):
    """Budgets per team and per key (by the key's configured ``name``)."""

    teams: dict[str, Limits] = Field(default_factory=dict)
    keys: dict[str, Limits] = Field(default_factory=dict)
    # What a hard limit does: refuse with 429, or answer on the fast tier.
    on_hard_limit: Literal["refuse", "downgrade"] = "refuse"


class ModelsFile(_Strict):
    deployments: list[Deployment] = Field(min_length=1)
    routing: Routing = Routing()
    budgets: Budgets = Budgets()

    @model_validator(mode="after")
    def _names_resolve(self) -> ModelsFile:
        names = [d.name for d in self.deployments]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"deployment names must be unique: {', '.join(duplicates)}")
        known = set(names)
        for source, targets in self.routing.fallbacks.items():
            unknown = [n for n in (source, *targets) if n not in known]
            if unknown:
                raise ValueError(f"routing.fallbacks names unknown deployments: {unknown}")
        return self

    def deployment(self, name: str) -> Deployment:
        for deployment in self.deployments:
            if deployment.name == name:
                return deployment
        raise KeyError(name)


def load_models_file(path: Path) -> ModelsFile:
    """Read and validate the models file; :class:`ConfigurationError` names what is wrong."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"models file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"models file {path} cannot be read: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"models file {path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigurationError(f"models file {path} must be a mapping with `deployments:`")
    try:
        return ModelsFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(file)'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigurationError(f"models file {path} is invalid: {problems}") from None
