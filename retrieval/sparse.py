"""BM25 sparse vectors for the lexical side of hybrid search.

The index multiplies each stored weight by the term's IDF (both adapters configure the
"sparse" vector with Qdrant's IDF modifier), so this encoder supplies only the
document-side BM25 factor and leaves IDF to the engine, where it tracks the live corpus:

- a document term gets ``tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avgdl))``:
  saturating term frequency, normalised by the chunk's length in terms;
- a query term gets weight 1 (repeating a word in a question does not count twice).

The dot product of the two, with IDF applied by the engine, is the BM25 score.

Term ids are ``zlib.crc32`` of the UTF-8 term: a 32-bit unsigned value (what Qdrant
sparse indices hold), identical in every process and Python version, unlike the salted
built-in ``hash``. A collision merges two terms, which only blurs BM25 a little.

Tokenisation, chosen so that the ids never depend on what else is installed:

- NFKC normalisation and ``casefold`` ("Straße" -> "strasse", full-width digits -> ASCII);
- word tokens are runs of Unicode letters and digits; runs joined by ``- . / : _`` (or
  ``,`` between digits) form one compound token. A compound ("x-200", "v2.1",
  "foo_bar.py", "1,000") is kept whole *and* split into its parts, so the exact
  identifier scores highest while "X200"-less queries such as "x 200" still match;
- English stopwords (the Snowball list, kept below so it cannot change under us) are
  dropped; compounds are never dropped;
- alphabetic terms are stemmed with the Snowball English (Porter2) stemmer from
  NLTK, which needs no data download; terms with digits and compounds are not stemmed.

Why not qdrant-edge's bundled ``Bm25``: it is deterministic and would serve both
adapters, but it splits "X-200" into "x" and "200" and "v2.1" into "v2" and "1", so an
exact identifier cannot outrank documents that merely contain its pieces; its tokenizer
and hash live in a compiled binary whose upgrade could silently change term ids under
an existing index. Here the term-id scheme is ours, visible, and pinned by unit tests
(``tests/unit/retrieval/test_sparse.py``). Changing the tokenizer, stopwords, stemmer
or hash changes the ids: such a change needs a re-index, like a new embedding model.
"""

from __future__ import annotations

import math
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence

from retrieval.index.base import SparseVector

# The Snowball project's English stopword list (the one NLTK ships as a corpus that
# would need a download), with the contraction fragments our tokenizer produces.
ENGLISH_STOPWORDS: frozenset[str] = frozenset(
    """
    a about above after again against all am an and any are aren as at be because been
    before being below between both but by can couldn d did didn do does doesn doing
    don down during each few for from further had hadn has hasn have haven having he her
    here hers herself him himself his how i if in into is isn it its itself just ll m
    ma me mightn more most mustn my myself needn no nor not now o of off on once only or
    other our ours ourselves out over own re s same shan she should shouldn so some
    such t than that the their theirs them themselves then there these they this those
    through to too under until up ve very was wasn we were weren what when where which
    while who whom why will with won wouldn y you your yours yourself yourselves
    """.split()  # noqa: SIM905 - a word block reads and diffs better than 150 literals
)

# A word is a run of letters/digits; runs joined by one connector form a compound.
# The comma joins digits only ("1,000"), so "a,b" stays two words.
_TOKEN = re.compile(r"[^\W_]+(?:(?:[-./:_]|,(?=\d))[^\W_]+)*")
_PART = re.compile(r"[^\W_]+")
_MAX_TERM_CHARS = 64  # longer runs are hashes, base64 or garbage, not searchable words


def term_id(term: str) -> int:
    """The sparse index of ``term``: CRC-32 of its UTF-8 bytes, stable across processes."""
    return zlib.crc32(term.encode("utf-8"))


class BM25SparseEncoder:
    """Text -> BM25 sparse vectors; the engine's IDF modifier completes the score.

    ``avgdl`` is the expected chunk length in terms (after stopwords are dropped);
    ragline's chunks of up to 254 word pieces hold about 100. ``k1`` sets how fast
    repeated terms saturate, ``b`` how much long chunks are penalised (0 to 1).

    Raises ``ValueError`` for parameters outside BM25's range.
    """

    def __init__(self, *, k1: float = 1.2, b: float = 0.75, avgdl: float = 100.0) -> None:
        if not (math.isfinite(k1) and k1 >= 0):
            raise ValueError("k1 must be a finite number >= 0")
        if not 0.0 <= b <= 1.0:
            raise ValueError("b must lie in [0, 1]")
        if not (math.isfinite(avgdl) and avgdl > 0):
            raise ValueError("avgdl must be a finite number > 0")
        self.k1 = k1
        self.b = b
        self.avgdl = avgdl
        self._stem = _english_stemmer()

    def tokenize(self, text: str) -> list[str]:
        """The terms of ``text`` in order, repeats kept: what the vectors are built from."""
        return list(self._terms(text))

    def encode_documents(self, texts: Sequence[str]) -> list[SparseVector]:
        return [self._encode_document(text) for text in texts]

    def encode_query(self, text: str) -> SparseVector:
        """Weight 1 per distinct term; an all-stopword question gives an empty vector."""
        ids = sorted({term_id(term) for term in self._terms(text)})
        return SparseVector(indices=tuple(ids), values=tuple(1.0 for _ in ids))

    def _encode_document(self, text: str) -> SparseVector:
        terms = list(self._terms(text))
        tf = Counter(term_id(term) for term in terms)
        norm = self.k1 * (1.0 - self.b + self.b * len(terms) / self.avgdl)
        ids = sorted(tf)
        return SparseVector(
            indices=tuple(ids),
            values=tuple(tf[i] * (self.k1 + 1.0) / (tf[i] + norm) for i in ids),
        )

    def _terms(self, text: str) -> Iterator[str]:
        normalised = unicodedata.normalize("NFKC", text).casefold()
        for match in _TOKEN.finditer(normalised):
            token = match.group()
            if len(token) > _MAX_TERM_CHARS:
                continue
            parts = _PART.findall(token)
            if len(parts) > 1:
                yield token
            for part in parts:
                if part not in ENGLISH_STOPWORDS:
                    yield self._stem(part) if part.isalpha() else part


def _english_stemmer() -> Callable[[str], str]:
    """Snowball English, memoised: chunks repeat their words, stemming is the hot path.

    Imported here rather than at module level: NLTK takes about a second to import
    and only the encoder needs it.
    """
    from nltk.stem.snowball import EnglishStemmer

    stemmer = EnglishStemmer()
    cache: dict[str, str] = {}

    def stem(word: str) -> str:
        stemmed = cache.get(word)
        if stemmed is None:
            stemmed = stemmer.stem(word)
            if len(cache) < 200_000:
                cache[word] = stemmed
        return stemmed

    return stem
