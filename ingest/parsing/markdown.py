"""Markdown fenced code blocks, cut out before unstructured sees the rest.

Python-Markdown (which unstructured uses) only recognises a fence at the top
level: a fence inside a list item, or one with a longer backtick run, comes out
as ordinary text, split and with its line breaks lost. Code must reach the
chunkers as one ``code`` element, so fences are found here, following CommonMark:
an opening run of three or more backticks or tildes, closed by a run of the same
character at least as long, or by the end of the document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n]*)$")


@dataclass(frozen=True, slots=True)
class Prose:
    """Markdown outside any fence, for unstructured."""

    text: str


@dataclass(frozen=True, slots=True)
class CodeBlock:
    """The content of one fenced block, with the language named after the fence."""

    code: str
    language: str | None


def split_fenced_code(markdown: str) -> list[Prose | CodeBlock]:
    """Split Markdown into prose and fenced code blocks, in document order."""
    parts: list[Prose | CodeBlock] = []
    prose: list[str] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        match = _OPEN.match(lines[i])
        info = match.group("info").strip() if match else ""
        if match is None or (match.group("fence")[0] == "`" and "`" in info):
            prose.append(lines[i])
            i += 1
            continue
        fence = match.group("fence")
        indent = len(match.group("indent").expandtabs(4))
        body: list[str] = []
        i += 1
        while i < len(lines) and not _closes(lines[i], fence):
            body.append(_dedent(lines[i], indent))
            i += 1
        i += 1  # the closing fence (or past the end)
        if prose:
            parts.append(Prose("\n".join(prose)))
            prose = []
        language = info.split()[0] if info else None
        parts.append(CodeBlock("\n".join(body), language))
    if prose:
        parts.append(Prose("\n".join(prose)))
    return parts


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= len(fence) and set(stripped) == {fence[0]}


def _dedent(line: str, indent: int) -> str:
    """Remove up to the fence's own indentation, as CommonMark does."""
    expanded = line.expandtabs(4)
    removable = len(expanded) - len(expanded.lstrip(" "))
    return expanded[min(indent, removable) :]
