"""A release's bundle applied to answering: its prompt version, its model route.

The answer service keeps one variant of itself per release (``AnswerService.ask``);
the parts that differ are built here: generation deps whose prompt source answers
with the pinned version and whose gateway carries the release's route on every
request (``generation.routing.RouteRequest.route``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from answer.ports import GenerationDeps, PromptSource, ResolvedPrompt
from generation.gateway import Generation, Message, ModelGateway, OnToken
from generation.routing import RouteRequest


@dataclass(frozen=True, slots=True)
class PinnedPrompts:
    """Resolves the pinned prompt for its name, and any other name as before."""

    pinned: ResolvedPrompt
    fallback: PromptSource

    def resolve(self, name: str, sticky_key: str) -> ResolvedPrompt:
        if name == self.pinned.name:
            return self.pinned
        return self.fallback.resolve(name, sticky_key)


@dataclass(frozen=True, slots=True)
class RoutedGateway:
    """The gateway, with every request on the release's route."""

    inner: ModelGateway
    route: str

    def generate(
        self,
        messages: Sequence[Message],
        request: RouteRequest,
        *,
        on_token: OnToken | None = None,
    ) -> Generation:
        return self.inner.generate(messages, replace(request, route=self.route), on_token=on_token)

    def receives_pii(self, request: RouteRequest) -> bool:
        return self.inner.receives_pii(replace(request, route=self.route))


def release_deps(
    deps: GenerationDeps, prompt: ResolvedPrompt | None, route: str | None
) -> GenerationDeps:
    if prompt is not None:
        deps = replace(deps, prompts=PinnedPrompts(prompt, deps.prompts))
    if route is not None:
        deps = replace(deps, gateway=RoutedGateway(deps.gateway, route))
    return deps
