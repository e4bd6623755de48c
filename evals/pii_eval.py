"""The PII eval: how much of the labelled PII a detector finds, and how much it invents.

Input is JSONL, one snippet per line: ``{"text", "entities": [{"type", "start", "end",
"text"?}], "id"?, "category"?}``, spans in characters of ``text``. A snippet with no
entities is a hard negative: whatever is found in it is a false positive. An entity's
optional ``text`` must equal ``text[start:end]``, so a hand-edited file cannot drift.

**Match rule.** A found span counts (precision) when it overlaps a gold span of the
same type; a gold span counts (recall) when a found span of its type overlaps it. So
"Mr. Diaz" found as "Diaz" is a hit, and a name found as a place is both a miss and a
false positive. Only the types the detector looks for are scored; gold spans of other
types are left out of the counts, not counted as misses.

Groups: each type, ``structured`` (the identifiers proven by a checksum or rule, pooled)
and ``names`` (PERSON and LOCATION from NER, pooled).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from governance.pii import NER_TYPES, PiiFinding
from kernel.errors import InvalidInputError

EVAL_NAME: Final = "pii"
STRUCTURED: Final = "structured"
NAMES: Final = "names"
_SHOWN: Final = 20


@dataclass(frozen=True, slots=True)
class GoldSpan:
    entity_type: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Snippet:
    text: str
    entities: tuple[GoldSpan, ...]
    id: str = ""
    category: str = ""
    line: int = 0


@dataclass(slots=True)
class TypeCounts:
    """Gold spans (support) and found spans, each with how many matched."""

    support: int = 0
    recalled: int = 0
    found: int = 0
    correct: int = 0

    def add(self, other: TypeCounts) -> None:
        self.support += other.support
        self.recalled += other.recalled
        self.found += other.found
        self.correct += other.correct

    @property
    def recall(self) -> float | None:
        return self.recalled / self.support if self.support else None

    @property
    def precision(self) -> float | None:
        return self.correct / self.found if self.found else None

    @property
    def f1(self) -> float | None:
        r, p = self.recall, self.precision
        if r is None or p is None:
            return None
        return 0.0 if r + p == 0 else 2 * r * p / (r + p)


@dataclass(frozen=True, slots=True)
class PiiEval:
    types: dict[str, TypeCounts]  # each scored type, in the detector's order
    groups: dict[str, TypeCounts]  # structured, names (when scored)
    findings: tuple[tuple[PiiFinding, ...], ...]  # per snippet, in input order
    snippet_ms: float  # mean wall time of one find() call, warm
    first_call_ms: float  # the untimed warm-up call: model loading
    clean_negatives: int  # hard negatives with nothing found
    negatives: int
    misses: list[dict[str, Any]] = field(default_factory=list)
    false_positives: list[dict[str, Any]] = field(default_factory=list)

    def metrics(self) -> dict[str, float]:
        """Flat report metrics: ``<type|group>.recall|precision|f1`` where defined, timings."""
        metrics: dict[str, float] = {
            "all.snippet_ms": self.snippet_ms,
            "all.first_call_ms": self.first_call_ms,
        }
        if self.negatives:
            metrics["hard_negatives.clean_rate"] = self.clean_negatives / self.negatives
        for name, counts in (*self.groups.items(), *self.types.items()):
            for metric in ("recall", "precision", "f1"):
                value = getattr(counts, metric)
                if value is not None:
                    metrics[f"{name}.{metric}"] = value
        return metrics


def read_snippets(path: Path) -> list[Snippet]:
    """The labelled snippets of a JSONL file; blank lines are skipped.

    Raises InvalidInputError naming the line of the first bad row, or when the file
    cannot be read or holds no rows.
    """
    try:
        content = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path} cannot be read: {exc}") from None
    snippets = [
        parse_row(line, number, where=f"{path} line {number}")
        for number, line in enumerate(content.splitlines(), start=1)
        if line.strip()
    ]
    if not snippets:
        raise InvalidInputError(f"{path} holds no rows")
    return snippets


def parse_row(line: str, number: int, *, where: str) -> Snippet:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{where}: not valid JSON ({exc.msg})") from None
    if not isinstance(row, dict):
        raise InvalidInputError(f"{where}: expected a JSON object")
    text = row.get("text")
    if not isinstance(text, str) or not text:
        raise InvalidInputError(f"{where}: `text` must be a non-empty string")
    entities = row.get("entities", [])
    if not isinstance(entities, list):
        raise InvalidInputError(f"{where}: `entities` must be a list")
    spans = tuple(_span(e, text, f"{where}, entity {i + 1}") for i, e in enumerate(entities))
    return Snippet(text, spans, str(row.get("id", "")), str(row.get("category", "")), number)


def _span(entity: Any, text: str, where: str) -> GoldSpan:
    if not isinstance(entity, dict):
        raise InvalidInputError(f"{where}: expected an object with type, start and end")
    kind, start, end = entity.get("type"), entity.get("start"), entity.get("end")
    if not isinstance(kind, str) or not kind:
        raise InvalidInputError(f"{where}: `type` must be a non-empty string")
    if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= len(text):
        raise InvalidInputError(
            f"{where}: `start` and `end` must satisfy 0 <= start < end <= len(text)"
        )
    value = entity.get("text")
    if value is not None and value != text[start:end]:
        raise InvalidInputError(
            f"{where}: `text` is {value!r} but the span holds {text[start:end]!r}"
        )
    return GoldSpan(kind, start, end)


def evaluate(
    snippets: Sequence[Snippet],
    find: Callable[[str], Sequence[PiiFinding]],
    entity_types: Sequence[str],
    *,
    clock: Callable[[], float] = time.perf_counter,
) -> PiiEval:
    """Run ``find`` on every snippet and count hits by the overlap rule, per type.

    The first snippet is run once untimed before the timed pass: the first call loads
    the NER model (seconds), which is start-up, not the cost of a snippet; it is
    reported apart as ``first_call_ms``.
    """
    started = clock()
    find(snippets[0].text)
    first_call_ms = (clock() - started) * 1000
    types = {t: TypeCounts() for t in entity_types}
    all_findings: list[tuple[PiiFinding, ...]] = []
    misses: list[dict[str, Any]] = []
    false_positives: list[dict[str, Any]] = []
    elapsed = 0.0
    clean = negatives = 0
    for snippet in snippets:
        started = clock()
        found = tuple(f for f in find(snippet.text) if f.entity_type in types)
        elapsed += clock() - started
        all_findings.append(found)
        gold = [g for g in snippet.entities if g.entity_type in types]
        if not snippet.entities:
            negatives += 1
            clean += not found
        for g in gold:
            counts = types[g.entity_type]
            counts.support += 1
            if any(_overlap(f, g) for f in found):
                counts.recalled += 1
            else:
                misses.append(_shown(snippet, g.entity_type, g.start, g.end))
        for f in found:
            counts = types[f.entity_type]
            counts.found += 1
            if any(_overlap(f, g) for g in gold):
                counts.correct += 1
            else:
                false_positives.append(_shown(snippet, f.entity_type, f.start, f.end))
    groups: dict[str, TypeCounts] = {}
    for name, members in (
        (STRUCTURED, [t for t in types if t not in NER_TYPES]),
        (NAMES, [t for t in types if t in NER_TYPES]),
    ):
        if members:
            pooled = TypeCounts()
            for t in members:
                pooled.add(types[t])
            groups[name] = pooled
    return PiiEval(
        types,
        groups,
        tuple(all_findings),
        elapsed * 1000 / len(snippets),
        first_call_ms,
        clean,
        negatives,
        misses,
        false_positives,
    )


def details(result: PiiEval) -> dict[str, Any]:
    """Counts per type and group (sizes are details, not gated metrics) and what went wrong."""
    counts = {
        name: {"support": c.support, "recalled": c.recalled, "found": c.found, "correct": c.correct}
        for name, c in (*result.groups.items(), *result.types.items())
    }
    return {
        "counts": counts,
        "hard_negatives": {"snippets": result.negatives, "clean": result.clean_negatives},
        "misses": result.misses[:_SHOWN],
        "false_positives": result.false_positives[:_SHOWN],
    }


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _overlap(found: PiiFinding, gold: GoldSpan) -> bool:
    return (
        found.entity_type == gold.entity_type and found.start < gold.end and gold.start < found.end
    )


def _shown(snippet: Snippet, kind: str, start: int, end: int) -> dict[str, Any]:
    """A miss or false positive as a report shows it: where, which type, the span's text.

    The golden set's values are invented; a report on real data should not be shared.
    """
    return {
        "line": snippet.line,
        "id": snippet.id,
        "type": kind,
        "span": snippet.text[start:end],
    }
