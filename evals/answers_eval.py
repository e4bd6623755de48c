"""The answers eval: golden questions through ragline's real ``AnswerService.ask``.

A golden set is two files. ``buckets.json``, in the documents folder, says which
bucket each document goes into and which roles may read it::

    [{"bucket": "golden-hr", "roles": ["hr"], "files": ["docs/leave-policy.md"]}, ...]

(file paths relative to that folder; a document is uploaded under its file name, the
name its citations carry as ``source``). The questions are JSONL, one per line::

    {"id", "question", "expected_source": "<file name>" | null,
     "expected_terms": [...], "unanswerable": bool, "role_check": bool?}

Every question is asked by a principal holding every role of the golden buckets, as
the service answers a user of ``POST /ask``. The questions marked ``role_check`` are
asked again by a principal holding only the roles that read none of their sources'
buckets (the *restricted* buckets): any citation of a restricted document is a leak.

What is scored (all qualities, higher is better; timings end in ``_ms``):

- ``citations.hit@1`` / ``hit@3``: the expected document is the first / among the first
  three distinct documents cited (answerable questions);
- ``answers.term_recall``: share of the expected terms found in the answer text
  (case-insensitive), averaged over answerable questions;
- ``unanswerable.abstention_rate``: share of unanswerable questions answered with
  ``found == False``; ``answerable.answered_rate``: share of answerable ones that were
  not abstained on (together they show whether abstention is a decision or a default);
- ``grounding.mean`` / ``p10`` / ``p50`` / ``p90``: the answer's ``grounding.score``
  over answered questions (absent when nothing was answered);
- ``role_check.leak_free``: share of role-checked questions whose answer to the
  restricted principal cites no restricted document (absent without such questions);
- ``latency_p50_ms`` / ``latency_p95_ms``: the service's own time per answer;
- with a judge (``ragline eval answers --judge``, :mod:`evals.judge`) only:
  ``judge.faithfulness`` / ``judge.relevancy``, the share of answered questions a judge
  model found supported by their cited text / responsive to the question.

Scoring is pure (:func:`score_question`, :func:`answer_metrics`); :func:`evaluate_answers`
does the ingestion and the asking, on a scratch runtime that the caller opens.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from answer.service import Answer, AnswerService
from evals.judge import AnswerJudge, add_verdicts, judge_answers, judge_metrics
from evals.report import build_report
from evals.retrieval_eval import Progress
from ingest.pipeline import IngestionDeps, delete_document, ingest_document
from ingest.registration import accept_upload
from kernel.errors import InvalidInputError
from retrieval.access import Principal

EVAL_NAME: Final = "answers"
BUCKETS_FILE: Final = "buckets.json"
HIT_KS: Final = (1, 3)
GROUNDING_QUANTILES: Final = (10, 50, 90)
EVAL_KEY: Final = "eval-answers"
ROLE_CHECK_KEY: Final = "eval-answers-role-check"


@dataclass(frozen=True, slots=True)
class GoldenQuestion:
    id: str
    question: str
    expected_source: str | None
    expected_terms: tuple[str, ...]
    unanswerable: bool
    role_check: bool = False
    line: int = 0


@dataclass(frozen=True, slots=True)
class GoldenBucket:
    name: str
    roles: tuple[str, ...]
    files: tuple[Path, ...]  # absolute; uploaded under their file names


@dataclass(frozen=True, slots=True)
class GoldenSet:
    questions: tuple[GoldenQuestion, ...]
    buckets: tuple[GoldenBucket, ...]

    @property
    def roles(self) -> frozenset[str]:
        """Every role of every golden bucket: what the asking principal holds."""
        return frozenset(r for b in self.buckets for r in b.roles)

    @property
    def restricted_buckets(self) -> tuple[GoldenBucket, ...]:
        """The buckets holding the source of a role-checked question."""
        checked = {q.expected_source for q in self.questions if q.role_check}
        return tuple(b for b in self.buckets if checked & {f.name for f in b.files})

    @property
    def restricted_sources(self) -> frozenset[str]:
        return frozenset(f.name for b in self.restricted_buckets for f in b.files)

    @property
    def role_check_roles(self) -> frozenset[str]:
        """The golden roles that read no restricted bucket: the role check's principal."""
        return self.roles - {r for b in self.restricted_buckets for r in b.roles}


