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

Terms are ``text.terms``'s, the same grounding checks an answer with: NFKC and
casefold, compounds ("x-200", "v2.1") kept whole and split into their parts, the
Snowball stopwords (without "no": see ``text.terms.STOPWORDS``), Snowball English
stemming for alphabetic terms. The rules are pinned there, in code rather than in
what else is installed, so the ids cannot change under an index.

Why not qdrant-edge's bundled ``Bm25``: it is deterministic and would serve both
adapters, but it splits "X-200" into "x" and "200" and "v2.1" into "v2" and "1", so an
exact identifier cannot outrank documents that merely contain its pieces; its tokenizer
and hash live in a compiled binary whose upgrade could silently change term ids under
an existing index. Here the term-id scheme is ours, visible, and pinned by unit tests
(``tests/unit/retrieval/test_sparse.py``, ``tests/unit/text/``). Changing the tokenizer,
stopwords, stemmer or hash changes the ids: such a change needs a re-index, like a new
embedding model.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Sequence

from retrieval.index.base import SparseVector
from text.terms import iter_terms, load_stemmer, terms


def term_id(term: str) -> int:
    """The sparse index of ``term``: CRC-32 of its UTF-8 bytes, stable across processes."""
    return zlib.crc32(term.encode("utf-8"))


class BM25SparseEncoder:
    """Text -> BM25 sparse vectors; the engine's IDF modifier completes the score.

    ``avgdl`` is BM25's pivot length in terms (after stopwords are dropped): chunks
    shorter than it gain, longer ones lose. It is fixed, not the live corpus's mean,
    because the weight is stored in each chunk's vector. The default of 100 is above
    the mean of real chunks (40 to 53 terms on the three sets of the README's fusion
    study), and measured better there than the mean: it softens length normalisation,
    as a lower ``b`` would (msmarco-5k nDCG@10 0.744 at 100 against 0.734 at the
    corpus mean). ``k1`` sets how fast repeated terms saturate, ``b`` how much long
    chunks are penalised (0 to 1).

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
        load_stemmer()  # at start-up, not on the first request

    def tokenize(self, text: str) -> list[str]:
        """The terms of ``text`` in order, repeats kept: what the vectors are built from."""
        return terms(text)

    def encode_documents(self, texts: Sequence[str]) -> list[SparseVector]:
        return [self._encode_document(text) for text in texts]

    def encode_query(self, text: str) -> SparseVector:
        """Weight 1 per distinct term; an all-stopword question gives an empty vector."""
        ids = sorted({term_id(term) for term in iter_terms(text)})
        return SparseVector(indices=tuple(ids), values=tuple(1.0 for _ in ids))

    def _encode_document(self, text: str) -> SparseVector:
        found = terms(text)
        tf = Counter(term_id(term) for term in found)
        norm = self.k1 * (1.0 - self.b + self.b * len(found) / self.avgdl)
        ids = sorted(tf)
        return SparseVector(
            indices=tuple(ids),
            values=tuple(tf[i] * (self.k1 + 1.0) / (tf[i] + norm) for i in ids),
        )
