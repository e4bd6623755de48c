"""Streamed tokens with personal-data placeholders put back before the caller sees them.

A model that was sent ``<EMAIL_1>`` streams it back in pieces (``<EM``, ``AIL_1>``),
so a piece cannot be restored on its own: text from an unclosed ``<`` is held until
the placeholder closes (or clearly is not one) and then passed on restored.
"""

from __future__ import annotations

from collections.abc import Callable

from generation.gateway import OnToken

# Longer than any placeholder the redaction makes (``<CREDIT_CARD_123>``): a ``<``
# held this long without closing is text, not a placeholder.
_LONGEST_PLACEHOLDER = 40


class RestoringStream:
    def __init__(self, on_token: OnToken, restore: Callable[[str], str]) -> None:
        self._on_token = on_token
        self._restore = restore
        self._held = ""

    def __call__(self, piece: str) -> None:
        text = self._held + piece
        cut = text.rfind("<")
        if cut != -1 and ">" not in text[cut:] and len(text) - cut < _LONGEST_PLACEHOLDER:
            text, self._held = text[:cut], text[cut:]
        else:
            self._held = ""
        if text:
            self._on_token(self._restore(text))

    def flush(self) -> None:
        """Pass on whatever is still held (the stream ended inside a ``<``)."""
        if self._held:
            held, self._held = self._held, ""
            self._on_token(self._restore(held))
