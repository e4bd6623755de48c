"""The grounding eval: does the grounding score separate supported answers from hallucinated ones?

Input is JSONL, one of two shapes per line, so a published benchmark and a team's own
labelled answers can sit in one file:

- a pair ``{"knowledge", "question", "right_answer", "hallucinated_answer",
  "perturbation"?}`` (HaluEval's shape) gives two labelled answers: the right one
  (label 1) and the hallucinated one (label 0). Both fall in the pair's perturbation
  group, so a group's AUROC compares answers to the same questions, like with like;
- a labelled row ``{"source", "question"?, "answer", "label": 1 | 0, "perturbation"?}``
  is one answer (a short answer or a whole summary) with its label.

Each answer is scored against its source by a :class:`GroundingScorer`; the default is
the service's own check (:class:`ServiceGrounding`), so the eval measures what
``POST /ask`` reports, and a stronger checker is measured by passing it instead.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from answer.grounding import ground
from evals.auroc import auroc, balanced_accuracy
from kernel.errors import InvalidInputError

EVAL_NAME: Final = "grounding"
ALL: Final = "all"  # the group of every answer; no perturbation may take the name
_PAIR_KEYS: Final = ("knowledge", "question", "right_answer", "hallucinated_answer")
_MISSED_SHOWN: Final = 10


@dataclass(frozen=True, slots=True)
class LabelledAnswer:
    source: str
    answer: str
    label: int  # 1 supported, 0 hallucinated
    question: str | None = None
    perturbation: str | None = None
    line: int = 0  # where it came from in the file, for people reading a report


class GroundingScorer(Protocol):
    """How well ``source`` supports ``answer`` (to ``question``, when known), higher is better.

    Scores need not be probabilities, only comparable: AUROC uses their order, and the
    balanced accuracy compares them with the threshold the service acts on.
    """

    def __call__(self, source: str, answer: str, question: str | None) -> float: ...


@dataclass(frozen=True, slots=True)
class ServiceGrounding:
    """The service's grounding score, as ``POST /ask`` computes it for an answer's citations.

    The answer carries no ``[n]`` markers here, so every sentence is checked against the
    one source, as an uncited claim is checked against all of an answer's sources. The
    question, when the row has one, is passed on as ``POST /ask`` passes the asked one.
    """

    min_support: float

    def __call__(self, source: str, answer: str, question: str | None) -> float:
        return ground(answer, {1: source}, min_support=self.min_support, question=question).score


@dataclass(frozen=True, slots=True)
class GroupResult:
    name: str
    supported: int
    hallucinated: int
    auroc: float | None  # None unless the group holds both labels
    balanced_accuracy: float | None

    @property
    def n(self) -> int:
        return self.supported + self.hallucinated


@dataclass(frozen=True, slots=True)
class GroundingEval:
    groups: tuple[GroupResult, ...]  # "all" first, then perturbations by name
    scores: tuple[float, ...]  # one per answer, in input order
    scoring_ms: float  # mean wall time of one scoring call
    threshold: float

    def metrics(self) -> dict[str, float]:
        """Flat report metrics: ``all.*``, and ``<perturbation>.auroc`` where defined."""
        overall = self.groups[0]
        assert overall.auroc is not None and overall.balanced_accuracy is not None
        metrics = {
            f"{ALL}.auroc": overall.auroc,
            f"{ALL}.balanced_accuracy": overall.balanced_accuracy,
            f"{ALL}.scoring_ms": self.scoring_ms,
        }
        for group in self.groups[1:]:
            if group.auroc is not None:
                metrics[f"{group.name}.auroc"] = group.auroc
        return metrics


def read_labelled(path: Path) -> list[LabelledAnswer]:
    """The labelled answers of a JSONL file, pairs expanded into two answers each.

    Blank lines are skipped. Raises InvalidInputError naming the line of the first bad
    row, or when the file cannot be read or holds no rows.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path} cannot be read: {exc}") from None
    answers: list[LabelledAnswer] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            answers.extend(parse_row(line, number, where=f"{path} line {number}"))
    if not answers:
        raise InvalidInputError(f"{path} holds no rows")
    return answers