@dataclass(frozen=True, slots=True)
class Observed:
    """One answer, as much of it as the eval scores."""

    question_id: str
    text: str
    found: bool
    cited: tuple[str, ...]  # the cited documents' file names, in citation order, each once
    grounding: float
    model: str
    degraded: bool
    latency_ms: float
    # (bucket, text) of each cited chunk, in citation order: what a judge reads.
    cited_text: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_answer(cls, question_id: str, answer: Answer) -> Observed:
        cited = dict.fromkeys(c.source for c in answer.citations if c.source)
        return cls(
            question_id=question_id,
            text=answer.text,
            found=answer.found,
            cited=tuple(cited),
            grounding=answer.grounding.score,
            model=answer.model,
            degraded=answer.degraded,
            latency_ms=answer.latency_ms,
            cited_text=tuple((c.bucket or "", c.text) for c in answer.citations),
        )


@dataclass(frozen=True, slots=True)
class QuestionScore:
    question: GoldenQuestion
    observed: Observed
    hits: dict[int, bool]  # k -> expected source among the first k cited (answerable only)
    terms_hit: tuple[str, ...]
    terms_missed: tuple[str, ...]

    @property
    def term_recall(self) -> float:
        total = len(self.terms_hit) + len(self.terms_missed)
        return len(self.terms_hit) / total if total else 1.0

    def failures(self) -> list[str]:
        """Why this question counts against the set, one reason per failure; [] when none."""
        q, seen = self.question, self.observed
        if q.unanswerable:
            return [] if not seen.found else ["answered instead of abstaining"]
        reasons = [] if seen.found else ["abstained on an answerable question"]
        if not self.hits.get(max(HIT_KS), False):
            cited = ", ".join(seen.cited) or "nothing"
            reasons.append(f"{q.expected_source} not among the first {max(HIT_KS)} cited ({cited})")
        if self.terms_missed:
            reasons.append("missing terms: " + ", ".join(self.terms_missed))
        return reasons


# --- scoring (pure) -------------------------------------------------------------------


def hit_at(expected: str | None, cited: Sequence[str], k: int) -> bool:
    return expected is not None and expected in cited[:k]


