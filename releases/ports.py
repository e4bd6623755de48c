"""What releases need from the rooms around them, as narrow interfaces.

The composition root plugs in the prompt book (``prompts.book.PromptBook.get``), the
routes of the models file, for the eval gate a runner of the answers eval, and an
observer of answers per release (``observability.release_metrics``).
"""

from __future__ import annotations

from typing import Any, Protocol

from releases.model import Bundle


class PromptText(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def system(self) -> str: ...
    @property
    def user(self) -> str: ...


class PromptVersions(Protocol):
    def get(self, name: str, version: int) -> PromptText:
        """That version; ``NotFoundError`` when it does not exist."""
        ...


class BundleEval(Protocol):
    def __call__(self, bundle: Bundle | None) -> dict[str, Any]:
        """The answers eval's report run through ``bundle`` (None: the service's own
        settings); raises ``RaglineError`` when it cannot be run."""
        ...


class ReleaseObserver(Protocol):
    def answered(self, release: str, arm: str, outcome: str) -> None:
        """One request answered by ``release`` (an id, or "baseline") as ``arm``
        ("candidate" or "current"); ``outcome`` is "answered", "abstained", "degraded"
        or "error"."""
        ...
