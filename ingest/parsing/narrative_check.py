"""unstructured's text-type checks kept off spaCy for text that cannot be a title.

Every partitioner (text, HTML and so Markdown/RST/RTF/EPUB, DOCX, PPTX, XLSX,
PDF) asks ``is_possible_narrative_text`` about each paragraph. For anything
longer than a line that check runs the full spaCy pipeline (tok2vec, tagger,
parser) up to three times: about 0.1 ms and 15 kB of working memory per word
each time, without caching past 8,192 characters. Measured here: a 1 MB
single-line text took 65 s and peaked at 3.8 GB; 5 MB of ordinary prose took
89 s, over 90% of it in this check.

Its answer only tells ``NarrativeText`` from ``Text``, which ragline reads
alike (both become ``text``). It matters only through the title check that
follows it, and unstructured's ``is_possible_title`` refuses anything with more
than ``title_max_word_length`` (12) words before it looks at sentences. So for
text past that length, or past :data:`MAX_CHECKED_CHARS` whatever its spaces
(a base64 blob is one "word"), :func:`install` makes the three spaCy-backed
helpers of ``unstructured.partition.text_type`` answer from the characters:

- ``sentence_count``: sentences found by a boundary rule, not by the parser;
- ``exceeds_cap_ratio``: the share of capitalised words among the alphabetic
  words of a whitespace split, not of spaCy's tokens;
- ``contains_verb``: yes (prose that long is narrative; no POS tagging).

Text that could be a title is checked by unstructured exactly as before. The
helpers are replaced in ``text_type``'s namespace, which is where the checks
that every partitioner imports look them up when called.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Callable
from typing import Any, Final

from text.sentences import sentence_ends

logger = logging.getLogger(__name__)

#: unstructured's own default for ``is_possible_title``'s word limit, and its override.
_TITLE_MAX_WORDS: Final[int] = 12
_TITLE_MAX_WORDS_ENV: Final[str] = "UNSTRUCTURED_TITLE_MAX_WORD_LENGTH"
#: Past this, spaCy is not run even on few "words": at most ~30 MB of working memory.
MAX_CHECKED_CHARS: Final[int] = 2_000
_GUARDED: Final[tuple[str, ...]] = ("sentence_count", "exceeds_cap_ratio", "contains_verb")
_INSTALLED: Final[str] = "_ragline_narrative_check"
_PUNCTUATION: Final = re.compile(r"[^\w\s]+")
_ALPHA_WORD: Final = re.compile(r"[^\W\d_]+")

Check = Callable[..., Any]


def install() -> bool:
    """Guard the spaCy-backed helpers; idempotent. ``False`` if unstructured lacks them."""
    from unstructured.partition import text_type

    if getattr(text_type, _INSTALLED, False):
        return True
    originals = {name: getattr(text_type, name, None) for name in _GUARDED}
    if not all(callable(check) for check in originals.values()):
        logger.warning(
            "unstructured.partition.text_type has changed (expected %s); long paragraphs "
            "will be classified with spaCy, slowly",
            ", ".join(_GUARDED),
        )
        return False
    cheap: dict[str, Check] = {
        "sentence_count": rule_sentence_count,
        "exceeds_cap_ratio": rule_exceeds_cap_ratio,
        "contains_verb": lambda text: True,
    }
    for name in _GUARDED:
        original = originals[name]
        assert original is not None  # checked above
        setattr(text_type, name, _guarded(original, cheap[name]))
    setattr(text_type, _INSTALLED, True)
    return True


def checked_by_spacy(text: str) -> bool:
    """Whether ``text`` could be a title, so unstructured's own checks decide.

    unstructured's word limit counts ``text.split(" ")``, i.e. spaces plus one.
    """
    limit = int(os.environ.get(_TITLE_MAX_WORDS_ENV, _TITLE_MAX_WORDS))
    return len(text) <= MAX_CHECKED_CHARS and text.count(" ") < limit


def rule_sentence_count(text: str, min_length: int | None = None) -> int:
    """Sentences by the boundary rule; with ``min_length``, only those with that many words."""
    count = 0
    start = 0
    ends = list(sentence_ends(text))
    for end in [*ends, len(text)]:
        sentence = text[start:end]
        start = end
        if not sentence.strip():
            continue
        if min_length is None or len(_PUNCTUATION.sub("", sentence).split()) >= min_length:
            count += 1
    return count


def rule_exceeds_cap_ratio(text: str, threshold: float = 0.5) -> bool:
    """unstructured's capitalisation test, on a whitespace split instead of spaCy's tokens."""
    if rule_sentence_count(text, 3) > 1:
        return False
    if text.isupper():
        return True
    words = _ALPHA_WORD.findall(text)
    if not words:
        return True
    capitalised = sum(1 for word in words if word.istitle() or word.isupper())
    return capitalised / len(words) > threshold


def _guarded(original: Check, cheap: Check) -> Check:
    @functools.wraps(original)
    def check(text: str, *args: Any, **kwargs: Any) -> Any:
        if checked_by_spacy(text):
            return original(text, *args, **kwargs)
        return cheap(text, *args, **kwargs)

    return check
