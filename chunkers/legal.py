"""``legal``: chunks made of whole clauses, so none starts mid-clause.

Clauses are found at the start of headings and of lines ("1.", "2.1", "(a)",
"Article IV", "Section 5"; see ``text.clauses``), and inside a line
where a converter joined the lines, at numbers that continue the numbering
("2. Fees and Payment 2.1 Customer ... 2.2 Invoices ..."; see
``chunkers.inline_clauses``). A clause runs until the next one starts,
unnumbered paragraphs after it included; paragraphs before the first clause
(the preamble, recitals) are units of their own. A line that is only a
numbered heading ("2. Fees and Payment") is read like a title: it goes into
the path, not the text, so the chunk under it opens on clause 2.1. Whole clauses
are packed to the target, never across top-level clauses, so a chunk always
opens on a clause number. Only a clause that alone exceeds the limit is cut
(between paragraphs, inline "(a)" items, sentences, then "; " and words); its
later parts carry ``continued``: "true".

``section`` is the heading path the chunk's clauses share ("2. Payment > 2.1
Fees" for a chunk inside 2.1, "2. Payment" for one holding 2.1 and 2.2), and
``clause`` names the clause the chunk opens with ("2.1(a)"; a heading left with
no clause under it, kept as text, names its own number). Unnumbered
headings sit above all numbering: "Schedule 1" closes clause 12.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from chunkers.base import TokenCounter
from chunkers.blocks import Block
from chunkers.budget import Budget
from chunkers.clause_markers import ClauseMarker, clause_label, is_heading_line, read_marker
from chunkers.element_blocks import DROPPED_KINDS, orphan_blocks
from chunkers.fitting import clauses, fit, lines, paragraphs, split_before, words
from chunkers.headings import HeadingTrail, Orphan
from chunkers.inline_clauses import split_inline_clauses
from chunkers.packing import pack_blocks
from chunkers.table_rows import table_blocks
from kernel.documents import ChunkDraft, Element, ParsedDocument
from text.clauses import CLAUSE_LINE, number_parts
from text.sentences import split_sentences

# Inline "(a)" / "(iv)" items; not "(30)", which is how contracts repeat a number.
_inline_items = split_before(r"(?<=\s)\((?:[a-z]{1,4}|[A-Z])\)\s")
LEGAL_LEVELS = (paragraphs, _inline_items, split_sentences, clauses, lines, words)
_clause_lines = split_before(CLAUSE_LINE.pattern)
# Unnumbered headings rank above every clause number (whose ranks start at 1).
_HEADING_RANK_STEP = 0.1


class LegalChunker:
    def chunk(self, doc: ParsedDocument, tokens: TokenCounter) -> list[ChunkDraft]:
        budget = Budget.of(tokens)
        reader = _ClauseReader(tokens, budget)
        for element in doc.elements:
            reader.read(element)
        return pack_blocks(reader.finish(), tokens, budget)


@dataclass(slots=True)
class _Clause:
    path: tuple[str, ...]
    group: tuple[str, ...]
    page: int | None
    numbered: bool
    parts: list[str] = field(default_factory=list)


class _ClauseReader:
    def __init__(self, tokens: TokenCounter, budget: Budget) -> None:
        self.tokens = tokens
        self.budget = budget
        self.trail = HeadingTrail()
        self.blocks: list[Block] = []
        self.open: _Clause | None = None

    def read(self, element: Element) -> None:
        if element.kind in DROPPED_KINDS or not (element.text.strip() or element.rows):
            return
        if element.kind == "title":
            self._close()
            marker = read_marker(element.text, self.trail.deepest)
            rank = marker.rank if marker else _HEADING_RANK_STEP * ((element.level or 1) - 1)
            self._enter_heading(rank, element.text.strip(), element.text.strip(), element.page)
        elif element.kind == "table" and element.rows:
            self._close()
            path = self.trail.claim()
            self.blocks.extend(table_blocks(element, path, self.tokens, self.budget))
        else:
            for index, line in enumerate(_clause_lines(element.text)):
                for part, segment in enumerate(split_inline_clauses(line, self._numbering(line))):
                    joins = index > 0 or part > 0
                    self._read_segment(segment.strip(), element.page, joins_previous=joins)

    def finish(self) -> list[Block]:
        self._close()
        self.blocks.extend(self._orphan_blocks(self.trail.finish()))
        return self.blocks

    def _read_segment(self, text: str, page: int | None, *, joins_previous: bool) -> None:
        if not text:
            return
        marker = read_marker(text, self.trail.deepest)
        if marker is None and self.open is not None and self.open.numbered:
            self.open.parts.append(("\n" if joins_previous else "\n\n") + text)
            return
        self._close()
        if marker is not None and is_heading_line(text, marker):
            self._enter_heading(marker.rank, clause_label(text, marker), text, page)
            return
        if marker is not None:
            orphans = self.trail.enter(marker.rank, clause_label(text, marker), page)
            self.blocks.extend(self._orphan_blocks(orphans))
        path = self.trail.claim()
        self.open = _Clause(path, self._group(), page, marker is not None, [text])

    def _enter_heading(self, rank: float, label: str, text: str, page: int | None) -> None:
        """Open a heading: a title, or a line that is only "2. Fees and Payment".

        A heading that starts a group (a top-level clause, or anything above the
        numbering) lives in the section path alone: every chunk of the group
        carries it. One deeper ("Section 2.2 Restrictions" under an Article) also
        opens its clause as the first line: packed with its siblings, the chunk's
        section stops at the group, and the heading would be lost.
        """
        self.blocks.extend(self._orphan_blocks(self.trail.enter(rank, label, page)))
        if self.trail.path != self._group():
            self.open = _Clause(self.trail.claim(), self._group(), page, True, [text])

    def _numbering(self, line: str) -> tuple[int, ...] | None:
        """The clause number in force at the start of ``line``: its own, else the open one's."""
        marker = read_marker(line, self.trail.deepest)
        if marker is not None and (parts := number_parts(marker.number)):
            return parts
        for label in reversed(self.trail.path):
            found = read_marker(label)
            if found is not None and (parts := number_parts(found.number)):
                return parts
        return None

    def _orphan_blocks(self, orphans: list[Orphan]) -> list[Block]:
        """Headings with no clause under them, as text, citing their own number."""
        found: list[Block] = []
        for orphan in orphans:
            number = clause_number(orphan.path)
            for block in orphan_blocks([orphan], self.tokens, self.budget):
                found.append(replace(block, metadata={"clause": number}) if number else block)
        return found

    def _group(self) -> tuple[str, ...]:
        """Clauses share chunks only under the same top-level clause."""
        return self.trail.path_through_rank(1.0)

    def _close(self) -> None:
        clause, self.open = self.open, None
        if clause is None:
            return
        text = "".join(clause.parts)
        number = clause_number(clause.path)
        metadata = {"clause": number} if number else {}
        pieces = fit(
            text,
            self.tokens,
            limit=self.budget.limit,
            target=self.budget.target,
            levels=LEGAL_LEVELS,
        )
        for index, piece in enumerate(pieces):
            extra = {"continued": "true"} if index else {}
            self.blocks.append(
                Block(
                    text=piece.text,
                    tokens=piece.tokens,
                    page=clause.page,
                    path=clause.path,
                    group=clause.group,
                    sep=(piece.joint or " ") if index else "\n\n",
                    metadata={**metadata, **extra},
                )
            )


def clause_number(path: tuple[str, ...]) -> str | None:
    """How a reference would cite the innermost clause of ``path``: "2.1(a)(i)"."""
    items: list[str] = []
    for label in reversed(path):
        marker: ClauseMarker | None = read_marker(label)
        if marker is None:
            break
        if marker.number.startswith("("):
            items.append(marker.number)
            continue
        return marker.number + "".join(reversed(items))
    return "".join(reversed(items)) or None
