"""Merging blocks into chunks: the one place that decides where chunks end.

Blocks are taken in order; a chunk never mixes groups (sections, clauses,
quoted and new mail) and a standalone block is a chunk on its own. Inside a
group, windows grow while they stay within the target, or while they are still
a fragment (under the floor) and stay within the limit; a small last window is
folded into the one before when the two fit the limit together.

Sizes are the sums of the blocks' own counts (joins cost nothing for WordPiece);
each merged chunk is then counted once, and split again if the sum was wrong.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import accumulate

from chunkers.base import TokenCounter
from chunkers.blocks import Block
from chunkers.budget import Budget
from chunkers.fitting import fit
from kernel.documents import ChunkDraft


def plan_windows(
    sizes: Sequence[int], *, target: int, floor: int, limit: int, overlap: int = 0
) -> list[tuple[int, int]]:
    """Half-open index ranges covering ``sizes`` in order, each summing to ``limit`` or less.

    Every size must already be within ``limit``. With ``overlap``, a window starts
    with the trailing items of the previous one that sum to ``overlap`` or less,
    as long as that leaves room for at least one new item within ``target``.
    """
    prefix = [0, *accumulate(sizes)]

    def total(start: int, end: int) -> int:
        return prefix[end] - prefix[start]

    windows: list[tuple[int, int]] = []
    start = done = 0
    while done < len(sizes):
        while start < done and total(start, done + 1) > target:
            start += 1
        end = done + 1
        while end < len(sizes):
            grown = total(start, end + 1)
            if grown > target and (total(start, end) >= floor or grown > limit):
                break
            end += 1
        windows.append((start, end))
        done = start = end
        while overlap and start - 1 > windows[-1][0] and total(start - 1, end) <= overlap:
            start -= 1
    if len(windows) > 1:
        (first, _), (_, last_end) = windows[-2], windows[-1]
        if total(windows[-2][1], last_end) < floor and total(first, last_end) <= limit:
            windows[-2:] = [(first, last_end)]
    return windows


def pack_blocks(
    blocks: Sequence[Block], tokens: TokenCounter, budget: Budget, *, overlap: bool = False
) -> list[ChunkDraft]:
    """Chunk drafts from blocks that are each within the limit, in reading order."""
    drafts: list[ChunkDraft] = []
    for run in _runs(blocks):
        windows = plan_windows(
            [b.tokens for b in run],
            target=budget.target,
            floor=budget.floor,
            limit=budget.limit,
            overlap=budget.overlap if overlap else 0,
        )
        for start, end in windows:
            drafts.extend(_drafts(run[start:end], tokens, budget))
    return drafts


def _runs(blocks: Sequence[Block]) -> Iterator[Sequence[Block]]:
    start = 0
    for index in range(1, len(blocks) + 1):
        if (
            index == len(blocks)
            or blocks[index].standalone
            or blocks[index - 1].standalone
            or blocks[index].group_key != blocks[index - 1].group_key
        ):
            yield blocks[start:index]
            start = index


def _drafts(blocks: Sequence[Block], tokens: TokenCounter, budget: Budget) -> list[ChunkDraft]:
    # Only line breaks and trailing spaces go: a code part keeps its indentation.
    text = (blocks[0].text + "".join(b.sep + b.text for b in blocks[1:])).strip("\n").rstrip()
    if not text.strip():
        return []
    if len(blocks) == 1 and blocks[0].tokens <= budget.limit and text == blocks[0].text:
        return [_draft(text, blocks)]
    if tokens.count(text) <= budget.limit:
        return [_draft(text, blocks)]
    if len(blocks) > 1:
        half = len(blocks) // 2
        return _drafts(blocks[:half], tokens, budget) + _drafts(blocks[half:], tokens, budget)
    pieces = fit(text, tokens, limit=budget.limit, target=budget.target)
    return [_draft(piece.text, blocks) for piece in pieces]


def _draft(text: str, blocks: Sequence[Block]) -> ChunkDraft:
    section = " > ".join(_common_prefix([b.path for b in blocks])) or None
    return ChunkDraft(
        text=text, section=section, page=blocks[0].page, metadata=dict(blocks[0].metadata)
    )


def _common_prefix(paths: Sequence[tuple[str, ...]]) -> tuple[str, ...]:
    prefix = paths[0]
    for path in paths[1:]:
        size = 0
        for mine, theirs in zip(prefix, path, strict=False):
            if mine != theirs:
                break
            size += 1
        prefix = prefix[:size]
    return prefix
