"""Grounding: how much of each answer sentence its cited chunks support.

A sentence's support starts from word coverage: the share of its terms
(``text.terms``, the ones BM25 indexes: stemmed, stopwords dropped, "yes" and "no"
kept) that occur in the chunks it cites, times the share of its numbers they state.
Coverage alone cannot see a hallucination built from the sources' own words, so the
support is then multiplied by checks that read the sentence against the evidence
it aligns to and, when the question is known, against the question:

- claim checks (:mod:`answer.claims_check`): a flipped polarity, a number or a name
  that the aligned source sentences do not state;
- question focus (:mod:`answer.question_focus`): a short answer ("Delhi", "1887")
  must stand where the question points in the sources, not elsewhere in them;
- yes/no (:mod:`answer.yes_no`): a yes/no answer must agree with what the sources
  say of the question; a leading "Yes,"/"No," must agree as well as the claim
  after it; and either-or (:mod:`answer.either_or`): the option chosen must be the
  one the sources bear out;
- framing (:mod:`answer.meta_sentences`): "Here is a summary of the document:"
  claims nothing and is not scored; "According to the text, ..." is scored without
  its prefix.

The score keeps its meaning: the mean support over the answer's scored sentences,
0..1, compared by the service with ``min_grounding``; a sentence below
``min_support`` is listed as unsupported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from answer.alignment import Evidence, read_evidence
from answer.answer_kind import kind_fit
from answer.citations import MARKER_RUN
from answer.claims_check import MIN_CLAIM_TERMS, check_claim
from answer.either_or import option_focus
from answer.meta_sentences import strip_framing
from answer.number_focus import number_focus
from answer.question_focus import answer_focus
from answer.text import numbers, split_sentences
from answer.yes_no import answer_word, yes_likelihood
from text.entities import names
from text.terms import terms

#: A bare "Yes." or "No." scores between these: the sources rarely state the answer
#: word, and reading a question's truth from them is weaker evidence than a quote.
BARE_YES_NO_LOW: Final = 0.25
BARE_YES_NO_SPAN: Final = 0.5
#: Coverage is raised to this power: one unsupported detail makes a claim wrong, not
#: a fifth wrong, so a sentence 80% covered keeps 64% of its support.
UNSUPPORTED_WORD_POWER: Final = 2


@dataclass(frozen=True, slots=True)
class Grounding:
    score: float  # mean support over the answer's scored sentences, 0..1
    unsupported: tuple[str, ...]  # sentences whose support is below the threshold
    per_sentence: tuple[float, ...]  # one per scored sentence (framing sentences are not)


def sentence_support(sentence: str, sources: Sequence[str]) -> float:
    """Word coverage: the share of the sentence's terms and numbers that ``sources`` state."""
    words = terms(sentence)
    if not words:
        return 1.0
    vocabulary = {w for text in sources for w in terms(text)}
    covered = sum(1 for w in words if w in vocabulary) / len(words)
    claimed = numbers(sentence)
    if claimed:
        available = {n for text in sources for n in numbers(text)}
        covered *= sum(1 for n in claimed if n in available) / len(claimed)
    return covered


def weighted_support(sentence: str, evidence: Evidence) -> float:
    """Word coverage with rare words weighing more, and words the sources lack the most.

    A hallucinated detail is usually a word no source sentence holds; in a plain share
    it weighs as little as "said" or "also".
    """
    words = terms(sentence)
    if not words:
        return 1.0
    covered = evidence.weighted_share(words, evidence.vocabulary) ** UNSUPPORTED_WORD_POWER
    claimed = numbers(sentence)
    if claimed:
        covered *= sum(1 for n in claimed if n in evidence.numbers) / len(claimed)
    return covered


