"""Elements to blocks, for the strategies that read a document as headed sections.

Headings go into the path, never into the text. Page furniture (``header``) and
page breaks are dropped: pages travel on the blocks. Tables follow the table
rules; code blocks stay whole unless they alone exceed the limit. Prose is one
block per element (``product_docs``) or one per sentence (``generic``, whose
windows then cut between sentences).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from chunkers.base import TokenCounter
from chunkers.blocks import Block
from chunkers.budget import Budget
from chunkers.fitting import CODE_LEVELS, PROSE_LEVELS, SUBSENTENCE_LEVELS, Splitter, fit
from chunkers.headings import HeadingTrail, Orphan
from chunkers.table_rows import table_blocks
from kernel.documents import Element
from text.sentences import split_sentences

DROPPED_KINDS = frozenset({"header", "page_break"})


def heading_aware_blocks(
    elements: Iterable[Element], tokens: TokenCounter, budget: Budget, *, by_sentence: bool
) -> list[Block]:
    """Blocks in reading order, each within the limit, each under its heading path."""
    trail = HeadingTrail()
    found: list[Block] = []
    previous_kind = ""
    for element in elements:
        if element.kind in DROPPED_KINDS or not (element.text.strip() or element.rows):
            continue
        if element.kind == "title":
            orphans = trail.enter(element.level or 1, element.text.strip(), element.page)
            found.extend(orphan_blocks(orphans, tokens, budget))
        elif element.kind == "table" and element.rows:
            found.extend(table_blocks(element, trail.claim(), tokens, budget))
        elif element.kind == "code":
            found.extend(code_blocks(element.text, element.page, trail.claim(), tokens, budget))
        else:
            sep = "\n" if element.kind == previous_kind == "list_item" else "\n\n"
            path = trail.claim()
            if by_sentence:
                found.extend(sentence_blocks(element.text, element.page, path, tokens, budget, sep))
            else:
                found.extend(prose_blocks(element.text, element.page, path, tokens, budget, sep))
        previous_kind = element.kind
    found.extend(orphan_blocks(trail.finish(), tokens, budget))
    return found


def prose_blocks(
    text: str,
    page: int | None,
    path: tuple[str, ...],
    tokens: TokenCounter,
    budget: Budget,
    sep: str = "\n\n",
    *,
    group: tuple[str, ...] | None = None,
    metadata: Mapping[str, str] | None = None,
    levels: Sequence[Splitter] = PROSE_LEVELS,
) -> list[Block]:
    """One block for a paragraph, or target-sized pieces of it when it exceeds the limit."""
    pieces = fit(text, tokens, limit=budget.limit, target=budget.target, levels=levels)
    return [
        Block(
            text=piece.text,
            tokens=piece.tokens,
            page=page,
            path=path,
            group=group,
            sep=sep if index == 0 else piece.joint or " ",
            metadata=metadata or {},
        )
        for index, piece in enumerate(pieces)
    ]


def sentence_blocks(
    text: str,
    page: int | None,
    path: tuple[str, ...],
    tokens: TokenCounter,
    budget: Budget,
    sep: str = "\n\n",
) -> list[Block]:
    """One block per sentence (a giant sentence in target-sized pieces)."""
    found: list[Block] = []
    for sentence in split_sentences(text):
        for piece in fit(
            sentence, tokens, limit=budget.limit, target=budget.target, levels=SUBSENTENCE_LEVELS
        ):
            found.append(Block(piece.text, piece.tokens, page, path, sep=sep if not found else " "))
    return found


def code_blocks(
    text: str, page: int | None, path: tuple[str, ...], tokens: TokenCounter, budget: Budget
) -> list[Block]:
    """The code block whole; cut between blank lines, then lines, only if over the limit."""
    pieces = fit(
        text, tokens, limit=budget.limit, target=budget.target, levels=CODE_LEVELS, keep_indent=True
    )
    if len(pieces) == 1:
        return [Block(pieces[0].text, pieces[0].tokens, page, path)]
    return [
        Block(
            piece.text,
            piece.tokens,
            page,
            path,
            sep=piece.joint or "\n\n",
            metadata={"code_part": f"{i}/{len(pieces)}"},
        )
        for i, piece in enumerate(pieces, start=1)
    ]


def orphan_blocks(orphans: Iterable[Orphan], tokens: TokenCounter, budget: Budget) -> list[Block]:
    """Headings that had no text under them, as text of their own so they are not lost."""
    found: list[Block] = []
    for orphan in orphans:
        found.extend(prose_blocks(orphan.path[-1], orphan.page, orphan.path, tokens, budget))
    return found
