"""Human review of answers: which answers a person should look at, their verdicts, and feedback.

An answer enters the queue for one or more reasons: a deterministic sample (a hash of
its id under ``sample_rate``, so a test or an audit can tell in advance whether an id
is sampled), a grounding score under ``min_grounding``, being given degraded, or a
"down" rating from the key that asked. An answer is queued at most once; a later
reason is added to its item, and reopens it if a reviewer had already decided.

Reviewers approve, reject or correct. Corrections (and rejections noted
"unanswerable") become golden cases for the answers eval (:func:`golden_cases`), so
what people fix is what the next eval run checks.

The queue reads the answers themselves (question, text, citations, who asked) through
:class:`AnswerLookup`, a port: the answer log is another room's, and the queue keeps
only ids, reasons and verdicts. Answer records keep no chunk text (a deleted
document must leave no copy in the audit log), so the text a reviewer sees of a
citation is read from the index when the item is opened (:func:`cited_passages`,
given a plain :data:`ChunkTexts` callable): a citation whose chunk is gone says so.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, Protocol, cast

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from governance.review_tables import FeedbackRow, ReviewItemRow
from kernel.errors import DependencyUnavailableError, InvalidInputError, NotFoundError
from kernel.settings import ReviewSettings

log = logging.getLogger(__name__)

REVIEWER_ROLE: Final = "reviewer"
# A rejection whose note is this (any case) exports as an unanswerable golden case.
UNANSWERABLE_NOTE: Final = "unanswerable"

Reason = Literal["sample", "low_grounding", "degraded", "feedback"]
Rating = Literal["up", "down"]
Decision = Literal["approve", "reject", "correct"]
Status = Literal["open", "approved", "rejected", "corrected"]
_STATUS_OF: Final[dict[str, Status]] = {
    "approve": "approved",
    "reject": "rejected",
    "correct": "corrected",
}


class AnswerView(Protocol):
    """What the queue reads of an answer record (``citations``: n, chunk_id, document_id,
    title, source, text; None when not on record)."""

    @property
    def answer_id(self) -> str: ...
    @property
    def key_id(self) -> str: ...
    @property
    def question(self) -> str | None: ...
    @property
    def answer(self) -> str | None: ...
    @property
    def citations(self) -> Sequence[Mapping[str, Any]] | None: ...
    @property
    def grounding(self) -> float: ...
    @property
    def degraded(self) -> bool: ...


# The index's text of the chunk ids that exist (ChunkIndex.stored_texts); others absent.
ChunkTexts = Callable[[Sequence[str]], Mapping[str, str]]


class AnswerLookup(Protocol):
    def get_answer(self, answer_id: str) -> AnswerView:
        """The record of one answer; ``NotFoundError`` when there is none."""
        ...


@dataclass(frozen=True, slots=True)
class Feedback:
    answer_id: str
    key_id: str
    rating: Rating
    comment: str | None
    replaced: int  # earlier ratings of the same answer by the same key this one replaced
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ReviewItem:
    item_id: str
    answer_id: str
    reasons: tuple[str, ...]
    grounding: float | None
    degraded: bool
    status: Status
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    corrected_answer: str | None = None
    expected_source: str | None = None
    expected_terms: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True, slots=True)
class CitedPassage:
    """One citation of an answer as a reviewer sees it: where it points, and its text now.

    ``available`` is False (and ``text`` None) when the chunk is no longer in the index:
    its document was deleted or re-ingested since the answer was given.
    """

    n: int | None
    chunk_id: str | None
    document_id: str | None
    title: str | None
    source: str | None
    text: str | None
    available: bool


@dataclass(frozen=True, slots=True)
class ReviewDetail:
    """One item with what a reviewer needs to judge it."""

    item: ReviewItem
    answer: AnswerView | None  # None: the answer's record is gone (retention)
    feedback: tuple[Feedback, ...]


@dataclass(frozen=True, slots=True)
class ReviewPage:
    items: tuple[ReviewItem, ...]
    total: int
    next_offset: int | None


@dataclass(frozen=True, slots=True)
class Verdict:
    """A reviewer's decision; the correction fields only go with ``correct``."""

    decision: Decision
    corrected_answer: str | None = None
    expected_source: str | None = None
    expected_terms: tuple[str, ...] = ()
    note: str | None = None


