"""Which release answers a caller: a stable hash of the caller into 0..99 against the stage.

The point is salted with the candidate's id, so each release's first 5 % is a
different slice of callers (nobody is everyone's canary), while within one release
the slices nest: a caller in the 5 % stays in at 25 % and 100 %, and the same caller
keeps the same release for as long as the stage stands.
"""

from __future__ import annotations

import hashlib


def bucket(release_id: str, sticky_key: str) -> int:
    """``sticky_key``'s point in 0..99 for the rollout of ``release_id``."""
    digest = hashlib.sha256(f"release:{release_id}:{sticky_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


def takes_candidate(release_id: str, sticky_key: str, stage_percent: int) -> bool:
    return bucket(release_id, sticky_key) < stage_percent
