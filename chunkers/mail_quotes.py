"""Telling a message's new text from the quoted history it carries.

Quoted: lines starting with ">" (the markers are removed); everything after an
"-----Original Message-----" line, an Outlook rule of underscores, or an Outlook
header block ("From:" followed within three lines by "Sent:" or "Date:"); and
everything after an "On ... wrote:" line, unless the next line is ">"-quoted, in
which case only the ">" lines are (so text written under a quote, bottom-posted
or inline, stays new). The attribution line goes with the quote it introduces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PREFIX = re.compile(r"^\s*(?:>\s?)+")
_WROTE = re.compile(r"^\s*On\b.{3,300}\bwrote:\s*$")
_ORIGINAL = re.compile(r"^\s*(?:-{3,}\s*Original Message\s*-{3,}|_{10,})\s*$", re.IGNORECASE)
_OUTLOOK_FROM = re.compile(r"^\s*From:\s+\S")
_OUTLOOK_NEXT = re.compile(r"^\s*(?:Sent|Date):\s+\S")


@dataclass(frozen=True, slots=True)
class MailSegment:
    text: str
    quoted: bool


class QuoteTracker:
    """Reads a message body element by element; remembers when the history began."""

    def __init__(self) -> None:
        self.in_history = False
        self._attribution_lines_left = 0

    def feed(self, text: str) -> list[MailSegment]:
        """Paragraph-sized segments of one body element, each new or quoted."""
        lines = text.splitlines()
        flags = [self._quoted(lines, i) for i in range(len(lines))]
        segments: list[MailSegment] = []
        current: list[str] = []
        current_flag = False
        for line, quoted in zip(lines, flags, strict=True):
            cleaned = _PREFIX.sub("", line) if line.lstrip().startswith(">") else line
            if current and (quoted != current_flag or not cleaned.strip()):
                segments.append(MailSegment("\n".join(current).strip(), current_flag))
                current = []
            if cleaned.strip():
                current.append(cleaned)
                current_flag = quoted
        if current:
            segments.append(MailSegment("\n".join(current).strip(), current_flag))
        return segments

    def _quoted(self, lines: list[str], index: int) -> bool:
        line = lines[index]
        if self.in_history or line.lstrip().startswith(">"):
            return True
        if self._attribution_lines_left:
            self._attribution_lines_left -= 1
            return True
        after = [s for s in lines[index + 1 : index + 4] if s.strip()]
        if _ORIGINAL.match(line) or (
            _OUTLOOK_FROM.match(line) and any(_OUTLOOK_NEXT.match(s) for s in after)
        ):
            self.in_history = True
            return True
        wrapped = f"{line} {lines[index + 1]}" if index + 1 < len(lines) else line
        for consumed, candidate in ((1, line), (2, wrapped)):
            if _WROTE.match(candidate):
                following = next(
                    (lines[i] for i in range(index + consumed, len(lines)) if lines[i].strip()), ""
                )
                if not following.lstrip().startswith(">"):
                    self.in_history = True
                self._attribution_lines_left = consumed - 1
                return True
        return False
