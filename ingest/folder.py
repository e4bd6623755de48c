"""Ingest a local file or folder into a bucket, in this process (the CLI's path)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from chunkers.registry import known_doc_type
from ingest.content_hash import hash_file
from ingest.pipeline import IngestionDeps, IngestResult, ingest_document
from ingest.records import Bucket
from ingest.registration import accept_upload, register_object
from kernel.errors import InvalidInputError


@dataclass(frozen=True, slots=True)
class FileReport:
    name: str
    format: str
    outcome: str
    chunks: int
    seconds: float
    error_code: str | None = None
    error: str | None = None


def list_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return [
        p
        for p in sorted(path.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
    ]


def _bucket_for(
    deps: IngestionDeps, name: str, root: Path, roles: Sequence[str], doc_type: str | None
) -> Bucket:
    bucket = deps.registry.find_bucket(name)
    if bucket is not None:
        return bucket
    if not roles:
        raise InvalidInputError(f"bucket '{name}' does not exist: give --roles to create it")
    source = str(root.resolve()) if root.is_dir() else None
    return deps.registry.create_bucket(name, roles, known_doc_type(doc_type), source)


def ingest_paths(
    deps: IngestionDeps,
    root: Path,
    files: Sequence[Path],
    *,
    bucket: str,
    roles: Sequence[str],
    doc_type: str | None,
    on_file: Callable[[FileReport], None],
) -> list[FileReport]:
    """Register and ingest each file; objects outside the bucket's folder are copied in."""
    target = _bucket_for(deps, bucket, root, roles, doc_type)
    in_place = target.source is not None and Path(target.source).resolve() == root.resolve()
    doc_roles = list(roles) or list(target.roles)
    reports = []
    for path in files:
        started = time.perf_counter()
        rel = path.name if root.is_file() else path.relative_to(root).as_posix()
        if in_place:
            registration = register_object(
                deps,
                bucket=target.name,
                key=rel,
                content_hash=hash_file(path),
                size_bytes=path.stat().st_size,
                roles=doc_roles,
                doc_type=doc_type or target.doc_type,
                title=None,
            )
        else:
            with path.open("rb") as fh:
                registration = accept_upload(
                    deps,
                    target,
                    rel,
                    fh,
                    roles=doc_roles,
                    doc_type=doc_type,
                    title=None,
                    max_bytes=1 << 62,
                )
        doc = registration.document
        if registration.needs_ingest:
            result = ingest_document(deps, doc.id)
        else:
            result = IngestResult(doc.id, "unchanged", chunks=doc.chunks)
        reports += _report(deps, rel, path, result, time.perf_counter() - started, on_file)
    return reports


def _report(
    deps: IngestionDeps,
    name: str,
    path: Path,
    result: IngestResult,
    seconds: float,
    on_file: Callable[[FileReport], None],
) -> list[FileReport]:
    doc = deps.registry.get(result.document_id)
    fmt = doc.format or (path.suffix.lstrip(".").lower() or "unknown")
    report = FileReport(
        name, fmt, result.outcome, result.chunks, seconds, result.error_code, result.error
    )
    on_file(report)
    reports = [report]
    for child_id in result.children:
        child_started = time.perf_counter()
        child = deps.registry.get(child_id)
        child_result = ingest_document(deps, child_id)
        child_name = f"{name} > {child.key.rsplit('#', 1)[-1]}"
        child_path = Path(child.key.rsplit("#", 1)[-1])
        reports += _report(
            deps, child_name, child_path, child_result, time.perf_counter() - child_started, on_file
        )
    return reports
