"""Buckets on the registry's database: the ``Buckets`` port (``ingest.ports``).

A bucket is a name, the roles its documents get by default, an optional chunking
type and an optional source folder. Documents reference their bucket by name, so the
catalog shares the registry's engine (one database, one transaction scope per call).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ingest.records import Bucket
from ingest.registry_tables import BucketRow
from ingest.sql_sessions import Transactions
from kernel.errors import ConflictError, NotFoundError


def _bucket(row: BucketRow) -> Bucket:
    return Bucket(
        row.name,
        tuple(row.roles),
        row.doc_type,
        row.source,
        row.max_lag_s,
        region=row.region,
        sensitivity=row.sensitivity,
        pii=row.pii,
    )


class BucketCatalog(Transactions):
    def create_bucket(
        self,
        name: str,
        roles: Sequence[str],
        doc_type: str | None,
        source: str | None,
        max_lag_s: int | None = None,
        *,
        region: str | None = None,
        sensitivity: str | None = None,
        pii: str = "allow",
    ) -> Bucket:
        try:
            with self._session() as s:
                row = BucketRow(
                    name=name,
                    roles=list(roles),
                    doc_type=doc_type,
                    source=source,
                    max_lag_s=max_lag_s,
                    region=region,
                    sensitivity=sensitivity,
                    pii=pii,
                )
                s.add(row)
                s.flush()
                return _bucket(row)
        except IntegrityError:
            raise ConflictError(f"bucket '{name}' already exists") from None

    def get_bucket(self, name: str) -> Bucket:
        with self._session() as s:
            row = s.get(BucketRow, name)
            if row is None:
                raise NotFoundError(f"bucket '{name}' not found")
            return _bucket(row)

    def find_bucket(self, name: str) -> Bucket | None:
        with self._session() as s:
            row = s.get(BucketRow, name)
            return _bucket(row) if row else None

    def list_buckets(self) -> list[Bucket]:
        with self._session() as s:
            return [_bucket(r) for r in s.scalars(select(BucketRow).order_by(BucketRow.name))]
