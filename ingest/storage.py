"""Bucket objects on local disk: a bucket is a folder, an object key a relative path.

A bucket created with ``source`` points at the user's own folder; one without gets a
folder under the data directory. Uploads are written there first, so the bucket
stays the source of truth and a later refresh can rebuild the index from it.
Derived files (email attachments) live in a separate folder so they never appear as
objects of the user's bucket.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from ragline.errors import InvalidInputError, PayloadTooLargeError

_CHUNK = 1 << 20
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    path: Path
    size_bytes: int
    content_hash: str


def safe_key(name: str) -> str:
    """A relative POSIX key with no traversal, no hidden or empty parts."""
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", ".", "/")]
    if not parts or any(p == ".." for p in parts):
        raise InvalidInputError(f"invalid object name: {name!r}")
    cleaned = [_SAFE_NAME.sub("_", p).strip(" .") or "_" for p in parts]
    return "/".join(cleaned)


def hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


class LocalBucketStore:
    def __init__(self, root: Path, derived_root: Path) -> None:
        self._root = root
        self._derived = derived_root

    def bucket_root(self, bucket: str, source: str | None) -> Path:
        return Path(source).expanduser() if source else self._root / bucket

    def path_for(self, bucket: str, source: str | None, key: str) -> Path:
        return self.bucket_root(bucket, source) / safe_key(key)

    def derived_path(self, parent_id: str, filename: str) -> Path:
        return self._derived / parent_id / safe_key(filename)

    def write(
        self, bucket: str, source: str | None, key: str, stream: BinaryIO, *, max_bytes: int
    ) -> StoredObject:
        """Stream to a temp file, refuse past ``max_bytes``, then move into place atomically."""
        target = self.path_for(bucket, source, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        tmp = Path(tmp_name)
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
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
        return StoredObject(safe_key(key), target, size, digest.hexdigest())

    def write_derived(self, parent_id: str, filename: str, content: bytes) -> StoredObject:
        target = self.derived_path(parent_id, filename)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        return StoredObject(
            safe_key(filename), target, len(content), hashlib.sha256(content).hexdigest()
        )

    def delete_derived(self, parent_id: str) -> None:
        shutil.rmtree(self._derived / parent_id, ignore_errors=True)
