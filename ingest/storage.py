"""Bucket objects on local disk: a bucket is a folder, an object key a relative path.

A bucket created with ``source`` points at a folder of its own; one without gets a
folder under the data directory. Uploads are written there first, so the bucket
stays the source of truth and a later refresh can rebuild the index from it.
Derived files (email attachments) live in a separate folder so they never appear as
objects of the user's bucket.

A key is the object's path relative to the bucket folder, exactly as on disk. An
uploaded name becomes a key once, through :func:`safe_key`: NFC-normalised, every
character that is unsafe in a path part percent-escaped, so that two different
names never share a key and :func:`object_name` gives the name back. Nothing that
is written may leave the bucket folder, and in a ``source`` folder nothing the
bucket did not register may be replaced: that folder also holds other people's files.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import re
import shutil
import stat
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import unquote

from ingest.content_hash import hash_bytes
from ingest.ports import ListedObject, Registered, StoredObject
from kernel.errors import (
    ConflictError,
    DependencyUnavailableError,
    InvalidInputError,
    PayloadTooLargeError,
    RaglineError,
)

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
MAX_PART_BYTES = 255  # NAME_MAX of every common Linux file system
MAX_KEY_BYTES = 1024  # far below PATH_MAX (4096) once the bucket folder is prefixed
_MAX_SOURCE_BYTES = 4096
_TEMP_PREFIX = ".upload-"
# tempfile.mkstemp's names: the prefix and 8 characters of this alphabet.
_TEMP_NAME = re.compile(r"^\.upload-[a-z0-9_]{8}$")
# Bidirectional controls reorder how a name is shown (spoofing "gpj.exe" as "exe.jpg").
_BIDI = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# '%' makes the escaping reversible, '\\' and '/' are separators somewhere, '#' joins
# an email's key to its attachment's ("mail.eml#agenda.txt").
_ALWAYS = frozenset("%\\/#")


def _unsafe(char: str) -> bool:
    return (
        char in _ALWAYS
        or char in _BIDI
        or unicodedata.category(char) in ("Cc", "Cs")  # control characters, lone surrogates
    )


def _escape(char: str) -> str:
    return "".join(f"%{b:02X}" for b in char.encode("utf-8", "surrogatepass"))


def _escape_part(part: str) -> str:
    escaped = "".join(_escape(c) if _unsafe(c) else c for c in part)
    if escaped.startswith("."):  # hidden files, and never a name like ".upload-*"
        escaped = "%2E" + escaped[1:]
    if len(escaped.encode("utf-8")) > MAX_PART_BYTES:
        raise InvalidInputError(
            f"object name is too long: each folder or file name may have at most "
            f"{MAX_PART_BYTES} bytes (UTF-8, after escaping)"
        )
    return escaped


def safe_key(name: str) -> str:
    """The key for an untrusted object name: relative, no traversal, reversibly escaped.

    Letters of every script stay as they are; only unsafe characters become ``%XX``,
    and ``%`` itself too, so distinct names (after NFC) always get distinct keys.
    """
    normalised = unicodedata.normalize("NFC", name)
    parts = [p for p in PurePosixPath(normalised).parts if p not in ("", ".", "/")]
    if not parts or ".." in parts:
        raise InvalidInputError("invalid object name: give a relative file name without '..'")
    key = "/".join(_escape_part(p) for p in parts)
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise InvalidInputError(f"object name is too long: at most {MAX_KEY_BYTES} bytes")
    return key


def object_name(key: str) -> str:
    """The name a key was made from (the inverse of :func:`safe_key` on NFC names)."""
    return "/".join(unquote(p, errors="surrogatepass") for p in key.split("/"))


def _key_parts(key: str) -> list[str]:
    """A stored key's parts; keys are on-disk paths, so they are checked, never rewritten."""
    parts = key.split("/")
    if not key or "\x00" in key or any(p in ("", ".", "..") for p in parts):
        raise InvalidInputError(f"invalid object key: {key!r}")
    return parts


def resolve_source(raw: str, allowed_roots: Sequence[Path], data_dir: Path) -> Path:
    """The real folder behind a ``source`` given through the API, or InvalidInputError.

    Missing, not a folder, unreadable or outside every allowed root all get one
    message, so the API cannot be used to probe which paths exist on the host.
    """
    if not PurePosixPath(raw).is_absolute():
        raise InvalidInputError("source must be an absolute folder path ('~' is not expanded)")
    shown = ", ".join(str(r) for r in allowed_roots) or "none configured"
    refused = InvalidInputError(
        f"source must be an existing folder inside an allowed root ({shown}); "
        "see RAGLINE_BUCKETS__ALLOWED_ROOTS"
    )
    try:
        if "\x00" in raw or len(raw.encode("utf-8")) > _MAX_SOURCE_BYTES:
            raise refused
        resolved = Path(raw).resolve(strict=True)
        if not resolved.is_dir():
            raise refused
        roots = [Path(r).resolve() for r in allowed_roots]
    except (OSError, ValueError, RuntimeError):  # too long, surrogates, loops, permissions
        raise refused from None
    if not any(resolved.is_relative_to(r) for r in roots):
        raise refused
    data = data_dir.resolve()
    if data.is_relative_to(resolved) or (
        resolved.is_relative_to(data) and not resolved.is_relative_to(data / "sources")
    ):
        raise InvalidInputError(
            "source must not hold the data directory's own files: "
            "inside the data directory, only its 'sources' folder may hold bucket sources"
        )
    return resolved


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root)
    except RuntimeError:  # a symlink loop
        return False