def found_terms(terms: Iterable[str], text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(terms in ``text``, terms not in it), compared case-insensitively."""
    folded = text.casefold()
    hit: list[str] = []
    missed: list[str] = []
    for term in terms:
        (hit if term.casefold() in folded else missed).append(term)
    return tuple(hit), tuple(missed)


def leaked(observed: Observed, restricted_sources: Iterable[str]) -> tuple[str, ...]:
    """The restricted documents ``observed`` cites: what a principal without the role got."""
    restricted = set(restricted_sources)
    return tuple(s for s in observed.cited if s in restricted)


def score_question(question: GoldenQuestion, observed: Observed) -> QuestionScore:
    hits = (
        {}
        if question.unanswerable
        else {k: hit_at(question.expected_source, observed.cited, k) for k in HIT_KS}
    )
    hit, missed = found_terms(question.expected_terms, observed.text)
    return QuestionScore(question, observed, hits, hit, missed)


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (linear interpolation, as numpy and trec tools use); 0 if empty."""
    return float(np.percentile(values, q)) if values else 0.0


def answer_metrics(
    scores: Sequence[QuestionScore],
    role_checked: Sequence[Observed] = (),
    restricted_sources: Iterable[str] = (),
) -> dict[str, float]:
    """The report's flat metrics; a metric with nothing to measure is left out."""
    answerable = [s for s in scores if not s.question.unanswerable]
    unanswerable = [s for s in scores if s.question.unanswerable]
    found: dict[str, float] = {}
    if answerable:
        for k in HIT_KS:
            found[f"citations.hit@{k}"] = _share(s.hits[k] for s in answerable)
        found["answers.term_recall"] = float(np.mean([s.term_recall for s in answerable]))
        found["answerable.answered_rate"] = _share(s.observed.found for s in answerable)
    if unanswerable:
        found["unanswerable.abstention_rate"] = _share(not s.observed.found for s in unanswerable)
    groundings = [s.observed.grounding for s in scores if s.observed.found]
    if groundings:
        found["grounding.mean"] = float(np.mean(groundings))
        for q in GROUNDING_QUANTILES:
            found[f"grounding.p{q}"] = quantile(groundings, q)
    if role_checked:
        restricted = frozenset(restricted_sources)
        found["role_check.leak_free"] = _share(not leaked(o, restricted) for o in role_checked)
    latencies = [s.observed.latency_ms for s in scores]
    found["latency_p50_ms"] = quantile(latencies, 50)
    found["latency_p95_ms"] = quantile(latencies, 95)
    return found


def answer_details(
    scores: Sequence[QuestionScore],
    role_checked: Sequence[Observed] = (),
    restricted_sources: Iterable[str] = (),
) -> dict[str, Any]:
    """Per question what was answered (and its text), and every failure and leak by question id."""
    restricted = frozenset(restricted_sources)
    questions = [
        {
            "id": s.question.id,
            "unanswerable": s.question.unanswerable,
            "found": s.observed.found,
            "answer": s.observed.text,
            "cited": list(s.observed.cited),
            **{f"hit@{k}": hit for k, hit in s.hits.items()},
            "terms_hit": list(s.terms_hit),
            "terms_missed": list(s.terms_missed),
            "grounding": round(s.observed.grounding, 4),
            "model": s.observed.model,
            "degraded": s.observed.degraded,
            "latency_ms": s.observed.latency_ms,
        }
        for s in scores
    ]
    role_check = [
        {"id": o.question_id, "found": o.found, "cited": list(o.cited), "leaked": list(leak)}
        for o in role_checked
        for leak in [leaked(o, restricted)]
    ]
    failures = {s.question.id: s.failures() for s in scores if s.failures()}
    for o in role_checked:
        if leak := leaked(o, restricted):
            reason = "leaked to the role check: " + ", ".join(leak)
            failures.setdefault(o.question_id, []).append(reason)
    return {"questions": questions, "role_check": role_check, "failures": failures}


def _share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return sum(values) / len(values) if values else 0.0


# --- reading a golden set -------------------------------------------------------------


def load_golden(questions_path: Path, docs: Path) -> GoldenSet:
    """The questions of ``questions_path`` and the buckets of ``docs/buckets.json``.

    Raises InvalidInputError for a file that is missing or unreadable, a bad row (with
    its line number), a document that does not exist, or an expected source that no
    bucket holds.
    """
    questions = read_questions(questions_path)
    buckets = read_buckets(docs / BUCKETS_FILE)
    names = {f.name for b in buckets for f in b.files}
    for q in questions:
        if q.expected_source is not None and q.expected_source not in names:
            raise InvalidInputError(
                f"{questions_path} line {q.line}: `expected_source` {q.expected_source!r}"
                f" is not a document of {docs / BUCKETS_FILE}"
            )
    golden = GoldenSet(questions, buckets)
    if any(q.role_check for q in questions) and not golden.role_check_roles:
        restricted = ", ".join(b.name for b in golden.restricted_buckets)
        raise InvalidInputError(
            f"the role check needs a golden role that reads none of {restricted}"
        )
    return golden


def read_questions(path: Path) -> tuple[GoldenQuestion, ...]:
    text = _read(path)
    questions: list[GoldenQuestion] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        question = parse_question(line, number, where=f"{path} line {number}")
        if question.id in seen:
            raise InvalidInputError(f"{path} line {number}: `id` {question.id!r} is repeated")
        seen.add(question.id)
        questions.append(question)
    if not questions:
        raise InvalidInputError(f"{path} holds no questions")
    return tuple(questions)


def parse_question(line: str, number: int, *, where: str) -> GoldenQuestion:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{where}: not valid JSON ({exc.msg})") from None
    if not isinstance(row, dict):
        raise InvalidInputError(f"{where}: expected a JSON object")
    for key in ("id", "question"):
        if not isinstance(row.get(key), str) or not row[key].strip():
            raise InvalidInputError(f"{where}: `{key}` must be a non-empty string")
    unanswerable, role_check = row.get("unanswerable"), row.get("role_check", False)
    if not isinstance(unanswerable, bool) or not isinstance(role_check, bool):
        raise InvalidInputError(f"{where}: `unanswerable` and `role_check` must be true or false")
    source = row.get("expected_source")
    terms = row.get("expected_terms", [])
    if not isinstance(terms, list) or not all(isinstance(t, str) and t.strip() for t in terms):
        raise InvalidInputError(f"{where}: `expected_terms` must be a list of non-empty strings")
    if unanswerable and (source is not None or terms):
        raise InvalidInputError(
            f"{where}: an unanswerable question has no `expected_source` or `expected_terms`"
        )
    if not unanswerable and not (isinstance(source, str) and source.strip()):
        raise InvalidInputError(f"{where}: an answerable question needs an `expected_source`")
    if role_check and unanswerable:
        raise InvalidInputError(f"{where}: `role_check` needs an answerable question")
    return GoldenQuestion(
        id=row["id"].strip(),
        question=row["question"],
        expected_source=source,
        expected_terms=tuple(terms),
        unanswerable=unanswerable,
        role_check=role_check,
        line=number,
    )


def read_buckets(path: Path) -> tuple[GoldenBucket, ...]:
    try:
        entries = json.loads(_read(path))
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{path}: not valid JSON ({exc.msg})") from None
    if not isinstance(entries, list) or not entries:
        raise InvalidInputError(f"{path}: expected a non-empty list of buckets")
    buckets: list[GoldenBucket] = []
    names: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        where = f"{path} bucket {number}"
        if not isinstance(entry, dict) or not isinstance(entry.get("bucket"), str):
            raise InvalidInputError(f"{where}: expected an object with a `bucket` name")
        roles, files = entry.get("roles"), entry.get("files")
        for key, value in (("roles", roles), ("files", files)):
            if (
                not isinstance(value, list)
                or not value
                or not all(isinstance(v, str) and v.strip() for v in value)
            ):
                raise InvalidInputError(f"{where}: `{key}` must be a non-empty list of strings")
        assert isinstance(roles, list) and isinstance(files, list)
        paths = tuple(path.parent / f for f in files)
        for file in paths:
            if not file.is_file():
                raise InvalidInputError(f"{where}: document {file} does not exist")
            if file.name in names:
                raise InvalidInputError(f"{where}: two documents are named {file.name}")
            names.add(file.name)
        buckets.append(GoldenBucket(entry["bucket"], tuple(sorted(set(roles))), paths))
    return tuple(buckets)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path} cannot be read: {exc}") from None


