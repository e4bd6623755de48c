"""Document titles stored as metadata rather than as text (OOXML, ODF, EPUB, HTML, PDF).

A title set in a document's properties names it better than its first heading
when it is set; titles that only repeat a file name or a template are ignored.
"""

from __future__ import annotations

import html
import re
import zipfile
from typing import Final

_DC_TITLE = re.compile(rb"<dc:title[^>]*>(.*?)</dc:title>", re.DOTALL | re.IGNORECASE)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_MAX_TITLE: Final[int] = 300
_PLACEHOLDERS: Final[tuple[str, ...]] = ("untitled", "microsoft word -", "powerpoint presentation")
_FILE_LIKE = re.compile(r"\.(docx?|pdf|pptx?|xlsx?|odt|rtf|txt|html?|indd|tex|dvi)$", re.IGNORECASE)
_OPF_PATH = re.compile(rb'full-path="([^"]+)"')
#: "fake-memo", "header_test_doc", "SingleTable": a file name without its extension.
_SLUG = re.compile(r"^(?:[A-Za-z]{2,}[\d]*[_-])+[A-Za-z]{2,}\d*$|^(?:[A-Z][a-z]+){2,}$")


def container_title(archive: zipfile.ZipFile) -> str | None:
    """``dc:title`` from OOXML ``docProps/core.xml``, ODF ``meta.xml`` or an EPUB's OPF."""
    candidates = ["docProps/core.xml", "meta.xml"]
    names = set(archive.namelist())
    if "META-INF/container.xml" in names:
        match = _OPF_PATH.search(_read(archive, "META-INF/container.xml"))
        if match:
            candidates.append(match.group(1).decode("utf-8", "replace"))
    for name in candidates:
        if name in names:
            match = _DC_TITLE.search(_read(archive, name))
            if match:
                return meaningful_title(html.unescape(match.group(1).decode("utf-8", "replace")))
    return None


def html_title(text: str) -> str | None:
    """The ``<title>`` of an HTML page."""
    match = _HTML_TITLE.search(text[:200_000])
    if not match:
        return None
    return meaningful_title(html.unescape(_TAG.sub("", match.group(1))))


def meaningful_title(raw: str | None) -> str | None:
    """``raw`` tidied, or ``None`` when it is empty, a placeholder or a file name."""
    if raw is None:
        return None
    title = " ".join(raw.split())[:_MAX_TITLE]
    if not title or title.lower().startswith(_PLACEHOLDERS):
        return None
    if _FILE_LIKE.search(title) or _SLUG.match(title):
        return None
    return title


def _read(archive: zipfile.ZipFile, name: str) -> bytes:
    """A small metadata member; capped so a hostile archive cannot make it large."""
    try:
        with archive.open(name) as member:
            return member.read(1_000_000)
    except (KeyError, zipfile.BadZipFile, OSError, RuntimeError):
        return b""
