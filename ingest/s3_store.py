"""Bucket objects in an S3-compatible store: a bucket's ``source`` is ``s3://bucket/prefix``.

The ``BucketStore`` port (``ingest.ports``) for remote sources. Keys are object keys
relative to the prefix, the same keys a folder source would give, so the pipeline
cannot tell the two apart: ``path_for`` downloads into a private local cache
(``cache_dir/<s3 bucket>/<prefix parts>/<key parts>``, one file per S3 object, so
nested sources share copies) and the parser reads that file.

A key becomes a cache path, so only keys a folder could hold are objects: no empty,
``.`` or ``..`` parts, no control characters, no hidden parts, and no key that is also
another key's folder (``a`` beside ``a/b``). ``write`` gives keys through
:func:`ingest.storage.safe_key` and refuses, like a source folder, to replace an
object the bucket did not register: a prefix may hold other people's objects.

Errors: ``InvalidInputError`` (a refused source or name), ``ConflictError``,
``PayloadTooLargeError``, ``DependencyUnavailableError`` (the store cannot be reached
or refuses to list: a refresh then deletes nothing). Credentials are opened only to
build the client; no message or log line carries them or the store's raw answer.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any, BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from ingest.ports import ListedObject, Registered, StoredObject
from ingest.storage import MAX_KEY_BYTES, MAX_PART_BYTES, _key_parts, object_name, safe_key
from kernel.errors import (
    ConfigurationError,
    ConflictError,
    DependencyUnavailableError,
    InvalidInputError,
    PayloadTooLargeError,
)
from kernel.settings import S3Settings

log = logging.getLogger(__name__)

SCHEME = "s3://"
_CHUNK = 1 << 20
_MAX_S3_KEY_BYTES = 1024  # S3's own limit on a whole key, prefix included
_MAX_SOURCE_BYTES = 2048
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP_ADDRESS = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
# Answers meaning "no such object": GetObject says NoSuchKey, HeadObject only 404.
_NO_SUCH_KEY = frozenset({"NoSuchKey", "404", "NotFound"})


def is_s3_source(raw: str) -> bool:
    """Whether a bucket ``source`` names an S3 location (the scheme, in any case)."""
    return raw[: len(SCHEME)].lower() == SCHEME


@dataclass(frozen=True, slots=True)
class S3Location:
    """A parsed ``s3://bucket/prefix``; ``prefix`` holds path parts, never a slash."""

    bucket: str
    prefix: tuple[str, ...]

    def __str__(self) -> str:
        return SCHEME + "/".join((self.bucket, *self.prefix))

    @property
    def list_prefix(self) -> str:
        """The S3 ``Prefix`` of objects inside; its trailing slash keeps ``docs-x`` out."""
        return "".join(f"{part}/" for part in self.prefix)

    def key_for(self, key: str) -> str:
        return self.list_prefix + key

    def holds(self, other: S3Location) -> bool:
        """Whether ``other`` lies under this location, compared part by part."""
        return other.bucket == self.bucket and other.prefix[: len(self.prefix)] == self.prefix


def parse_s3_source(raw: str) -> S3Location:
    """``s3://bucket[/prefix][/]`` as a location, or InvalidInputError.

    The bucket name follows S3's naming rules; prefix parts may not be empty, ``.``,
    ``..``, longer than a file name or hold control characters, because they become
    folders of the local cache.
    """
    invalid = InvalidInputError("an S3 source is s3://bucket or s3://bucket/prefix")
    if not is_s3_source(raw) or len(raw.encode("utf-8", "surrogatepass")) > _MAX_SOURCE_BYTES:
        raise invalid
    rest = raw[len(SCHEME) :]
    rest = rest.removesuffix("/")
    bucket, *prefix = rest.split("/")
    if not _valid_bucket_name(bucket) or not all(_valid_prefix_part(p) for p in prefix):
        raise invalid
    return S3Location(bucket, tuple(prefix))


def _valid_bucket_name(name: str) -> bool:
    return (
        _BUCKET_NAME.match(name) is not None
        and ".." not in name
        and not _IP_ADDRESS.match(name)
        and not name.startswith(_RESERVED_PREFIXES)
        and not name.endswith(_RESERVED_SUFFIXES)
    )


