"""PII detection and redaction: what a question, an answer or a log line must not carry.

:class:`PiiDetector` runs Presidio's ``AnalyzerEngine`` over two kinds of recognizer:
the structured identifiers of :mod:`governance.pii_recognizers` (pattern plus checksum
or rule, so an order number that looks like a card is not one) and spaCy's NER for
PERSON and LOCATION (GPE and LOC). The spaCy pipeline is the one named in the settings
and installed as a package; nothing is downloaded. With names and locations off no
model is loaded and Presidio is not needed: the structured finders run alone.

:class:`Redaction` is one request's placeholders: every distinct value gets a typed,
numbered placeholder (``<EMAIL_1>``) that stays the same for the whole request, so a
model can still tell two people apart, and the answer can be restored for the caller.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from governance.pii_recognizers import (
    CREDIT_CARD,
    EMAIL,
    ES_NIF,
    IBAN,
    IP_ADDRESS,
    PHONE,
    STRUCTURED_TYPES,
    US_SSN,
    PiiFinding,
    find_structured,
    without_overlaps,
)
from kernel.errors import ConfigurationError

if TYPE_CHECKING:
    from kernel.settings import PiiSettings

__all__ = [
    "CREDIT_CARD",
    "EMAIL",
    "ES_NIF",
    "IBAN",
    "IP_ADDRESS",
    "LOCATION",
    "NER_TYPES",
    "PERSON",
    "PHONE",
    "US_SSN",
    "PiiDetector",
    "PiiFinding",
    "PiiPolicy",
    "Redaction",
    "redact_text",
]

PERSON: Final = "PERSON"
LOCATION: Final = "LOCATION"
NER_TYPES: Final = (PERSON, LOCATION)
NER_SCORE: Final = 0.85
_NER_PART_CHARS: Final = 100_000
_LANGUAGE: Final = "en"
# A placeholder this module writes; never itself taken for a name or a number.
PLACEHOLDER: Final = re.compile(r"<([A-Z][A-Z_]*)_(\d+)>")
# The OntoNotes labels of the English pipelines besides PERSON, GPE and LOC.
_OTHER_SPACY_LABELS: Final = (
    "NORP", "FAC", "ORG", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE", "DATE",
    "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL",
)  # fmt: skip


class PiiPolicy(StrEnum):
    REDACT = "redact"
    BLOCK = "block"
    ALLOW = "allow"


class _Analyzer:
    """Presidio's engine over the offline spaCy pipeline, built on first use."""

    def __init__(self, model: str, structured: Sequence[str]) -> None:
        self._model = model
        self._structured = tuple(structured)
        self._lock = threading.Lock()
        self._engine: Any = None

    def analyze(self, text: str, entities: Sequence[str], min_score: float) -> list[PiiFinding]:
        engine = self._loaded()
        findings: list[PiiFinding] = []
        for offset, part in _parts(text):
            results = engine.analyze(
                text=part, entities=list(entities), language=_LANGUAGE, score_threshold=min_score
            )
            findings.extend(
                PiiFinding(r.entity_type, offset + r.start, offset + r.end, float(r.score))
                for r in results
            )
        return findings

    def load(self) -> None:
        self._loaded()

    def _loaded(self) -> Any:
        with self._lock:
            if self._engine is None:
                self._engine = self._build()
            return self._engine

    def _build(self) -> Any:
        import spacy
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
        from presidio_analyzer.predefined_recognizers import SpacyRecognizer

        if not spacy.util.is_package(self._model) and not _is_folder(self._model):
            # Presidio would try to download it; a service must not fetch models at run time.
            raise ConfigurationError(
                f"the spaCy model {self._model!r} is not installed (RAGLINE_PII__SPACY_MODEL)"
            )
        ner_config = NerModelConfiguration(
            model_to_presidio_entity_mapping={
                "PERSON": PERSON,
                "PER": PERSON,
                "GPE": LOCATION,
                "LOC": LOCATION,
            },
            labels_to_ignore=list(_OTHER_SPACY_LABELS),
            default_score=NER_SCORE,
        )
        nlp_engine = SpacyNlpEngine(
            models=[{"lang_code": _LANGUAGE, "model_name": self._model}],
            ner_model_configuration=ner_config,
        )
        nlp_engine.load()
        pipelines: dict[str, Any] = nlp_engine.nlp or {}
        for nlp in pipelines.values():
            # Names and places need the tokenizer, tok2vec and NER only; the tagger,
            # parser and lemmatizer would triple the time per text for nothing read here.
            nlp.select_pipes(enable=[p for p in ("tok2vec", "ner") if p in nlp.pipe_names])
        registry = RecognizerRegistry(
            recognizers=[
                _structured_recognizer(self._structured),
                SpacyRecognizer(supported_entities=list(NER_TYPES), ner_strength=NER_SCORE),
            ],
            supported_languages=[_LANGUAGE],
        )
        return AnalyzerEngine(
            registry=registry, nlp_engine=nlp_engine, supported_languages=[_LANGUAGE]
        )


def _parts(text: str) -> Iterator[tuple[int, str]]:
    """``text`` in pieces spaCy takes whole (it refuses a million characters).

    Cut at a line break where there is one, else at a space, so that no name or number
    is cut in two unless a 50,000-character stretch holds no line break.
    """
    start = 0
    while len(text) - start > _NER_PART_CHARS:
        low, high = start + _NER_PART_CHARS // 2, start + _NER_PART_CHARS
        cut = max(text.rfind("\n", low, high), 0) or max(text.rfind(" ", low, high), 0) or high
        yield start, text[start:cut]
        start = cut
    yield start, text[start:]


