"""Every code the ingestion pipeline can record on a failed document is in README's Bad input table.

Issue 19: a digest failed as ``document_error``, a code no user could look up.
The codes come from three places: a :class:`DocumentError` subclass raised by the
parser or the pipeline, :class:`InvalidInputError` (a document type stored by an
older release) and ``internal_error`` for a crash (``record_unexpected_failure``).
The base class's own ``document_error`` must never be raised.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from kernel import errors
from kernel.errors import DocumentError, InvalidInputError

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
_ROW = re.compile(r"^\|\s*`([a-z_]+)`")


def documented_codes() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Bad input", 1)[1].split("\n### ", 1)[0]
    return {m.group(1) for line in section.splitlines() if (m := _ROW.match(line))}


def document_error_classes() -> list[type[DocumentError]]:
    found: list[type[DocumentError]] = []
    pending: list[type[DocumentError]] = [DocumentError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_every_code_the_pipeline_records_is_documented() -> None:
    recordable = {cls.code for cls in document_error_classes() if cls is not DocumentError}
    recordable |= {InvalidInputError.code, "internal_error"}
    assert recordable - documented_codes() == set()


def test_every_document_error_is_defined_in_kernel_errors() -> None:
    """So the enumeration above sees every class the pipeline can raise."""
    assert {cls.__module__ for cls in document_error_classes()} == {errors.__name__}


def test_no_code_raises_the_bare_document_error() -> None:
    """``raise DocumentError(...)`` would record ``document_error``, which is documented nowhere."""
    offenders = []
    for folder in ("ingest", "api", "workers", "ragline", "chunkers", "governance"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Raise)
                    and isinstance(node.exc, ast.Call)
                    and isinstance(node.exc.func, ast.Name)
                    and node.exc.func.id == "DocumentError"
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
