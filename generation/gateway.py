"""The model gateway's port: what answering asks of a generative model, provider-neutral.

Application code never calls a provider: it hands chat messages and the request's
routing facts to a :class:`ModelGateway`, and gets back text with the deployment
that wrote it, the ones that failed before it, tokens and cost; or
:class:`GenerationFailedError` with a reason fit to show a user (no key, no URL).
The LiteLLM adapter (``generation.litellm_gateway``) is the production one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from generation.routing import RouteRequest
from kernel.models_config import Tier

Message = dict[str, str]
OnToken = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Generation:
    text: str
    deployment: str
    tier: Tier
    # Deployments tried before the one that answered (failed, timed out, or cooling down).
    failed: tuple[str, ...]
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


class GenerationFailedError(Exception):
    """No deployment produced an answer; ``reason`` is safe to show and to log."""

    def __init__(self, reason: str, *, failed: Sequence[str] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.failed = tuple(failed)


class ModelGateway(Protocol):
    def generate(
        self,
        messages: Sequence[Message],
        request: RouteRequest,
        *,
        on_token: OnToken | None = None,
    ) -> Generation:
        """Answer ``messages`` on the route ``request`` allows, falling back on failure.

        With ``on_token`` the answer is streamed: each piece of text is passed to it as
        it arrives, and the whole is returned at the end as well.
        """
        ...

    def receives_pii(self, request: RouteRequest) -> bool:
        """True only when every deployment ``request`` may reach allows personal data.

        Fallbacks happen inside :meth:`generate` with the same messages, so one
        deployment that must not see personal data means none of them gets it.
        """
        ...
