"""The model gateway on LiteLLM's Router: fallbacks, retries, timeouts, cooldowns.

Every deployment of the models file is its own Router model group (named after the
deployment), so a route is a list of names: the first is called, and the rest are
passed as that request's fallbacks. Passing them per request (instead of leaving the
Router's own list in force) is what keeps residency: a request pinned to ``eu`` never
falls back to a ``us`` deployment. The Router's list is still given, because its
cooldown logic (the circuit breaker: ``allowed_fails`` failures in a minute and a
deployment is skipped for ``cooldown_s``) only applies to groups that have fallbacks.

Prices come from the models file, not from LiteLLM's price map: a self-hosted or
negotiated deployment costs what its operator says. LiteLLM is imported when the
gateway is built (a models file is configured), not when ragline starts.

LiteLLM does not cool down a deployment that refuses connections (its
``APIConnectionError`` is exempt); ``generation.breaker`` does, for every failure the
gateway sees, and keeps such deployments out of the chain it hands the Router.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from generation.breaker import Breaker
from generation.gateway import Generation, GenerationFailedError, Message, OnToken
from generation.routing import NoRouteError, RouteRequest, plan_route
from kernel.errors import ConfigurationError
from kernel.models_config import Deployment, ModelsFile

log = logging.getLogger(__name__)

# LiteLLM's own loggers print each provider error (with request details) at ERROR;
# ragline logs one line per failed answer itself, without prompt text.
_LITELLM_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")


class LiteLLMGateway:
    def __init__(
        self,
        models: ModelsFile,
        environ: Mapping[str, str] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._models = models
        self._breaker = Breaker(models.routing.allowed_fails, models.routing.cooldown_s, clock)
        env = os.environ if environ is None else environ
        # Read before LiteLLM is imported: without it the import fetches a price map
        # from the internet (ragline's prices are the models file's anyway).
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        import litellm
        from litellm.router import Router

        litellm.suppress_debug_info = True
        for name in _LITELLM_LOGGERS:
            logging.getLogger(name).setLevel(logging.CRITICAL)
        routing = models.routing
        # LiteLLM keeps per-deployment state (HTTP clients, failure counts) in caches
        # shared by every Router in the process, keyed by the deployment id: ids unique
        # to this gateway keep a rebuilt gateway (tests, a restarted app) off stale state.
        self._instance = secrets.token_hex(4)
        self._router = Router(
            model_list=[_model_entry(d, env, self._instance) for d in models.deployments],
            fallbacks=[{source: list(targets)} for source, targets in routing.fallbacks.items()],
            num_retries=routing.retries,
            allowed_fails=routing.allowed_fails,
            cooldown_time=routing.cooldown_s,
        )

    @property
    def models(self) -> ModelsFile:
        return self._models

    def generate(
        self,
        messages: Sequence[Message],
        request: RouteRequest,
        *,
        on_token: OnToken | None = None,
    ) -> Generation:
        try:
            plan = plan_route(self._models, request)
        except NoRouteError as exc:
            raise GenerationFailedError(str(exc)) from None
        chain = tuple(self._breaker.closed(plan.chain))
        if not chain:
            raise GenerationFailedError(
                f"every allowed model deployment ({', '.join(plan.chain)}) is cooling down "
                "after repeated failures"
            )
        first = self._models.deployment(chain[0])
        kwargs: dict[str, Any] = {
            "model": first.name,
            "messages": list(messages),
            "fallbacks": [{first.name: list(chain[1:])}] if len(chain) > 1 else [],
            "max_tokens": first.max_output_tokens,
            "temperature": 0,
        }
        try:
            if on_token is None:
                response = self._router.completion(**kwargs)
                text = response.choices[0].message.content or ""
                usage = getattr(response, "usage", None)
                deployment = self._name(response._hidden_params.get("model_id"), first.name)
            else:
                text, usage, deployment = self._stream(kwargs, first.name, on_token)
        except Exception as exc:  # noqa: BLE001  (any provider failure means: degrade)
            self._breaker.failed(chain)
            reason = _reason(exc, chain)
            log.warning("generation failed on every deployment tried: %s", reason)
            raise GenerationFailedError(reason, failed=chain) from None
        answered = self._models.deployment(deployment)
        failed = _before(chain, answered.name)
        self._breaker.failed(failed)
        self._breaker.succeeded(answered.name)
        prompt_tokens, completion_tokens = _tokens(usage, answered, messages, text)
        return Generation(
            text=text,
            deployment=answered.name,
            tier=answered.tier,
            failed=failed,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=answered.cost_usd(prompt_tokens, completion_tokens),
        )

    def receives_pii(self, request: RouteRequest) -> bool:
        try:
            plan = plan_route(self._models, request)
        except NoRouteError:
            return False
        return all(self._models.deployment(name).pii == "allow" for name in plan.chain)

    def _stream(
        self, kwargs: dict[str, Any], first: str, on_token: OnToken
    ) -> tuple[str, Any, str]:
        stream = self._router.completion(
            **kwargs, stream=True, stream_options={"include_usage": True}
        )
        pieces: list[str] = []
        usage: Any = None
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                piece = chunk.choices[0].delta.content
                pieces.append(piece)
                on_token(piece)
            if getattr(chunk, "usage", None):
                usage = chunk.usage
        hidden = getattr(stream, "_hidden_params", None) or {}
        return "".join(pieces), usage, self._name(hidden.get("model_id"), first)

    def _name(self, model_id: object, default: str) -> str:
        """The deployment name of a LiteLLM deployment id (``name#instance``)."""
        if not isinstance(model_id, str) or not model_id:
            return default
        return model_id.rsplit("#", 1)[0]


def _model_entry(deployment: Deployment, env: Mapping[str, str], instance: str) -> dict[str, Any]:
    params: dict[str, Any] = {
        "model": deployment.model,
        "timeout": deployment.timeout_s,
        # Retries are the Router's (num_retries), not the HTTP client's.
        "max_retries": 0,
    }
    if deployment.api_base:
        params["api_base"] = deployment.api_base
    if deployment.api_version:
        params["api_version"] = deployment.api_version
    if deployment.api_key_env:
        key = env.get(deployment.api_key_env)
        if not key:
            raise ConfigurationError(
                f"deployment {deployment.name}: the environment variable "
                f"{deployment.api_key_env} (its api_key_env) is not set"
            )
        params["api_key"] = key
    if deployment.rpm:
        params["rpm"] = deployment.rpm
    if deployment.tpm:
        params["tpm"] = deployment.tpm
    return {
        "model_name": deployment.name,
        "litellm_params": params,
        "model_info": {"id": f"{deployment.name}#{instance}"},
    }


def _tokens(
    usage: Any, deployment: Deployment, messages: Sequence[Message], text: str
) -> tuple[int, int]:
    prompt = getattr(usage, "prompt_tokens", None)
    completion = getattr(usage, "completion_tokens", None)
    if isinstance(prompt, int) and isinstance(completion, int):
        return prompt, completion
    # A provider that reports no usage: count with LiteLLM's tokenizer for the model.
    import litellm

    counted_prompt = litellm.token_counter(model=deployment.model, messages=list(messages))
    counted_completion = litellm.token_counter(model=deployment.model, text=text)
    return int(counted_prompt), int(counted_completion)


def _before(chain: tuple[str, ...], name: str) -> tuple[str, ...]:
    return chain[: chain.index(name)] if name in chain else chain


def _reason(exc: Exception, chain: Sequence[str]) -> str:
    """Why generation failed, in words safe for a response body: no URL, no key, no prompt."""
    kind = type(exc).__name__
    status = getattr(exc, "status_code", None)
    detail = f"{kind} ({status})" if status else kind
    return f"every model deployment tried failed ({', '.join(chain)}); last error: {detail}"
