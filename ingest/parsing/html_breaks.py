"""Manual line breaks before clause numbers made paragraph breaks, in converted HTML.

RTF reaches unstructured as pandoc's HTML, where a manual line break (RTF
``\\line``, Word's Shift+Enter) is a ``<br />`` inside a ``<p>``.
``partition_html`` reads a paragraph as one run of text, so "2. Fees and
Payment<br />2.1 Customer shall pay..." arrives as one element and the clause
starts are gone. Here a ``<p>`` is cut at each ``<br>`` (a direct child) whose
next line starts with a clause or list marker, by the same rule as plain text
(``text_layout.starts_paragraph``). Other breaks (an address, a signature
block) are left to unstructured.
"""

from __future__ import annotations

from itertools import pairwise

from lxml import html as lxml_html
from lxml.html import HtmlElement

from .text_layout import starts_paragraph


def split_clause_breaks(markup: str) -> str:
    """``markup`` with every ``<p>`` cut where a line break comes before a clause marker."""
    root = lxml_html.fragment_fromstring(markup, create_parent="div")
    for paragraph in list(root.iter("p")):
        for brk in reversed(_clause_breaks(paragraph)):
            _cut_at(paragraph, brk)
    return str(lxml_html.tostring(root, encoding="unicode"))


def _clause_breaks(paragraph: HtmlElement) -> list[HtmlElement]:
    """The ``<br>`` children of ``paragraph`` that end the line before a clause marker."""
    lines = [paragraph.text or ""]
    breaks: list[HtmlElement] = []
    for child in paragraph:
        if child.tag == "br":
            breaks.append(child)
            lines.append(child.tail or "")
        else:
            text = child.text_content() if isinstance(child.tag, str) else ""
            lines[-1] += text + (child.tail or "")
    return [
        brk
        for brk, (before, after) in zip(breaks, pairwise(lines), strict=True)
        if starts_paragraph(before.strip(), after.strip())
    ]


def _cut_at(paragraph: HtmlElement, brk: HtmlElement) -> None:
    """Move what follows ``brk`` into a new ``<p>`` right after ``paragraph``; drop ``brk``."""
    rest = lxml_html.Element("p", dict(paragraph.attrib))
    rest.text = (brk.tail or "").lstrip()
    following = list(brk.itersiblings())
    brk.tail = None
    paragraph.remove(brk)
    for node in following:
        rest.append(node)
    paragraph.addnext(rest)
    paragraph.tail, rest.tail = "\n", paragraph.tail