def sampled(answer_id: str, rate: float) -> bool:
    """Whether ``answer_id`` falls in a sample of ``rate``: the same answer, the same verdict."""
    if rate <= 0:
        return False
    digest = hashlib.sha256(answer_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


class ReviewQueue:
    """The review queue and answer feedback, on the registry's database."""

    def __init__(
        self,
        engine: Engine,
        settings: ReviewSettings,
        answers: AnswerLookup,
        *,
        redact: Callable[[str], str] | None = None,
    ) -> None:
        """``redact`` rewrites a feedback comment before it is stored (PII); None keeps it."""
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._settings = settings
        self._answers = answers
        self._redact = redact

    # -- filling the queue ----------------------------------------------------------

    def reasons(self, answer_id: str, *, grounding: float, degraded: bool) -> tuple[Reason, ...]:
        """Why an answer with this id, grounding and state would be queued (empty: it would not)."""
        s = self._settings
        found: list[Reason] = []
        if sampled(answer_id, s.sample_rate):
            found.append("sample")
        if grounding < s.min_grounding:
            found.append("low_grounding")
        if degraded and s.degraded:
            found.append("degraded")
        return tuple(found)

    def offer(self, answer_id: str, *, grounding: float, degraded: bool) -> tuple[str, ...]:
        """Queue a just-given answer if it needs a person; the reasons, empty when not queued.

        Never raises for a database outage: the answer was given already, and losing
        one queue entry is better than failing it (the miss is logged, ids only).
        """
        found = self.reasons(answer_id, grounding=grounding, degraded=degraded)
        if not found:
            return ()
        try:
            self._enqueue(answer_id, found, grounding=grounding, degraded=degraded)
        except DependencyUnavailableError:
            log.warning(
                "answer %s was not queued for review: the database is unavailable", answer_id
            )
            return ()
        return found

    def _enqueue(
        self, answer_id: str, reasons: Sequence[str], *, grounding: float | None, degraded: bool
    ) -> ReviewItem:
        for attempt in (1, 2):
            try:
                with self._sessions.begin() as s:
                    row = s.scalar(
                        select(ReviewItemRow)
                        .where(ReviewItemRow.answer_id == answer_id)
                        .with_for_update()
                    )
                    if row is None:
                        row = ReviewItemRow(
                            id=uuid.uuid4().hex,
                            answer_id=answer_id,
                            reasons=list(dict.fromkeys(reasons)),
                            grounding=grounding,
                            degraded=degraded,
                            status="open",
                            created_at=_now(),
                        )
                        s.add(row)
                    else:
                        new = [r for r in reasons if r not in row.reasons]
                        if new:
                            row.reasons = [*row.reasons, *new]
                            row.status = "open"  # new evidence: a person looks again
                    s.flush()
                    return _item(row)
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    # -- feedback -------------------------------------------------------------------

    def give_feedback(
        self, key_id: str, answer_id: str, rating: Rating, comment: str | None = None
    ) -> tuple[Feedback, tuple[str, ...]]:
        """Record the asking key's rating (a later one replaces it); the reasons the answer
        is queued for now ("feedback" among them after a "down").

        Raises ``NotFoundError`` for an unknown answer and, with the same message, for
        an answer another key asked: answer ids must not be probed.
        """
        answer = self._owned_answer(key_id, answer_id)
        if comment is not None:
            comment = comment.strip() or None
        if comment is not None:
            limit = self._settings.max_comment_chars
            if len(comment) > limit:
                raise InvalidInputError(f"comment is longer than {limit} characters")
            if self._redact is not None:
                comment = self._redact(comment)
        feedback = self._store_feedback(key_id, answer_id, rating, comment)
        if rating == "down":
            item = self._enqueue(
                answer_id, ("feedback",), grounding=answer.grounding, degraded=answer.degraded
            )
            return feedback, item.reasons
        return feedback, self._reasons_of(answer_id)

    def _owned_answer(self, key_id: str, answer_id: str) -> AnswerView:
        try:
            answer = self._answers.get_answer(answer_id)
        except NotFoundError:
            answer = None
        if answer is None or answer.key_id != key_id:
            raise NotFoundError(f"answer '{answer_id}' not found")
        return answer

    def _store_feedback(
        self, key_id: str, answer_id: str, rating: Rating, comment: str | None
    ) -> Feedback:
        for attempt in (1, 2):
            try:
                with self._sessions.begin() as s:
                    row = s.get(FeedbackRow, (answer_id, key_id), with_for_update=True)
                    now = _now()
                    if row is None:
                        row = FeedbackRow(
                            answer_id=answer_id,
                            key_id=key_id,
                            rating=rating,
                            comment=comment,
                            replaced=0,
                            created_at=now,
                            updated_at=now,
                        )
                        s.add(row)
                    else:
                        row.rating, row.comment = rating, comment
                        row.replaced += 1
                        row.updated_at = now
                    s.flush()
                    return _feedback(row)
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _reasons_of(self, answer_id: str) -> tuple[str, ...]:
        with self._sessions.begin() as s:
            reasons = s.scalar(
                select(ReviewItemRow.reasons).where(ReviewItemRow.answer_id == answer_id)
            )
        return tuple(reasons or ())

    # -- reviewing ------------------------------------------------------------------

    def items(
        self, status: Status | None = "open", *, limit: int = 50, offset: int = 0
    ) -> ReviewPage:
        """Items oldest first; ``status`` None lists every item."""
        if limit < 1 or offset < 0:
            raise InvalidInputError("limit must be at least 1 and offset at least 0")
        query = select(ReviewItemRow)
        count = select(func.count()).select_from(ReviewItemRow)
        if status is not None:
            query = query.where(ReviewItemRow.status == status)
            count = count.where(ReviewItemRow.status == status)
        query = query.order_by(ReviewItemRow.created_at, ReviewItemRow.id)
        with self._sessions.begin() as s:
            total = s.scalar(count) or 0
            rows = s.scalars(query.offset(offset).limit(limit)).all()
            items = tuple(_item(r) for r in rows)
        more = offset + len(items) < total
        return ReviewPage(items, total, offset + len(items) if more else None)

    def item(self, item_id: str) -> ReviewItem:
        with self._sessions.begin() as s:
            return _item(self._row(s, item_id))

    def detail(self, item_id: str) -> ReviewDetail:
        with self._sessions.begin() as s:
            item = _item(self._row(s, item_id))
            feedback = tuple(
                _feedback(r)
                for r in s.scalars(
                    select(FeedbackRow)
                    .where(FeedbackRow.answer_id == item.answer_id)
                    .order_by(FeedbackRow.updated_at)
                )
            )
        try:
            answer: AnswerView | None = self._answers.get_answer(item.answer_id)
        except NotFoundError:
            answer = None
        return ReviewDetail(item, answer, feedback)

    def decide(self, item_id: str, reviewer_key_id: str, verdict: Verdict) -> ReviewItem:
        """Record a reviewer's decision (a later one replaces it)."""
        corrected = _clean(verdict.corrected_answer)
        source = _clean(verdict.expected_source)
        terms = tuple(t.strip() for t in verdict.expected_terms if t.strip())
        if verdict.decision != "correct" and (corrected or source or terms):
            raise InvalidInputError(
                "corrected_answer, expected_source and expected_terms go with 'correct' only"
            )
        with self._sessions.begin() as s:
            row = self._row(s, item_id, lock=True)
            if verdict.decision == "correct":
                if not (corrected or terms):
                    raise InvalidInputError("a correction needs corrected_answer or expected_terms")
                source = source or self._cited_source(row.answer_id)
                if source is None:
                    raise InvalidInputError(
                        "a correction needs expected_source: the answer cites no document"
                    )
            row.status = _STATUS_OF[verdict.decision]
            row.decided_at = _now()
            row.decided_by = reviewer_key_id
            row.corrected_answer = corrected
            row.expected_source = source
            row.expected_terms = list(terms) if terms else None
            row.note = _clean(verdict.note)
            s.flush()
            return _item(row)

    def _cited_source(self, answer_id: str) -> str | None:
        try:
            answer = self._answers.get_answer(answer_id)
        except NotFoundError:
            return None
        for citation in answer.citations or ():
            source = citation.get("source")
            if isinstance(source, str) and source:
                return source
        return None

    @staticmethod
    def _row(s: Session, item_id: str, *, lock: bool = False) -> ReviewItemRow:
        row = s.get(ReviewItemRow, item_id, with_for_update=lock)
        if row is None:
            raise NotFoundError(f"review item '{item_id}' not found")
        return row

    # -- export ---------------------------------------------------------------------

    def decided_for_export(self) -> Iterator[ReviewDetail]:
        """Corrected items, and rejections noted "unanswerable", oldest decision first."""
        with self._sessions.begin() as s:
            rows = s.scalars(
                select(ReviewItemRow)
                .where(ReviewItemRow.status.in_(("corrected", "rejected")))
                .order_by(ReviewItemRow.decided_at, ReviewItemRow.id)
            ).all()
            items = [_item(r) for r in rows]
        for item in items:
            if item.status == "rejected" and not _is_unanswerable_note(item.note):
                continue
            try:
                answer: AnswerView | None = self._answers.get_answer(item.answer_id)
            except NotFoundError:
                answer = None
            yield ReviewDetail(item, answer, ())


def cited_passages(
    citations: Sequence[Mapping[str, Any]], chunk_texts: ChunkTexts
) -> tuple[CitedPassage, ...]:
    """``citations`` (answer-record entries) with each chunk's text read now, in one lookup."""
    ids = [c for c in (_str(c.get("chunk_id")) for c in citations) if c is not None]
    texts = chunk_texts(list(dict.fromkeys(ids))) if ids else {}
    out: list[CitedPassage] = []
    for citation in citations:
        chunk_id = _str(citation.get("chunk_id"))
        text = None if chunk_id is None else texts.get(chunk_id)
        n = citation.get("n")
        out.append(
            CitedPassage(
                n=n if isinstance(n, int) else None,
                chunk_id=chunk_id,
                document_id=_str(citation.get("document_id")),
                title=_str(citation.get("title")),
                source=_str(citation.get("source")),
                text=text,
                available=text is not None,
            )
        )
    return tuple(out)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def golden_case(detail: ReviewDetail) -> dict[str, Any] | None:
    """One line of ``evals/golden/answers/questions.jsonl`` from a decided item; None when
    the decision makes no case or the question is no longer on record."""
    item, answer = detail.item, detail.answer
    if answer is None or not answer.question:
        return None
    case_id = f"review-{item.item_id}"
    if item.status == "rejected" and _is_unanswerable_note(item.note):
        return {
            "id": case_id,
            "question": answer.question,
            "expected_source": None,
            "expected_terms": [],
            "unanswerable": True,
        }
    if item.status == "corrected" and item.expected_source:
        return {
            "id": case_id,
            "question": answer.question,
            "expected_source": item.expected_source,
            "expected_terms": list(item.expected_terms),
            "unanswerable": False,
            "role_check": False,
        }
    return None


def golden_cases(queue: ReviewQueue) -> tuple[list[dict[str, Any]], int]:
    """Every exportable decision as a golden case, and how many were skipped (answer gone)."""
    cases: list[dict[str, Any]] = []
    skipped = 0
    for detail in queue.decided_for_export():
        case = golden_case(detail)
        if case is None:
            skipped += 1
        else:
            cases.append(case)
    return cases, skipped


def _is_unanswerable_note(note: str | None) -> bool:
    return (note or "").strip().rstrip(".").lower() == UNANSWERABLE_NOTE


def _clean(text: str | None) -> str | None:
    return (text or "").strip() or None


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time the queue stores is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _item(row: ReviewItemRow) -> ReviewItem:
    return ReviewItem(
        item_id=row.id,
        answer_id=row.answer_id,
        reasons=tuple(row.reasons),
        grounding=row.grounding,
        degraded=row.degraded,
        status=cast(Status, row.status),  # only Status values are written
        created_at=_utc(row.created_at),
        decided_at=None if row.decided_at is None else _utc(row.decided_at),
        decided_by=row.decided_by,
        corrected_answer=row.corrected_answer,
        expected_source=row.expected_source,
        expected_terms=tuple(row.expected_terms or ()),
        note=row.note,
    )


def _feedback(row: FeedbackRow) -> Feedback:
    return Feedback(
        answer_id=row.answer_id,
        key_id=row.key_id,
        rating=cast(Rating, row.rating),  # only "up" and "down" are written
        comment=row.comment,
        replaced=row.replaced,
        created_at=_utc(row.created_at),
        updated_at=_utc(row.updated_at),
    )