# --- running --------------------------------------------------------------------------


def evaluate_answers(
    golden: GoldenSet,
    ingestion: IngestionDeps,
    service: AnswerService,
    *,
    progress: Progress,
    settings: Mapping[str, Any] | None = None,
    judge: AnswerJudge | None = None,
) -> dict[str, Any]:
    """Ingest the golden documents, ask every question, and return the eval report.

    ``ingestion`` and ``service`` should belong to a scratch runtime: the documents are
    written to its index. Raises InvalidInputError when a golden document fails to index.
    With ``judge``, every answered question is also judged (``judge.*`` metrics, a
    ``judge`` entry per judged question, ``details.judge``); without, none of that is there.
    """
    ingest_golden(ingestion, golden, progress)
    asker = Principal(key_id=EVAL_KEY, roles=golden.roles)
    observed = ask_all(service, asker, golden.questions, progress, "asking")
    checked = [q for q in golden.questions if q.role_check]
    outsider = Principal(key_id=ROLE_CHECK_KEY, roles=golden.role_check_roles)
    role_checked = ask_all(service, outsider, checked, progress, "role check") if checked else []
    scores = [score_question(q, o) for q, o in zip(golden.questions, observed, strict=True)]
    restricted = golden.restricted_sources
    metrics = answer_metrics(scores, role_checked, restricted)
    details = answer_details(scores, role_checked, restricted)
    extra: dict[str, Any] = {}
    if judge is not None:
        answered = [s for s in scores if s.observed.found]  # an abstention claims nothing
        judged = judge_answers(
            judge,
            [(s.question.id, s.question.question, s.observed.text, s.observed.cited_text)
             for s in answered],
            progress,
        )  # fmt: skip
        metrics.update(judge_metrics(judged.values()))
        add_verdicts(details, judged, judge.deployment)
        extra["judge"] = judge.deployment
    return build_report(
        EVAL_NAME,
        metrics,
        settings={
            **dict(settings or {}),
            "questions": len(golden.questions),
            "unanswerable": sum(q.unanswerable for q in golden.questions),
            "role_checked": len(checked),
            "roles": sorted(golden.roles),
            "role_check_roles": sorted(golden.role_check_roles),
            "restricted_buckets": [b.name for b in golden.restricted_buckets],
            "documents": sum(len(b.files) for b in golden.buckets),
            "models": sorted({o.model for o in observed}),
            **extra,
        },
        details=details,
    )


