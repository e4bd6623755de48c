"""Placeholders streamed back in pieces are restored before the caller sees them."""

from __future__ import annotations

import pytest

from answer.pii_stream import RestoringStream

VALUES = {"<EMAIL_1>": "jane@example.com", "<PHONE_1>": "+44 20 7946 0958"}


def _restore(text: str) -> str:
    for placeholder, value in VALUES.items():
        text = text.replace(placeholder, value)
    return text


def _streamed(pieces: list[str]) -> list[str]:
    seen: list[str] = []
    stream = RestoringStream(seen.append, _restore)
    for piece in pieces:
        stream(piece)
    stream.flush()
    return seen


@pytest.mark.parametrize(
    "pieces",
    [
        ["Write to <EMAIL_1> today."],
        ["Write to <", "EMAIL_1> today."],
        ["Write to <EM", "AIL", "_1", "> today."],
        ["Write", " to <EMAIL_1", ">", " today", "."],
    ],
)
def test_a_placeholder_is_restored_however_it_is_split(pieces: list[str]) -> None:
    seen = _streamed(pieces)

    assert "".join(seen) == "Write to jane@example.com today."
    assert not any("<" in piece or "EMAIL" in piece for piece in seen)


def test_two_placeholders_in_one_piece_and_text_after_them() -> None:
    seen = _streamed(["Mail <EMAIL_1> or call <PHO", "NE_1>", " now"])

    assert "".join(seen) == "Mail jane@example.com or call +44 20 7946 0958 now"


def test_a_lone_angle_bracket_is_text_and_is_not_held_for_ever() -> None:
    long_tail = "x" * 50
    seen = _streamed(["if a < b then", f" {long_tail}", " end"])

    assert "".join(seen) == f"if a < b then {long_tail} end"
    assert len(seen) >= 2  # passed on once it clearly was no placeholder, not only at the end


def test_a_stream_that_ends_inside_a_bracket_loses_nothing() -> None:
    seen = _streamed(["Costs <", "5 euros"])

    assert "".join(seen) == "Costs <5 euros"
