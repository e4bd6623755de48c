"""What an audit row's hash covers, spelled once: canonical JSON, the digest, the link.

A row's *content* is its time, kind, action, actor, target and details; its
``digest`` is the SHA-256 of the content's canonical JSON (sorted keys, no spaces,
UTF-8) and its ``hash`` is ``sha256(prev_hash + digest)``, so each row commits to
every row before it. The sequence number is not in the content: order is what the
links say, so rows swapped or renumbered break a link.

Texts that retention may strip while keeping the record (``TEXT_FIELDS`` of an
answer's details) enter the content as their own digest, ``{"sha256": ...}``; a
stripped text is stored as ``{"stripped": true, "sha256": ...}`` and enters the
content the same way, so stripping changes neither the digest nor the chain.

Migration 0004 repeats this recipe (revisions never import the models); the tests
verify the rows it writes.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
# Details of an answer record that retention may strip on their own.
TEXT_FIELDS = ("question", "answer", "citations")


def canonical_json(value: object) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def utc(moment: datetime) -> datetime:
    """Aware UTC; a naive time (SQLite hands those back) is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def stripped(text_digest: str) -> dict[str, object]:
    """What a stripped text is stored as: its digest, so the row's digest still holds."""
    return {"stripped": True, "sha256": text_digest}


def is_stripped(value: object) -> bool:
    return isinstance(value, dict) and value.get("stripped") is True


def text_digest(value: object) -> str:
    """The digest a text field enters the content as (the same once stripped)."""
    if is_stripped(value):
        return str(value["sha256"])  # type: ignore[index]
    return sha256_hex(canonical_json(value))


def _sealed_details(kind: str, details: dict[str, Any]) -> dict[str, Any]:
    if kind != "answer":
        return details
    sealed = dict(details)
    for name in TEXT_FIELDS:
        if sealed.get(name) is not None:
            sealed[name] = {"sha256": text_digest(sealed[name])}
    return sealed


def content_digest(
    *,
    ts: datetime,
    kind: str,
    action: str,
    key_id: str | None,
    team: str | None,
    identity: str | None,
    target: str | None,
    details: dict[str, Any],
) -> str:
    content = {
        "ts": utc(ts).isoformat(timespec="microseconds"),
        "kind": kind,
        "action": action,
        "key_id": key_id,
        "team": team,
        "identity": identity,
        "target": target,
        "details": _sealed_details(kind, details),
    }
    return sha256_hex(canonical_json(content))


def link(prev_hash: str, digest: str) -> str:
    """The row's hash: its digest chained to the row before it."""
    return sha256_hex((prev_hash + digest).encode("ascii"))
