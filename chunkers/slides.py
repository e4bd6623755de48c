"""``slides`` (PPTX, PPT): one chunk per slide, its speaker notes included.

A slide is the unit a presenter and a reader cite, so it stays one chunk when it
fits the limit (not only the target): title as ``section``, body lines, then
"Notes: " and the speaker notes; ``page`` is the slide number. A slide with no
text but its title uses the title as text. Only a slide over the limit is split,
by the product-docs rules inside that slide (tables then repeat their header),
and its chunks never mix with another slide's.

Slides are told apart by the elements' ``page`` (the slide number); when the
parser gives none, a ``page_break`` ends a slide.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

from chunkers.base import TokenCounter
from chunkers.blocks import Block
from chunkers.budget import Budget
from chunkers.element_blocks import code_blocks, prose_blocks
from chunkers.packing import pack_blocks
from chunkers.table_rows import render_row, table_blocks
from kernel.documents import ChunkDraft, Element, ParsedDocument

NOTES_LABEL = "Notes: "


class SlidesChunker:
    def chunk(self, doc: ParsedDocument, tokens: TokenCounter) -> list[ChunkDraft]:
        budget = Budget.of(tokens)
        drafts: list[ChunkDraft] = []
        for number, slide in enumerate(_slides(doc.elements), start=1):
            drafts.extend(_slide_chunks(slide, str(number), tokens, budget))
        return drafts


def _slides(elements: Sequence[Element]) -> Iterator[list[Element]]:
    slide: list[Element] = []
    for element in elements:
        if element.kind == "page_break":
            if slide:
                yield slide
            slide = []
            continue
        if slide and element.page is not None and slide[-1].page not in (None, element.page):
            yield slide
            slide = []
        if element.kind != "header" and (element.text.strip() or element.rows):
            slide.append(element)
    if slide:
        yield slide


def _slide_chunks(
    slide: list[Element], number: str, tokens: TokenCounter, budget: Budget
) -> list[ChunkDraft]:
    title_element = next((e for e in slide if e.kind == "title"), None)
    title = title_element.text.strip() if title_element else ""
    body = [e for e in slide if e is not title_element and e.kind != "notes"]
    notes = [e for e in slide if e.kind == "notes"]
    page = slide[0].page
    section = title or None
    text = _slide_text(body, notes) or title
    if tokens.count(text) <= budget.limit:
        return [ChunkDraft(text=text, section=section, page=page)]
    path = (title,) if title else ()
    group = (number,)
    blocks: list[Block] = []
    for element in body:
        if element.kind == "table" and element.rows:
            blocks.extend(table_blocks(element, path, tokens, budget))
        elif element.kind == "code":
            blocks.extend(code_blocks(element.text, element.page, path, tokens, budget))
        else:
            blocks.extend(prose_blocks(element.text, element.page, path, tokens, budget, "\n"))
    for element in notes:
        text = NOTES_LABEL + element.text.strip()
        blocks.extend(prose_blocks(text, element.page, path, tokens, budget))
    blocks = [b if b.standalone else replace(b, group=group) for b in blocks]
    return pack_blocks(blocks, tokens, budget)


def _slide_text(body: Sequence[Element], notes: Sequence[Element]) -> str:
    lines = [_element_text(e) for e in body]
    text = "\n".join(line for line in lines if line)
    spoken = "\n".join(e.text.strip() for e in notes if e.text.strip())
    if spoken:
        text = f"{text}\n\n{NOTES_LABEL}{spoken}" if text else NOTES_LABEL + spoken
    return text


def _element_text(element: Element) -> str:
    if element.kind == "table" and element.rows:
        return "\n".join(render_row(row) for row in element.rows if any(c.strip() for c in row))
    return element.text.strip()