def ingest_golden(deps: IngestionDeps, golden: GoldenSet, progress: Progress) -> None:
    """Create the golden buckets and index their documents through the real pipeline.

    Ingestion is synchronous: every document is indexed (or unchanged, on a reused
    data directory) when this returns. Documents of a golden bucket that the set does
    not name are deleted, so a reused directory answers from this set only.
    """
    progress.stage("ingesting documents", sum(len(b.files) for b in golden.buckets))
    for golden_bucket in golden.buckets:
        bucket = deps.buckets.find_bucket(golden_bucket.name)
        if bucket is None:
            bucket = deps.buckets.create_bucket(golden_bucket.name, golden_bucket.roles, None, None)
        elif tuple(sorted(bucket.roles)) != golden_bucket.roles:
            raise InvalidInputError(
                f"bucket {bucket.name} of the data directory has roles {list(bucket.roles)},"
                f" not {list(golden_bucket.roles)}: use a fresh --data-dir"
            )
        kept: set[str] = set()
        for file in golden_bucket.files:
            with file.open("rb") as stream:
                registration = accept_upload(
                    deps, bucket, file.name, stream,
                    roles=None, doc_type=None, title=None, max_bytes=1 << 62,
                )  # fmt: skip
            kept.add(registration.document.id)
            if registration.needs_ingest:
                result = ingest_document(deps, registration.document.id)
                if result.outcome not in ("indexed", "unchanged"):
                    reason = result.error or result.outcome
                    raise InvalidInputError(f"{file} could not be indexed: {reason}")
            progress.advance()
        for document in deps.registry.list_documents(bucket=bucket.name, limit=10_000, offset=0):
            if document.id not in kept and document.parent_id is None:
                delete_document(deps, document.id)


def ask_all(
    service: AnswerService,
    principal: Principal,
    questions: Sequence[GoldenQuestion],
    progress: Progress,
    label: str,
) -> list[Observed]:
    """Each question through ``service.ask`` as ``principal``, one at a time, in order."""
    progress.stage(label, len(questions))
    observed = []
    for question in questions:
        answer = service.ask(principal, question.question)
        observed.append(Observed.from_answer(question.id, answer))
        progress.advance()
    return observed