def _valid_prefix_part(part: str) -> bool:
    try:
        size = len(part.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return part not in ("", ".", "..") and size <= MAX_PART_BYTES and not _has_control(part)


def _has_control(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" for c in text)


def _listable(key: str) -> bool:
    """Whether a key relative to the prefix can be a file of the cache."""
    try:
        parts = _key_parts(key)
    except InvalidInputError:
        return False
    return (
        len(key.encode("utf-8")) <= MAX_KEY_BYTES
        and not _has_control(key)
        and all(len(p.encode("utf-8")) <= MAX_PART_BYTES for p in parts)
    )


def _folders_of(keys: set[str]) -> set[str]:
    return {k.rsplit("/", depth)[0] for k in keys for depth in range(1, k.count("/") + 1)}


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _server_side(exc: ClientError) -> bool:
    """The store itself failing (5xx, throttling): worth a retry, says nothing of the source."""
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return status >= 500 or status == 429 or _error_code(exc) in ("SlowDown", "Throttling")


def build_client(settings: S3Settings) -> Any:
    """A boto3 S3 client for ``settings``; the only place credentials are opened.

    A custom endpoint (MinIO, Ceph, R2 and the like) gets path-style addressing and
    checksums only where an operation requires them: many such stores refuse the
    streaming checksums boto3 sends to AWS by default. Uploads still carry their
    SHA-256, so the store verifies every byte it keeps.
    """
    if (settings.access_key_id is None) != (settings.secret_access_key is None):
        raise ConfigurationError(
            "set both RAGLINE_S3__ACCESS_KEY_ID and RAGLINE_S3__SECRET_ACCESS_KEY, or neither "
            "(then boto3's own credential chain is used)"
        )
    custom = settings.endpoint_url is not None
    config = Config(
        connect_timeout=5,
        read_timeout=60,
        retries={"max_attempts": 3, "mode": "standard"},
        s3={"addressing_style": "path" if custom else "auto"},
        request_checksum_calculation="when_required" if custom else "when_supported",
    )
    key_id, secret = settings.access_key_id, settings.secret_access_key
    return boto3.session.Session().client(
        "s3",
        endpoint_url=settings.endpoint_url,
        region_name=settings.region,
        aws_access_key_id=key_id.get_secret_value() if key_id else None,
        aws_secret_access_key=secret.get_secret_value() if secret else None,
        config=config,
    )


class S3BucketStore:
    """The ``BucketStore`` port for ``s3://`` sources (derived files stay local)."""

    def __init__(
        self,
        settings: S3Settings,
        cache_dir: Path,
        *,
        client: Any = None,
        list_page_size: int = 1000,
    ) -> None:
        """Raises ConfigurationError for an allowed source that is not ``s3://bucket[/prefix]``."""
        allowed: list[S3Location] = []
        for entry in settings.allowed_sources:
            try:
                allowed.append(parse_s3_source(entry))
            except InvalidInputError:
                raise ConfigurationError(
                    f"RAGLINE_S3__ALLOWED_SOURCES: {entry!r} is not s3://bucket or "
                    "s3://bucket/prefix"
                ) from None
        if not 1 <= list_page_size <= 1000:
            raise ConfigurationError("list_page_size must be between 1 and 1000")
        self._allowed = tuple(allowed)
        self._cache = cache_dir
        self._page_size = list_page_size
        self._owns_client = client is None
        self._client = build_client(settings) if client is None else client

    def close(self) -> None:
        """Release the client's connections (a client passed in stays open)."""
        if self._owns_client:
            self._client.close()

    def check_source(self, raw: str) -> str:
        """The canonical ``s3://bucket/prefix``, or InvalidInputError with one message.

        Malformed, outside every allowed source, a bucket that does not exist or
        cannot be listed: all get the same message, so the API cannot probe the
        store. Raises DependencyUnavailableError when the store cannot be reached.
        """
        shown = ", ".join(str(a) for a in self._allowed) or "none configured"
        refused = InvalidInputError(
            f"source must be s3://bucket or s3://bucket/prefix inside an allowed S3 source "
            f"({shown}); see RAGLINE_S3__ALLOWED_SOURCES"
        )
        try:
            location = parse_s3_source(raw)
        except InvalidInputError:
            raise refused from None
        if not any(a.holds(location) for a in self._allowed):
            raise refused
        try:  # what a refresh needs: listing the prefix (HeadBucket fails prefix-scoped policies)
            self._client.list_objects_v2(
                Bucket=location.bucket, Prefix=location.list_prefix, MaxKeys=1
            )
        except ClientError as exc:
            if _server_side(exc):
                raise self._unavailable(location, "ListObjectsV2", exc) from exc
            log.info("S3 source %s refused: the store answered %s", location, _error_code(exc))
            raise refused from None
        except BotoCoreError as exc:
            raise self._unavailable(location, "ListObjectsV2", exc) from exc
        return str(location)

    def list_objects(self, bucket: str, source: str | None) -> Iterator[ListedObject]:
        """Every object under the prefix, by key; placeholders, hidden and unusable keys skipped."""
        location = _location(bucket, source)
        found: dict[str, ListedObject] = {}
        unusable = 0
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=location.bucket,
            Prefix=location.list_prefix,
            PaginationConfig={"PageSize": self._page_size},
        )
        try:
            for page in pages:
                for item in page.get("Contents", ()):
                    full_key = str(item["Key"])
                    if not full_key.startswith(location.list_prefix):
                        continue
                    key = full_key.removeprefix(location.list_prefix)
                    if not key or key.endswith("/") or key.startswith(".") or "/." in key:
                        continue  # a "folder" placeholder or a hidden object
                    if not _listable(key):
                        unusable += 1
                        continue
                    found[key] = ListedObject(
                        key=key,
                        size_bytes=int(item["Size"]),
                        tag=str(item["ETag"]).strip('"'),
                        changed_at=item["LastModified"].astimezone(UTC),
                    )
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable(location, "ListObjectsV2", exc) from exc
        shadowed = found.keys() & _folders_of(set(found))
        if unusable or shadowed:
            log.warning(
                "S3 source %s: %d objects skipped, their keys cannot be files (empty, '.' "
                "or '..' parts, control characters, too long, or also another key's folder)",
                location,
                unusable + len(shadowed),
            )
        for key in sorted(found.keys() - shadowed):
            yield found[key]

    def path_for(self, bucket: str, source: str | None, key: str) -> Path:
        """The object's current bytes in the cache; a missing file when it left the store."""
        location = _location(bucket, source)
        parts = _key_parts(key)
        try:
            response = self._client.get_object(Bucket=location.bucket, Key=location.key_for(key))
        except ClientError as exc:
            if _error_code(exc) not in _NO_SUCH_KEY:
                raise self._unavailable(location, "GetObject", exc) from exc
            target = self._cache_path(location, parts)
            if target.is_file() or target.is_symlink():
                target.unlink(missing_ok=True)
            return target
        except BotoCoreError as exc:
            raise self._unavailable(location, "GetObject", exc) from exc
        with contextlib.closing(response["Body"]) as body:
            try:
                temp, _, _ = _spool(body, self._spool_dir(location), ".download-", max_bytes=None)
            except (ClientError, BotoCoreError) as exc:
                raise self._unavailable(location, "GetObject", exc) from exc
        try:
            target = self._make_room(location, parts)
            temp.replace(target)
        finally:
            temp.unlink(missing_ok=True)
        return target

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
        """Spool ``name``'s bytes, refuse past ``max_bytes``, upload, keep the copy in the cache.

        An existing object is replaced only when ``registered`` says it is this
        bucket's own; a new key is uploaded only if it is still absent (a conditional
        write), so an object someone else put there meanwhile is not overwritten.
        """
        key = safe_key(name)
        location = _location(bucket, source)
        if len(location.key_for(key).encode("utf-8")) > _MAX_S3_KEY_BYTES:
            raise InvalidInputError(
                f"object name is too long: with the bucket's S3 prefix a key has at most "
                f"{_MAX_S3_KEY_BYTES} bytes"
            )
        temp, size, content_hash = _spool(
            stream, self._spool_dir(location), ".upload-", max_bytes=max_bytes
        )
        try:
            exists = self._check_placement(location, key, registered)
            self._upload(location, key, temp, size, content_hash, replace=exists)
            target = self._make_room(location, key.split("/"))
            temp.replace(target)
        finally:
            temp.unlink(missing_ok=True)
        return StoredObject(key, target, size, content_hash)

    def _upload(
        self,
        location: S3Location,
        key: str,
        temp: Path,
        size: int,
        content_hash: str,
        *,
        replace: bool,
    ) -> None:
        """PutObject with the content's SHA-256; a new key only while it is still absent."""
        condition = {} if replace else {"IfNoneMatch": "*"}
        try:
            with temp.open("rb") as body:
                self._client.put_object(
                    Bucket=location.bucket,
                    Key=location.key_for(key),
                    Body=body,
                    ContentLength=size,
                    ChecksumSHA256=base64.b64encode(bytes.fromhex(content_hash)).decode(),
                    **condition,
                )
        except ClientError as exc:
            if _error_code(exc) in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise ConflictError(
                    f"'{object_name(key)}' appeared in the bucket's S3 prefix during the "
                    "upload; it is not overwritten: upload again"
                ) from None
            raise self._unavailable(location, "PutObject", exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable(location, "PutObject", exc) from exc

    def delete_object(self, bucket: str, source: str | None, key: str) -> None:
        """Remove the object and its cached copy; an object already gone is fine."""
        location = _location(bucket, source)
        parts = _key_parts(key)
        try:
            self._client.delete_object(Bucket=location.bucket, Key=location.key_for(key))
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable(location, "DeleteObject", exc) from exc
        cached = self._cache_path(location, parts)
        if cached.is_file() or cached.is_symlink():
            cached.unlink(missing_ok=True)

    def _check_placement(
        self, location: S3Location, key: str, registered: Registered | None
    ) -> bool:
        """Whether ``key`` exists; ConflictError for a foreign object or a file/folder clash."""
        name = object_name(key)
        exists = self._exists(location, key)
        if exists and not (registered is not None and registered(key)):
            raise ConflictError(
                f"'{name}' already exists in the bucket's S3 prefix and is not a document "
                "of this bucket; it is not overwritten: remove it or upload under another name"
            )
        try:
            inside = self._client.list_objects_v2(
                Bucket=location.bucket, Prefix=location.key_for(key) + "/", MaxKeys=1
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable(location, "ListObjectsV2", exc) from exc
        if inside.get("KeyCount", 0):
            raise ConflictError(f"'{name}' is a folder in this bucket; upload under another name")
        parts = key.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if self._exists(location, folder):
                raise ConflictError(
                    f"'{object_name(folder)}' is a file in this bucket, so it cannot hold "
                    "other objects"
                )
        return exists

    def _exists(self, location: S3Location, key: str) -> bool:
        try:
            self._client.head_object(Bucket=location.bucket, Key=location.key_for(key))
        except ClientError as exc:
            if _error_code(exc) in _NO_SUCH_KEY:
                return False
            raise self._unavailable(location, "HeadObject", exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable(location, "HeadObject", exc) from exc
        return True

    def _cache_path(self, location: S3Location, parts: list[str]) -> Path:
        return self._cache.joinpath(location.bucket, *location.prefix, *parts)

    def _spool_dir(self, location: S3Location) -> Path:
        """Where bytes land before they are complete: private, beside the copies they become."""
        folder = self._cache / location.bucket
        self._cache.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.mkdir(mode=0o700, exist_ok=True)
        return folder

    def _make_room(self, location: S3Location, parts: list[str]) -> Path:
        """The cache path for a key, its private folders made; stale copies in the way go.

        A cached file where a folder is needed now (or a folder where a file is) is
        an object that has since left the store: the listing never offers both.
        """
        folder = self._spool_dir(location)
        for part in (*location.prefix, *parts[:-1]):
            folder = folder / part
            if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                folder.unlink(missing_ok=True)
            folder.mkdir(mode=0o700, exist_ok=True)
        target = folder / parts[-1]
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target, ignore_errors=True)
        return target

    def _unavailable(
        self, location: S3Location, operation: str, exc: ClientError | BotoCoreError
    ) -> DependencyUnavailableError:
        """The error for a store that cannot serve ``location``; names the source, nothing else."""
        if isinstance(exc, ClientError):
            reason = f"the store answered {_error_code(exc) or 'an error'}"
        elif isinstance(exc, NoCredentialsError):
            reason = "no credentials were found for it"
        else:
            reason = "the store cannot be reached"
        log.warning("S3 %s for source %s failed: %s", operation, location, reason)
        return DependencyUnavailableError(f"S3 source '{location}' is unavailable: {reason}")


def _location(bucket: str, source: str | None) -> S3Location:
    try:
        return parse_s3_source(source or "")
    except InvalidInputError:
        raise InvalidInputError(
            f"bucket '{bucket}' has no valid S3 source; create it again with s3://bucket/prefix"
        ) from None


def _spool(
    stream: Any, folder: Path, prefix: str, *, max_bytes: int | None
) -> tuple[Path, int, str]:
    """Copy ``stream`` into a private temp file in ``folder``; its path, size and SHA-256."""
    fd, name = tempfile.mkstemp(dir=folder, prefix=prefix)  # mode 0600
    temp = Path(name)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while block := stream.read(_CHUNK):
                size += len(block)
                if max_bytes is not None and size > max_bytes:
                    raise PayloadTooLargeError(
                        f"file is larger than the {max_bytes / 1e6:.0f} MB upload limit"
                    )
                digest.update(block)
                out.write(block)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp, size, digest.hexdigest()