def quoted(claim: str, sources: Sequence[str]) -> bool:
    """Whether ``claim`` (a few terms at least) is a word-for-word quote of a source.

    The claim checks compare a sentence with its best-aligned source sentences; a quote
    that spans several of them (a clause's lead-in with its items (a) and (b)) would be
    faulted for names or numbers its best sentence lacks, though the source says it all.
    Bare names stay checked: a name is in the sources whether or not it answers.
    """
    if len(terms(claim)) < MIN_CLAIM_TERMS:
        return False
    wanted = " ".join(claim.split()).casefold()
    return any(wanted in " ".join(source.split()).casefold() for source in sources)


def checked_support(
    sentence: str, sources: Sequence[str], evidence: Evidence, question: str | None
) -> float:
    """Support of one (unframed) sentence: coverage times the claim and question checks."""
    word, claim = answer_word(sentence)
    if word is not None and not terms(claim):
        # A bare "Yes." or "No.": what it claims is the question's answer.
        if question is None:
            return sentence_support(sentence, sources)
        likely = yes_likelihood(question, evidence)
        return BARE_YES_NO_LOW + BARE_YES_NO_SPAN * (likely if word == "yes" else 1.0 - likely)
    checks = 1.0 if quoted(claim, sources) else check_claim(claim, evidence).factor
    support = weighted_support(claim, evidence) * checks * number_focus(question, claim, evidence)
    if question is not None:
        focus = option_focus(question, claim, evidence)
        if focus is None:
            focus = answer_focus(question, claim, evidence)
            if focus is not None:
                focus *= kind_fit(question, claim, evidence) or 1.0
        if focus is not None:
            support *= focus
        if word is not None:
            likely = yes_likelihood(question, evidence)
            agrees = likely if word == "yes" else 1.0 - likely
            if set(terms(claim)) <= set(terms(question)) and len(names(question)) > 1:
                # "Yes, both A and B are X." says no more than "Yes." does: coverage
                # pools the sources, so it finds X though only A's sentence states it.
                support = min(support, BARE_YES_NO_LOW + BARE_YES_NO_SPAN * agrees)
            else:
                support *= 0.5 + 0.5 * agrees
    return support


def claims(answer: str) -> list[tuple[str, list[int]]]:
    """Split an answer into (claim, markers): each claim is the text up to its markers.

    ``"A is b. [1] C is d. [2][3]"`` gives ``[("A is b.", [1]), ("C is d.", [2, 3])]``;
    trailing text with no marker comes back with an empty list.
    """
    out: list[tuple[str, list[int]]] = []
    position = 0
    for match in MARKER_RUN.finditer(answer):
        text = answer[position : match.start()].strip()
        refs = [int(n) for n in re.findall(r"\d+", match.group(0))]
        if text:
            out.append((text, refs))
        elif out:
            out[-1][1].extend(refs)
        position = match.end()
    tail = answer[position:].strip()
    if tail:
        out.extend((sentence, []) for sentence in split_sentences(tail))
    return out


def ground(
    answer: str,
    cited_texts: Mapping[int, str],
    *,
    min_support: float,
    question: str | None = None,
) -> Grounding:
    """Score an answer whose claims end with ``[n]`` markers into ``cited_texts``.

    A claim without a marker is checked against all cited texts: it claims support
    from the answer's sources as a whole. ``question``, when given, is what the
    answer answers: short answers are then checked against where it points.
    """
    scores: list[float] = []
    unsupported: list[str] = []
    read: dict[tuple[int, ...], Evidence] = {}
    for claim, refs in claims(answer):
        cited = tuple(r for r in refs if r in cited_texts) or tuple(cited_texts)
        sources = [cited_texts[r] for r in cited]
        if sources and cited not in read:
            read[cited] = read_evidence(sources)
        for sentence in split_sentences(claim):
            body = strip_framing(sentence)
            if not body:
                continue
            support = checked_support(body, sources, read[cited], question) if sources else 0.0
            scores.append(support)
            if support < min_support:
                unsupported.append(sentence)
    if not scores:
        return Grounding(1.0, (), ())
    return Grounding(round(sum(scores) / len(scores), 4), tuple(unsupported), tuple(scores))
