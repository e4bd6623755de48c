"""Source code as ``code`` elements: one per top-level block, never a heading.

Read as Markdown, a ``# comment`` became a heading and closed the chunk around
it; read as prose, a function was windowed by "sentences". Here a file is cut
only where a blank line is followed by a line at the margin (a new function,
class, statement or comment block), so a function stays whole with the comment
above it, and the chunker packs neighbouring blocks together and cuts a block
only if it alone exceeds the window.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Final

from kernel.documents import Element

#: The language named in each block's metadata, by file extension.
_LANGUAGES: Final[dict[str, str]] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".tsx": "typescript",
    ".java": "java",
    ".kt": "kotlin",
    ".go": "go",
    ".rs": "rust",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".cs": "csharp",
    ".rb": "ruby",
    ".php": "php",
    ".sh": "shell",
    ".bash": "shell",
    ".zsh": "shell",
    ".sql": "sql",
}


def code_elements(text: str, filename: str | None) -> list[Element]:
    """The file's top-level blocks, each a ``code`` element with its language if known."""
    language = _LANGUAGES.get(PurePath(filename or "").suffix.lower())
    metadata = {"language": language} if language else {}
    return [
        Element(kind="code", text=block, metadata=dict(metadata)) for block in _top_blocks(text)
    ]


def _top_blocks(text: str) -> list[str]:
    blocks: list[list[str]] = [[]]
    after_blank = False
    for line in text.splitlines():
        if not line.strip():
            after_blank = True
        elif after_blank and not line[:1].isspace() and not _closes(line):
            blocks.append([])
            after_blank = False
        else:
            after_blank = False
        blocks[-1].append(line)
    return [joined for block in blocks if (joined := "\n".join(block).strip("\n")).strip()]


def _closes(line: str) -> bool:
    """A closing brace or ``end`` at the margin ends the block above, it starts none."""
    return line.lstrip()[:1] in {"}", ")", "]"} or line.strip() in {"end", "fi", "done", "esac"}
