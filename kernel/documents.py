"""Value types that travel between parsing, chunking, indexing and answering.

They are plain frozen dataclasses so they pickle across the parser's child
process and carry no behaviour that would tie one room to another.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

ElementKind = Literal[
    "title",  # a heading; ``level`` says how deep (1 = top)
    "text",  # narrative text, a paragraph
    "list_item",
    "table",  # ``rows`` holds the cells; ``has_header``/``header_rows`` say which lead
    "code",  # a code block: never split
    "page_break",
    "header",  # page header/footer furniture
    "email_header",
    "notes",  # speaker notes of a slide
]


@dataclass(frozen=True, slots=True)
class Element:
    """One structural piece of a parsed document, in reading order.

    For a table, ``has_header`` says it opens with a header; ``header_rows`` is
    how many leading rows the source itself declares as header (the rows of an
    HTML ``<thead>``, or of ``<th>`` cells only), ``None`` when it declares no
    count. Chunkers repeat at least that many rows in every chunk of the table.
    """

    kind: ElementKind
    text: str
    page: int | None = None
    level: int | None = None
    rows: tuple[tuple[str, ...], ...] | None = None
    has_header: bool = True
    metadata: Mapping[str, str] = field(default_factory=dict)
    header_rows: int | None = None

    @property
    def declared_header_rows(self) -> int:
        """Leading rows known to be header: ``header_rows``, else 1 with ``has_header``, else 0."""
        if self.header_rows is not None:
            return max(0, self.header_rows)
        return 1 if self.has_header else 0


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file carried inside another (an email attachment); ingested as its own document."""

    filename: str
    content: bytes
    content_type: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """What a parser hands to the chunkers.

    ``format`` is the detected file format (``pdf``, ``docx``, ``md``...), which is
    not the same thing as the document *type* (``legal``, ``product_docs``...) that
    picks a chunking strategy.
    """

    format: str
    elements: tuple[Element, ...]
    title: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()

    @property
    def text(self) -> str:
        return "\n\n".join(e.text for e in self.elements if e.text)


@dataclass(frozen=True, slots=True)
class ChunkDraft:
    """A chunk as a chunker produces it, before ids, vectors and access metadata."""

    text: str
    section: str | None = None
    page: int | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