def _is_folder(model: str) -> bool:
    from pathlib import Path

    return Path(model).is_dir()


def _structured_recognizer(entities: Sequence[str]) -> Any:
    """The validated finders as one Presidio recognizer (imported only when Presidio is)."""
    from presidio_analyzer import EntityRecognizer, RecognizerResult

    class StructuredRecognizer(EntityRecognizer):  # type: ignore[misc]
        def load(self) -> None:
            return None

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
            return [
                RecognizerResult(f.entity_type, f.start, f.end, f.score)
                for f in find_structured(text, entities)
            ]

    return StructuredRecognizer(
        supported_entities=list(entities), name="ragline-structured", supported_language=_LANGUAGE
    )


class PiiDetector:
    """Finds PII in text with the service's settings; cheap to build, loads the model on first use.

    One detector serves every request and thread: the model is loaded once, under a lock.
    """

    def __init__(self, settings: PiiSettings) -> None:
        wanted = list(dict.fromkeys(settings.entities))
        self._structured = [t for t in wanted if t in STRUCTURED_TYPES]
        self._ner = [t for t in wanted if t in NER_TYPES] if settings.names_and_locations else []
        self._min_score = settings.min_score
        self._analyzer = _Analyzer(settings.spacy_model, self._structured) if self._ner else None

    def load(self) -> None:
        """Load the model now rather than on the first request (start-up, health checks).

        Raises ConfigurationError when names are on and the spaCy model is not installed.
        """
        if self._analyzer is not None:
            self._analyzer.load()

    @property
    def entity_types(self) -> tuple[str, ...]:
        return (*self._structured, *self._ner)

    def find(self, text: str) -> list[PiiFinding]:
        """Non-overlapping findings sorted by start; a structured identifier wins over a name.

        Raises ConfigurationError when names are on and the spaCy model is not installed.
        """
        if not text:
            return []
        if self._analyzer is None:
            return [
                f for f in find_structured(text, self._structured) if f.score >= self._min_score
            ]
        found = self._analyzer.analyze(text, self.entity_types, self._min_score)
        structured = [f for f in found if f.entity_type in STRUCTURED_TYPES]
        named = [
            f for f in found if f.entity_type in NER_TYPES and _plausible_name(text, f, structured)
        ]
        return without_overlaps([*structured, *named])

    def redaction(self) -> Redaction:
        return Redaction(self)


# Short all-caps words the small model calls places are mostly acronyms ("CV", "PO",
# the "GB" of "4 GB"); these few are places.
_SHORT_CAPS_PLACES: Final = frozenset({"UK", "US", "USA", "UAE", "EU", "NYC", "DC"})


def _plausible_name(text: str, finding: PiiFinding, structured: Iterable[PiiFinding]) -> bool:
    """Drop what the model calls a name that cannot be one.

    A name is capitalised and holds no digit ("eth0", "checksum" and "soc sec" are
    not), and one inside a number, an e-mail or a placeholder is part of that.
    """
    value = text[finding.start : finding.end]
    if any(c.isdigit() for c in value) or not any(w[:1].isupper() for w in value.split()):
        return False
    if value.isupper() and len(value) <= 3 and value not in _SHORT_CAPS_PLACES:
        return False
    if any(finding.start < s.end and s.start < finding.end for s in structured):
        return False
    return not any(
        finding.start < m.end() and m.start() < finding.end
        for m in PLACEHOLDER.finditer(text, max(0, finding.start - 40), finding.end + 40)
    )


@dataclass(frozen=True, slots=True)
class _Replaced:
    placeholder: str
    original: str


class Redaction:
    """One request's placeholders: the same value always gets the same placeholder within it."""

    def __init__(self, detector: PiiDetector) -> None:
        self._detector = detector
        self._by_value: dict[tuple[str, str], _Replaced] = {}
        self._originals: dict[str, str] = {}
        self._counts: Counter[str] = Counter()

    def redact(self, text: str) -> str:
        parts: list[str] = []
        at = 0
        for finding in self._detector.find(text):
            parts.append(text[at : finding.start])
            parts.append(self._placeholder(finding.entity_type, text[finding.start : finding.end]))
            at = finding.end
        parts.append(text[at:])
        return "".join(parts)

    def restore(self, text: str) -> str:
        return PLACEHOLDER.sub(lambda m: self._originals.get(m.group(), m.group()), text)

    @property
    def counts(self) -> dict[str, int]:
        return dict(self._counts)

    def _placeholder(self, entity_type: str, value: str) -> str:
        key = (entity_type, _same_value(entity_type, value))
        known = self._by_value.get(key)
        if known is None:
            self._counts[entity_type] += 1
            known = _Replaced(f"<{entity_type}_{self._counts[entity_type]}>", value)
            self._by_value[key] = known
            self._originals[known.placeholder] = value
        return known.placeholder


def _same_value(entity_type: str, value: str) -> str:
    """What two writings of one value share: "+1 415 728 3910" is "(415) 728-3910" typed again."""
    if entity_type in (PHONE, CREDIT_CARD, US_SSN, IBAN, ES_NIF):
        key = re.sub(r"[^0-9A-Za-z]", "", value).upper()
        return key[-10:] if entity_type == PHONE else key
    return " ".join(value.split()).casefold()


def redact_text(detector: PiiDetector, text: str) -> str:
    """One-shot redaction, for logs and stored text: placeholders numbered within ``text``."""
    return detector.redaction().redact(text)
