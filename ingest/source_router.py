"""One ``BucketStore`` over both kinds of source: ``s3://`` to S3, everything else local.

The runtime hands this to ingestion, so the pipeline never asks where a bucket lives.
Derived files (email attachments) always stay on local disk, whatever the source.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from ingest.ports import ListedObject, Registered, StoredObject
from ingest.s3_store import S3BucketStore, is_s3_source
from ingest.storage import LocalBucketStore


class SourceRouter:
    """The ``BucketStore`` port, each call sent to the store of the bucket's source."""

    def __init__(self, local: LocalBucketStore, s3: S3BucketStore) -> None:
        self._local = local
        self._s3 = s3

    def _store(self, source: str | None) -> LocalBucketStore | S3BucketStore:
        return self._s3 if source is not None and is_s3_source(source) else self._local

    def check_source(self, raw: str) -> str:
        return self._store(raw).check_source(raw)

    def path_for(self, bucket: str, source: str | None, key: str) -> Path:
        return self._store(source).path_for(bucket, source, key)

    def list_objects(self, bucket: str, source: str | None) -> Iterator[ListedObject]:
        return self._store(source).list_objects(bucket, source)

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
        return self._store(source).write(
            bucket, source, name, stream, max_bytes=max_bytes, registered=registered
        )

    def delete_object(self, bucket: str, source: str | None, key: str) -> None:
        self._store(source).delete_object(bucket, source, key)

    def derived_path(self, parent_id: str, key: str) -> Path:
        return self._local.derived_path(parent_id, key)

    def derived_key(self, filename: str) -> str:
        return self._local.derived_key(filename)

    def write_derived(self, parent_id: str, filename: str, content: bytes) -> StoredObject:
        return self._local.write_derived(parent_id, filename, content)

    def delete_derived(self, parent_id: str) -> None:
        self._local.delete_derived(parent_id)

    def delete_derived_object(self, parent_id: str, key: str) -> None:
        self._local.delete_derived_object(parent_id, key)

    def sweep_partial_uploads(self, sources: Iterable[str | None]) -> int:
        """Local temp files only: an S3 upload is never visible until it is complete."""
        return self._local.sweep_partial_uploads(
            s for s in sources if s is None or not is_s3_source(s)
        )

    def close(self) -> None:
        self._s3.close()
