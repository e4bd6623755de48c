"""Reading a BEIR-format folder: the corpus, the queries and one split of the qrels.

The layout BEIR publishes its sets in, and the one ``ragline eval retrieval`` takes:
``corpus.jsonl`` (``_id``, ``title``, ``text``), ``queries.jsonl`` (``_id``, ``text``)
and ``qrels/<split>.tsv`` (query id, corpus id, grade), with or without a header line.
A file that cannot be read is refused whole, naming the file and the line: an eval
that silently skipped half a corpus would report numbers nobody could compare.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kernel.errors import InvalidInputError

PREFERRED_SPLIT = "test"


@dataclass(frozen=True, slots=True)
class Passage:
    id: str
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class BeirSet:
    corpus: dict[str, Passage]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    split: str


def load_beir(directory: Path, split: str | None = None) -> BeirSet:
    """The set in ``directory``; ``split`` names the qrels file (default: ``test``, or the
    only one). Raises InvalidInputError for a missing or garbled file, or qrels that name
    a query the queries file lacks."""
    if not directory.is_dir():
        raise InvalidInputError(f"{directory} is not a folder")
    qrels_path = _qrels_file(directory / "qrels", split)
    corpus = {p.id: p for p in _passages(directory / "corpus.jsonl")}
    queries = dict(_queries(directory / "queries.jsonl"))
    qrels = read_qrels(qrels_path)
    unknown = sorted(set(qrels) - set(queries))
    if unknown:
        raise InvalidInputError(
            f"{qrels_path} judges {len(unknown)} queries that {directory / 'queries.jsonl'} "
            f"does not hold (first: {unknown[0]!r})"
        )
    return BeirSet(corpus, queries, qrels, qrels_path.stem)


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """``query id <tab> corpus id <tab> grade`` lines; a first line whose grade is not
    a number is a header. Extra columns are refused (TREC's 4-column qrels included:
    they need a different reader, not a guess)."""
    qrels: dict[str, dict[str, int]] = {}
    for number, line in _lines(path):
        fields = line.split("\t")
        if len(fields) != 3:
            raise InvalidInputError(
                f"{path} line {number}: expected 3 tab-separated fields (query-id, "
                f"corpus-id, score), found {len(fields)}"
            )
        query_id, doc_id, grade = (f.strip() for f in fields)
        try:
            value = int(grade)
        except ValueError:
            if number == 1:
                continue  # the header line
            raise InvalidInputError(
                f"{path} line {number}: the score {grade!r} is not an integer"
            ) from None
        if not query_id or not doc_id:
            raise InvalidInputError(f"{path} line {number}: an empty query or corpus id")
        qrels.setdefault(query_id, {})[doc_id] = value
    return qrels


def _qrels_file(folder: Path, split: str | None) -> Path:
    if not folder.is_dir():
        raise InvalidInputError(f"{folder} does not exist: a BEIR folder needs qrels/*.tsv")
    files = sorted(folder.glob("*.tsv"))
    names = ", ".join(f.stem for f in files) or "none"
    if split is not None:
        chosen = folder / f"{split}.tsv"
        if not chosen.is_file():
            raise InvalidInputError(f"no split {split!r} in {folder} (splits: {names})")
        return chosen
    if (folder / f"{PREFERRED_SPLIT}.tsv").is_file():
        return folder / f"{PREFERRED_SPLIT}.tsv"
    if len(files) == 1:
        return files[0]
    if not files:
        raise InvalidInputError(f"{folder} holds no .tsv file")
    raise InvalidInputError(f"{folder} holds several splits ({names}): choose one with --split")


def _passages(path: Path) -> Iterator[Passage]:
    seen: set[str] = set()
    for number, record in _records(path):
        doc_id = _field(path, number, record, "_id")
        if doc_id in seen:
            raise InvalidInputError(f"{path} line {number}: the _id {doc_id!r} appears twice")
        seen.add(doc_id)
        title = record.get("title") or ""
        if not isinstance(title, str):
            raise InvalidInputError(f"{path} line {number}: `title` is not a string")
        yield Passage(doc_id, title, _field(path, number, record, "text", empty_ok=True))


def _queries(path: Path) -> Iterator[tuple[str, str]]:
    for number, record in _records(path):
        yield _field(path, number, record, "_id"), _field(path, number, record, "text")


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in _lines(path):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{path} line {number}: not JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise InvalidInputError(f"{path} line {number}: not a JSON object")
        yield number, record


def _field(
    path: Path, number: int, record: dict[str, Any], name: str, *, empty_ok: bool = False
) -> str:
    value = record.get(name)
    if isinstance(value, int) and not isinstance(value, bool) and name == "_id":
        value = str(value)  # some sets write numeric ids as numbers
    if not isinstance(value, str) or not (value.strip() or empty_ok):
        raise InvalidInputError(f"{path} line {number}: `{name}` is missing or not a string")
    return value


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Non-blank lines with their 1-based numbers; a missing or non-UTF-8 file is refused."""
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, line.rstrip("\r\n")
    except FileNotFoundError:
        raise InvalidInputError(f"{path} does not exist") from None
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise InvalidInputError(f"{path} cannot be read: {exc.strerror}") from None
