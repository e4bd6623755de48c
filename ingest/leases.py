"""Keeping a lease held in the database alive while a long job works.

Refreshes and re-indexes hold a lease row with an expiry; renewing it on every step
would be a write per document, so :class:`LeaseKeeper` renews at a quarter of its
length. A renewal that fails means the lease expired and another holder may have
taken over: the job must stop, so it raises.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from kernel.errors import DependencyUnavailableError


class LeaseKeeper:
    def __init__(self, renew: Callable[[], bool], lease_s: int, *, job: str) -> None:
        self._renew, self._lease_s, self._job = renew, lease_s, job
        self._renewed = time.monotonic()

    def keep(self) -> None:
        if time.monotonic() - self._renewed < self._lease_s / 4:
            return
        if not self._renew():
            raise DependencyUnavailableError(
                f"the {self._job} lost its lease (it stalled longer than the lease); "
                f"another {self._job} may have taken over"
            )
        self._renewed = time.monotonic()
