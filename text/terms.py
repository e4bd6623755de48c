"""What a term is: the one tokenizer, stopword list and stemmer, for BM25 and grounding.

BM25 indexes terms and grounding checks that an answer's terms occur in its
sources; when the two disagreed on what a term is, a word could be found by search
and still count as unsupported. The rules:

- NFKC normalisation and ``casefold`` ("Straße" -> "strasse", full-width digits -> ASCII);
- word tokens are runs of Unicode letters and digits; runs joined by ``- . / : _`` (or
  ``,`` between digits) form one compound token. A compound ("x-200", "v2.1",
  "foo_bar.py", "1,000") is kept whole *and* split into its parts, so the exact
  identifier scores highest while queries such as "x 200" still match;
- a full stop between a lower-case letter or a digit and a capitalised word is a
  sentence end that lost its space ("century.First"), not a connector: the two
  words are two tokens. "3.14", "e.g.", "U.S." and "example.com" stay whole;
- :data:`STOPWORDS` are dropped; compounds are never dropped;
- alphabetic terms are stemmed with the Snowball English (Porter2) stemmer from
  NLTK, which needs no data download; terms with digits and compounds are not.

BM25's term ids are hashes of these terms: changing the tokenizer, the stopwords or
the stemmer changes what an existing index holds, and needs a re-index, like a new
embedding model.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from functools import cache
from typing import Final

#: The Snowball project's English stopword list (the one NLTK ships as a corpus that
#: would need a download), with the contraction fragments the tokenizer produces,
#: and without "no".
#:
#: "no" is a content word, as "yes" always was. For grounding, a "No." that counted
#: as empty scored 1.0 against any source while "Yes." scored 0.0; negation is what
#: such an answer claims, so both must be found in the sources. For BM25 it is kept
#: too: IDF already makes a common "no" weigh little, and where it is rare ("no
#: overtime", "no-claims bonus") it is exactly what the question is about. One list
#: for both also means a term search finds is a term grounding checks.
STOPWORDS: Final[frozenset[str]] = frozenset(
    """
    a about above after again against all am an and any are aren as at be because been
    before being below between both but by can couldn d did didn do does doesn doing
    don down during each few for from further had hadn has hasn have haven having he her
    here hers herself him himself his how i if in into is isn it its itself just ll m
    ma me mightn more most mustn my myself needn nor not now o of off on once only or
    other our ours ourselves out over own re s same shan she should shouldn so some
    such t than that the their theirs them themselves then there these they this those
    through to too under until up ve very was wasn we were weren what when where which
    while who whom why will with won wouldn y you your yours yourself yourselves
    """.split()  # noqa: SIM905 - a word block reads and diffs better than 150 literals
)

# A word is a run of letters/digits; runs joined by one connector form a compound.
# The comma joins digits only ("1,000"), so "a,b" stays two words.
_TOKEN: Final = re.compile(r"[^\W_]+(?:(?:[-./:_]|,(?=\d))[^\W_]+)*")
_PART: Final = re.compile(r"[^\W_]+")
# A candidate lost sentence end: a full stop between a letter or digit and a letter.
_GLUED_DOT: Final = re.compile(r"(?<=[^\W_])\.(?=[^\W\d_]{2})")
MAX_TERM_CHARS: Final = 64  # longer runs are hashes, base64 or garbage, not searchable words
_STEM_CACHE_SIZE: Final = 200_000


def load_stemmer() -> None:
    """Import NLTK's stemmer now (about a second) rather than on the first text."""
    _stemmer()


def terms(text: str) -> list[str]:
    """The terms of ``text`` in order, repeats kept."""
    return list(iter_terms(text))


def iter_terms(text: str) -> Iterator[str]:
    """:func:`terms`, lazily."""
    stem = _stemmer()
    for token in words(text):
        parts = _PART.findall(token)
        if len(parts) > 1:
            yield token
        for part in parts:
            if part not in STOPWORDS:
                yield stem(part) if part.isalpha() else part


def words(text: str) -> Iterator[str]:
    """Normalised word tokens (compounds whole), before stopwords and stemming."""
    normalised = _unglue(unicodedata.normalize("NFKC", text)).casefold()
    for match in _TOKEN.finditer(normalised):
        token = match.group()
        if len(token) <= MAX_TERM_CHARS:
            yield token


def _unglue(text: str) -> str:
    """``text`` with a space after each full stop that ends a sentence glued to the next."""
    if "." not in text:
        return text
    return _GLUED_DOT.sub(_space_if_glued, text)


def _space_if_glued(found: re.Match[str]) -> str:
    text, dot = found.string, found.start()
    before, first, second = text[dot - 1], text[dot + 1], text[dot + 2]
    glued = (before.islower() or before.isdigit()) and first.isupper() and second.islower()
    return ". " if glued else "."


@cache
def _stemmer() -> Callable[[str], str]:
    """Snowball English, memoised: chunks repeat their words, stemming is the hot path.

    Imported on first use rather than at module level: NLTK takes about a second to
    import, and only callers that want terms need it.
    """
    from nltk.stem.snowball import EnglishStemmer

    stemmer = EnglishStemmer()
    memo: dict[str, str] = {}

    def stem(word: str) -> str:
        stemmed = memo.get(word)
        if stemmed is None:
            stemmed = stemmer.stem(word)
            if len(memo) < _STEM_CACHE_SIZE:
                memo[word] = stemmed
        return stemmed

    return stem
