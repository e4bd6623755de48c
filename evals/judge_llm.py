"""llama-index's LLM interface over ragline's model gateway port, for the eval's judge.

llama-index's evaluators call an ``LLM``; this one hands each prompt to a
:class:`~generation.gateway.ModelGateway` as one user message, on the route the caller
gives (the judged answer's buckets, so residency holds for the judge's prompts as it
did for the answer's), and keeps every :class:`~generation.gateway.Generation` it got,
so the caller can add up the judge's tokens and cost and see which deployment judged.
A gateway failure is :class:`~generation.gateway.GenerationFailedError`, raised through
the evaluator unchanged.

Importing this module imports llama-index: only ``--judge`` runs pay for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.base.llms.types import (
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
)
from llama_index.core.llms import CustomLLM
from llama_index.core.llms.callbacks import llm_completion_callback
from pydantic import PrivateAttr

from generation.gateway import Generation, ModelGateway
from generation.routing import RouteRequest

# The models file says nothing of context windows; llama-index packs the contexts into
# prompts of at most this many tokens (and refines over more calls beyond it). Every
# current chat model takes 8k; a golden answer's cited chunks need far less.
JUDGE_CONTEXT_WINDOW = 8192


class GatewayLLM(CustomLLM):
    """A llama-index ``CustomLLM`` whose every completion is one ``gateway.generate`` call.

    Not streamed: the evaluators read whole YES/NO verdicts, so ``stream_complete``
    yields the whole text once. One instance serves one route; build another for
    another answer.
    """

    _gateway: ModelGateway = PrivateAttr()
    _route: RouteRequest = PrivateAttr()
    _model_name: str = PrivateAttr()
    _num_output: int = PrivateAttr()
    _generations: list[Generation] = PrivateAttr(default_factory=list)

    def __init__(
        self, gateway: ModelGateway, route: RouteRequest, *, model_name: str, num_output: int
    ) -> None:
        super().__init__()
        self._gateway = gateway
        self._route = route
        self._model_name = model_name
        self._num_output = num_output

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(
            model_name=self._model_name,
            context_window=JUDGE_CONTEXT_WINDOW,
            num_output=self._num_output,
            is_chat_model=False,
        )

    @property
    def generations(self) -> Sequence[Generation]:
        """What the gateway returned, one per completion, in order."""
        return tuple(self._generations)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=self._ask(prompt))

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        text = self._ask(prompt)

        def once() -> CompletionResponseGen:
            yield CompletionResponse(text=text, delta=text)

        return once()

    def _ask(self, prompt: str) -> str:
        generation = self._gateway.generate([{"role": "user", "content": prompt}], self._route)
        self._generations.append(generation)
        return generation.text
