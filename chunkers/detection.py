"""Which strategy fits a document when nobody said: by format, then by content.

The format decides outright for spreadsheets, mail, decks and markup. Other
formats (PDF, Word, text...) are legal when enough independent cues agree:
numbered clause lines, Article/Section headings, contract vocabulary
("WHEREAS", "hereinafter", "this Agreement"...), and a high density of "shall".
One cue alone is common in manuals (numbered steps) or specifications
("shall"), so it takes two. Only the first 50,000 characters are read.

Clause lines and headings are the markers of ``text.clauses``: a clause line is a
sub-clause number ("2.1") or a lower-case item ("(a)", "(iv)"), since plain "1."
steps are as common in manuals; a heading line is an Article or a Section.
"""

from __future__ import annotations

import re

from kernel.documents import ParsedDocument
from text.clauses import ClauseMarker, line_markers

FORMAT_DOC_TYPES = {
    "xlsx": "tables",
    "xls": "tables",
    "ods": "tables",
    "csv": "tables",
    "tsv": "tables",
    "eml": "email",
    "msg": "email",
    "pptx": "slides",
    "ppt": "slides",
    "odp": "slides",
    "md": "product_docs",
    "rst": "product_docs",
    "html": "product_docs",
    "code": "product_docs",  # code blocks kept whole, never windowed by "sentences"
}
SAMPLE_CHARS = 50_000
LEGAL_SCORE = 4

_LEGAL_TERMS = (
    "whereas",
    "hereinafter",
    "hereby",
    "hereto",
    "hereof",
    "herein",
    "thereof",
    "witnesseth",
    "in witness whereof",
    "notwithstanding",
    "indemnif",
    "governing law",
    "force majeure",
    "this agreement",
    "the parties",
    "liabilit",
)
_SHALL = re.compile(r"\bshall\b", re.IGNORECASE)
_WORD = re.compile(r"\w+")


def detect_doc_type(doc: ParsedDocument) -> str:
    by_format = FORMAT_DOC_TYPES.get(doc.format.lower().lstrip("."))
    if by_format is not None:
        return by_format
    return "legal" if legal_score(_sample(doc)) >= LEGAL_SCORE else "generic"


def legal_score(text: str) -> int:
    """How strongly ``text`` reads like a contract (0 = not at all)."""
    score = 0
    markers = list(line_markers(text))
    if sum(1 for marker in markers if _is_clause_line(marker)) >= 3:
        score += 2
    if sum(1 for marker in markers if _is_legal_heading(marker)) >= 2:
        score += 2
    lowered = text.lower()
    terms = sum(1 for term in _LEGAL_TERMS if term in lowered)
    score += 3 if terms >= 4 else 2 if terms >= 2 else 0
    words = len(_WORD.findall(text))
    if words and len(_SHALL.findall(text)) * 1000 / words >= 4:
        score += 2
    return score


def _is_clause_line(marker: ClauseMarker) -> bool:
    if marker.kind == "number":
        return len(marker.parts) > 1
    return marker.kind == "item" and marker.number.islower()


def _is_legal_heading(marker: ClauseMarker) -> bool:
    """Article or Section; a "Part" or a "Chapter" is as common in a manual."""
    return marker.kind == "section" or marker.word.lower() == "article"


def _sample(doc: ParsedDocument) -> str:
    parts: list[str] = []
    size = 0
    for element in doc.elements:
        if size >= SAMPLE_CHARS:
            break
        parts.append(element.text)
        size += len(element.text) + 1
    return "\n".join(parts)[:SAMPLE_CHARS]