class LocalBucketStore:
    """The ``BucketStore`` port on local folders (``ingest.ports``)."""

    def __init__(
        self,
        root: Path,
        derived_root: Path,
        *,
        source_roots: Sequence[Path] = (),
        data_dir: Path | None = None,
    ) -> None:
        self._root = root
        self._derived = derived_root
        self._source_roots = tuple(source_roots)
        self._data_dir = data_dir or root

    def check_source(self, raw: str) -> str:
        """A bucket ``source`` given through the API, resolved inside an allowed root."""
        return str(resolve_source(raw, self._source_roots, self._data_dir))

    def bucket_root(self, bucket: str, source: str | None) -> Path:
        """The bucket's folder; a source folder must still be the folder it was checked as.

        A source is stored resolved (``check_source``). If the folder, or a folder above
        it, has since been replaced by a link, following it would list, read and write
        outside the allowed roots under the bucket's roles: refused, and a refresh
        (which lists through here) deletes nothing.
        """
        if source is None:
            return self._root / bucket
        folder = Path(source)
        if not folder.is_absolute():
            raise InvalidInputError(
                f"bucket '{bucket}' has a relative source folder; create it again with an "
                "absolute path"
            )
        if folder.resolve() != folder:
            raise DependencyUnavailableError(
                f"bucket '{bucket}': its source folder has been replaced by a link; "
                "it is not followed"
            )
        return folder

    def path_for(self, bucket: str, source: str | None, key: str) -> Path:
        return self.bucket_root(bucket, source).joinpath(*_key_parts(key))

    def derived_path(self, parent_id: str, key: str) -> Path:
        return self._derived.joinpath(parent_id, *_key_parts(key))

    def list_objects(self, bucket: str, source: str | None) -> Iterator[ListedObject]:
        """Every regular file under the bucket folder, by key; hidden names are not objects.

        A link that leads outside the folder is not an object of the bucket (it would
        let whoever can write the folder index any file this process can read).
        """
        base = self.bucket_root(bucket, source)
        if not base.is_dir():
            if source is not None:
                raise DependencyUnavailableError(
                    f"bucket '{bucket}': its source folder cannot be read"
                )
            return
        root = base.resolve()
        found: list[ListedObject] = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            folder = Path(dirpath)
            for filename in filenames:
                path = folder / filename
                if filename.startswith(".") or not _inside(path, root):
                    continue
                try:
                    info = path.stat()
                except OSError:
                    continue  # removed while listed
                if not stat.S_ISREG(info.st_mode):
                    continue
                found.append(
                    ListedObject(
                        key=path.relative_to(root).as_posix(),
                        size_bytes=info.st_size,
                        tag=f"{info.st_mtime_ns}:{info.st_size}",
                        changed_at=datetime.fromtimestamp(info.st_mtime, UTC),
                    )
                )
        yield from sorted(found, key=lambda o: o.key)

    def write(
        self,
        bucket: str,
        source: str | None,
        name: str,
        stream: BinaryIO,
        *,
        max_bytes: int,
        registered: Registered | None = None,
    ) -> StoredObject:
        """Stream ``name``'s bytes into the bucket, refuse past ``max_bytes``, then move into place.

        In a ``source`` folder an existing file is replaced only when ``registered``
        says it is this bucket's own object; a bucket under the data directory owns
        its whole folder. Either way the object never lands outside the bucket folder.
        """
        key = safe_key(name)
        try:
            target = self._place(bucket, source, key)
            in_source = source is not None and os.path.lexists(target)
            if in_source and not (registered is not None and registered(key)):
                raise ConflictError(
                    f"'{object_name(key)}' already exists in the bucket's folder and is not "
                    "a document of this bucket; it is not overwritten: remove it or upload "
                    "under another name"
                )
            size, content_hash = _stream_into(target, stream, max_bytes)
        except OSError as exc:
            mapped = _as_client_error(exc, key)
            if mapped is None:
                raise
            raise mapped from None
        return StoredObject(key, target, size, content_hash)

    def _place(self, bucket: str, source: str | None, key: str) -> Path:
        """The target path, its folders created inside the bucket folder and checked."""
        base = self.bucket_root(bucket, source)
        base.mkdir(parents=True, exist_ok=True)
        root = base.resolve(strict=True)
        parts = _key_parts(key)
        folder = root
        for depth, part in enumerate(parts[:-1], start=1):
            step = folder / part
            with contextlib.suppress(FileExistsError):
                step.mkdir()
            if not _inside(step, root):
                raise ConflictError(
                    f"'{object_name('/'.join(parts[:depth]))}' links outside the bucket's "
                    "folder; nothing is written through it"
                )
            if not step.is_dir():
                raise ConflictError(
                    f"'{object_name('/'.join(parts[:depth]))}' is a file in this bucket, "
                    "so it cannot hold other objects"
                )
            folder = step.resolve()
        target = folder / parts[-1]
        if target.is_symlink() and not _inside(target, root):
            raise ConflictError(f"'{object_name(key)}' links outside the bucket's folder")
        if target.is_dir():
            raise ConflictError(
                f"'{object_name(key)}' is a folder in this bucket; upload under another name"
            )
        if os.path.lexists(target) and parts[-1] not in _names_in(folder):
            # A case- or normalisation-insensitive file system maps this name onto
            # another object's file.
            raise ConflictError(
                f"'{object_name(key)}' names the same file as another object on this "
                "file system; upload under another name"
            )
        return target

    def delete_object(self, bucket: str, source: str | None, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path_for(bucket, source, key).unlink()

    def derived_key(self, filename: str) -> str:
        return safe_key(filename)

    def write_derived(self, parent_id: str, filename: str, content: bytes) -> StoredObject:
        key = self.derived_key(filename)
        target = self.derived_path(parent_id, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        return StoredObject(key, target, len(content), hash_bytes(content))

    def delete_derived(self, parent_id: str) -> None:
        shutil.rmtree(self._derived / parent_id, ignore_errors=True)

    def delete_derived_object(self, parent_id: str, key: str) -> None:
        self.derived_path(parent_id, key).unlink(missing_ok=True)

    def sweep_partial_uploads(self, sources: Iterable[str | None]) -> int:
        """Remove the temp files of uploads killed mid-way; returns how many went.

        Runs at start-up over the data directory's bucket folders and every bucket's
        source. A temp file still locked belongs to an upload in flight (another
        process) and stays.
        """
        folders = [self._root, *(Path(s) for s in sources if s and Path(s).is_absolute())]
        removed = 0
        for folder in folders:
            for dirpath, dirnames, filenames in os.walk(folder):
                dirnames[:] = [d for d in dirnames if not d.startswith(".")]
                for filename in filenames:
                    if _TEMP_NAME.match(filename) and _remove_if_abandoned(
                        Path(dirpath) / filename
                    ):
                        removed += 1
        if removed:
            log.info("removed %d partial uploads left by an interrupted process", removed)
        return removed


def _names_in(folder: Path) -> set[str]:
    return {entry.name for entry in folder.iterdir()}


def _stream_into(target: Path, stream: BinaryIO, max_bytes: int) -> tuple[int, str]:
    """Write to a locked temp file next to ``target``, then rename it into place."""
    fd, tmp = _locked_temp(target.parent)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while block := stream.read(_CHUNK):
                size += len(block)
                if size > max_bytes:
                    raise PayloadTooLargeError(
                        f"file is larger than the {max_bytes / 1e6:.0f} MB upload limit"
                    )
                digest.update(block)
                out.write(block)
            out.flush()
            Path(tmp).replace(target)  # still locked: the sweep cannot take it meanwhile
    finally:
        Path(tmp).unlink(missing_ok=True)
    return size, digest.hexdigest()


def _locked_temp(folder: Path) -> tuple[int, str]:
    """A new temp file holding an exclusive lock, so a start-up sweep leaves it alone."""
    for _ in range(3):
        fd, name = tempfile.mkstemp(dir=folder, prefix=_TEMP_PREFIX)
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_nlink > 0:
            return fd, name
        os.close(fd)  # swept between creation and lock: take another
    raise ConflictError("the bucket's folder is being cleaned up; try the upload again")


def _remove_if_abandoned(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:  # a symlink, gone, or unreadable: not ours to remove
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # locked: an upload in flight
        return False
    else:
        path.unlink(missing_ok=True)
        return True
    finally:
        os.close(fd)


def _as_client_error(exc: OSError, key: str) -> RaglineError | None:
    """File system refusals caused by the name or by what is already there, as 4xx."""
    name = object_name(key)
    if exc.errno == errno.ENAMETOOLONG:
        return InvalidInputError("object name is too long for the bucket's file system")
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        return ConflictError(f"a file in this bucket is in the way of '{name}'")
    if exc.errno == errno.EISDIR:
        return ConflictError(f"'{name}' is a folder in this bucket; upload under another name")
    return None