def parse_row(line: str, number: int, *, where: str) -> list[LabelledAnswer]:
    """One JSONL line as its labelled answers (two for a pair, one for a labelled row)."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{where}: not valid JSON ({exc.msg})") from None
    if not isinstance(row, dict):
        raise InvalidInputError(f"{where}: expected a JSON object")
    is_pair = "right_answer" in row or "hallucinated_answer" in row
    is_labelled = "answer" in row or "label" in row
    if is_pair and is_labelled:
        raise InvalidInputError(
            f"{where}: mixes a pair (right_answer, hallucinated_answer) with a labelled row"
            " (answer, label); use one shape per line"
        )
    if is_pair:
        return _pair(row, number, where)
    if is_labelled:
        return [_labelled(row, number, where)]
    raise InvalidInputError(
        f"{where}: neither a pair (knowledge, question, right_answer, hallucinated_answer)"
        " nor a labelled row (source, answer, label)"
    )


def _pair(row: Mapping[str, Any], number: int, where: str) -> list[LabelledAnswer]:
    knowledge, question, right, wrong = (_text(row, key, where) for key in _PAIR_KEYS)
    perturbation = _perturbation(row, where)
    return [
        LabelledAnswer(knowledge, right, 1, question, perturbation, number),
        LabelledAnswer(knowledge, wrong, 0, question, perturbation, number),
    ]


def _labelled(row: Mapping[str, Any], number: int, where: str) -> LabelledAnswer:
    label = row.get("label")
    if not isinstance(label, int) or label not in (0, 1):
        raise InvalidInputError(
            f"{where}: `label` must be 1 (supported) or 0 (hallucinated), not {label!r}"
        )
    source, answer = _text(row, "source", where), _text(row, "answer", where)
    question = None if row.get("question") is None else _text(row, "question", where)
    return LabelledAnswer(source, answer, label, question, _perturbation(row, where), number)


def evaluate(
    answers: Sequence[LabelledAnswer],
    scorer: GroundingScorer,
    *,
    threshold: float,
    clock: Callable[[], float] = time.perf_counter,
) -> GroundingEval:
    """Score every answer and measure the separation, overall and per perturbation.

    The first answer is scored once untimed before the timed pass: a scorer's first
    call pays for its lazy imports (NLTK's stemmer takes about a second), which is
    start-up, not the cost of an answer. Raises InvalidInputError when the answers do
    not hold both labels.
    """
    labels = [a.label for a in answers]
    if 1 not in labels or 0 not in labels:
        raise InvalidInputError(
            "the file needs both supported (label 1) and hallucinated (label 0) answers"
        )
    scorer(answers[0].source, answers[0].answer, answers[0].question)
    scores: list[float] = []
    elapsed = 0.0
    for a in answers:
        started = clock()
        score = scorer(a.source, a.answer, a.question)
        elapsed += clock() - started
        scores.append(float(score))
    groups = [_group(ALL, scores, labels, threshold)]
    by_perturbation: dict[str, list[int]] = {}
    for i, a in enumerate(answers):
        if a.perturbation is not None:
            by_perturbation.setdefault(a.perturbation, []).append(i)
    for name in sorted(by_perturbation):
        members = by_perturbation[name]
        groups.append(
            _group(name, [scores[i] for i in members], [labels[i] for i in members], threshold)
        )
    return GroundingEval(tuple(groups), tuple(scores), elapsed * 1000 / len(answers), threshold)


def details(answers: Sequence[LabelledAnswer], result: GroundingEval) -> dict[str, Any]:
    """What a report keeps beside its metrics: group sizes and the worst misses.

    Sizes are details, not metrics: a metric is a quality, gated as higher-is-better.
    The misses are the hallucinated answers that scored highest, with their lines, the
    first place to look when improving a checker.
    """
    groups = {
        g.name: {
            "n": g.n,
            "supported": g.supported,
            "hallucinated": g.hallucinated,
            "auroc": g.auroc,
            "balanced_accuracy": g.balanced_accuracy,
        }
        for g in result.groups
    }
    wrong = [(s, a) for s, a in zip(result.scores, answers, strict=True) if a.label == 0]
    wrong.sort(key=lambda pair: -pair[0])
    missed = [
        {"line": a.line, "perturbation": a.perturbation, "answer": a.answer, "score": s}
        for s, a in wrong[:_MISSED_SHOWN]
    ]
    return {"groups": groups, "highest_scored_hallucinations": missed}


def file_digest(path: Path) -> str:
    """SHA-256 of the input, so two reports can be seen to measure the same file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _group(name: str, scores: list[float], labels: list[int], threshold: float) -> GroupResult:
    supported = sum(labels)
    hallucinated = len(labels) - supported
    if not supported or not hallucinated:
        return GroupResult(name, supported, hallucinated, None, None)
    return GroupResult(
        name,
        supported,
        hallucinated,
        auroc(scores, labels),
        balanced_accuracy(scores, labels, threshold),
    )


def _text(row: Mapping[str, Any], key: str, where: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{where}: `{key}` must be a non-empty string")
    return value


def _perturbation(row: Mapping[str, Any], where: str) -> str | None:
    value = row.get("perturbation")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{where}: `perturbation` must be a non-empty string")
    if value == ALL:
        raise InvalidInputError(f"{where}: `{ALL}` names every answer; pick another perturbation")
    return value
