"""Manual line breaks made paragraph breaks in HTML: before clause numbers, around short-line lists.

RTF reaches unstructured as pandoc's HTML, where a manual line break (RTF
``\\line``, Word's Shift+Enter) is a ``<br />`` inside a ``<p>``.
``partition_html`` reads a paragraph as one run of text, so "2. Fees and
Payment<br />2.1 Customer shall pay..." arrives as one element and the clause
starts are gone. Here a ``<p>`` is cut at each ``<br>`` (a direct child) whose
next line starts with a clause or list marker, by the same rule as plain text
(``text_layout.starts_paragraph``).

A ``<p>`` or ``<div>`` of short lines broken by ``<br>`` (a list of currencies
typed with Shift+Enter, an RTF list of ``\\line`` breaks) is read the same way
as one paragraph: "Afghan afghani Albanian lek ..." cut by word windows, an
entry split across two chunks. :func:`split_list_breaks` cuts it at every
``<br>`` next to a line of a short-line run (``short_line_lists.listed_lines``,
the rule plain text uses), so each entry is its own element and the chunkers
pack them whole. Other breaks (a sentence wrapped by hand) are left to
unstructured.
"""

from __future__ import annotations

from itertools import pairwise

from lxml import etree
from lxml import html as lxml_html
from lxml.html import HtmlElement

from .short_line_lists import listed_lines
from .text_layout import starts_paragraph


def split_clause_breaks(markup: str) -> str:
    """``markup`` with every ``<p>`` cut where a line break comes before a clause marker."""
    root = lxml_html.fragment_fromstring(markup, create_parent="div")
    for paragraph in list(root.iter("p")):
        for brk in reversed(_clause_breaks(paragraph)):
            _cut_at(paragraph, brk)
    return str(lxml_html.tostring(root, encoding="unicode"))


def split_list_breaks(markup: str) -> str:
    """``markup`` with each ``<p>``/``<div>`` cut at the ``<br>`` around its short-line runs.

    A whole page or a fragment; returned unchanged (not re-serialised) when
    nothing is cut or lxml cannot read it.
    """
    if "<br" not in markup.lower():
        return markup
    try:
        root = lxml_html.document_fromstring(markup)
    except (etree.ParserError, ValueError):
        return markup
    cut = False
    for block in list(root.iter("p", "div")):
        if any(ancestor.tag == "table" for ancestor in block.iterancestors()):
            continue
        for brk in reversed(_list_breaks(block)):
            _cut_at(block, brk)
            cut = True
    if not cut:
        return markup
    return str(lxml_html.tostring(root, encoding="unicode"))


def _clause_breaks(paragraph: HtmlElement) -> list[HtmlElement]:
    """The ``<br>`` children of ``paragraph`` that end the line before a clause marker."""
    lines, breaks = _lines(paragraph)
    return [
        brk
        for brk, (before, after) in zip(breaks, pairwise(lines), strict=True)
        if starts_paragraph(before.strip(), after.strip())
    ]


def _list_breaks(block: HtmlElement) -> list[HtmlElement]:
    """The ``<br>`` children of ``block`` with a line of a short-line run on either side."""
    lines, breaks = _lines(block)
    if not breaks:
        return []
    listed = listed_lines(lines)
    return [brk for index, brk in enumerate(breaks) if listed[index] or listed[index + 1]]


def _lines(block: HtmlElement) -> tuple[list[str], list[HtmlElement]]:
    """The text of ``block`` as lines split at its ``<br>`` children, and those breaks."""
    lines = [block.text or ""]
    breaks: list[HtmlElement] = []
    for child in block:
        if child.tag == "br":
            breaks.append(child)
            lines.append(child.tail or "")
        else:
            text = child.text_content() if isinstance(child.tag, str) else ""
            lines[-1] += text + (child.tail or "")
    return lines, breaks


def _cut_at(paragraph: HtmlElement, brk: HtmlElement) -> None:
    """Move what follows ``brk`` into a new block of the same tag right after it; drop ``brk``."""
    rest = lxml_html.Element(str(paragraph.tag), dict(paragraph.attrib))
    rest.text = (brk.tail or "").lstrip()
    following = list(brk.itersiblings())
    brk.tail = None
    paragraph.remove(brk)
    for node in following:
        rest.append(node)
    paragraph.addnext(rest)
    paragraph.tail, rest.tail = "\n", paragraph.tail
