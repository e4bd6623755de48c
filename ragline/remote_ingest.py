"""`ragline ingest --server`: the folder use case, through a running server's API.

In embedded mode the serving process owns the index, so a second process may not
write to it; uploading through the API lets the server's own workers do the writes.
``ServerGateway`` is the :class:`~ingest.folder.FolderGateway` that does so; the walk,
the attachments and the reports are ``ingest.folder.ingest_folder``'s, as in-process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

from ingest.folder import FileReport, Offered, Settled, ingest_folder
from kernel.errors import (
    AuthenticationError,
    DependencyUnavailableError,
    InvalidInputError,
    RaglineError,
)

_DONE = ("indexed", "failed")
# Only these formats can bring attachments; listing the bucket for any other is waste.
_CARRIES_ATTACHMENTS = frozenset({"eml"})


class ServerGateway:
    """Uploads to ``server`` with an admin ``key`` and polls each document until it ends."""

    def __init__(self, server: str, key: str, *, timeout_s: float = 3600) -> None:
        self._http = httpx.Client(
            base_url=server.rstrip("/"), headers={"Authorization": f"Bearer {key}"}, timeout=120
        )
        self._deadline = time.monotonic() + timeout_s
        self._bucket = ""
        self._form: dict[str, str] = {}
        self._accepted = 0

    def __enter__(self) -> ServerGateway:
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def open_bucket(
        self, name: str, root: Path, roles: Sequence[str], doc_type: str | None
    ) -> None:
        self._bucket = name
        if roles:
            resp = self._call("POST", "/buckets", json={"name": name, "roles": list(roles)})
            if resp.status_code not in (201, 409):
                raise RaglineError(f"cannot create bucket '{name}': {error_message(resp)}")
        self._form = {
            k: v for k, v in {"roles": ",".join(roles), "doc_type": doc_type}.items() if v
        }

    def offer(self, name: str, path: Path) -> Offered:
        with path.open("rb") as fh:
            resp = self._call(
                "POST",
                f"/buckets/{self._bucket}/documents",
                files={"file": (name, fh)},
                data=self._form,
            )
        if resp.status_code != 202:
            if resp.status_code in (403, 404, 422) and not self._accepted:
                raise InvalidInputError(error_message(resp))  # the whole run is wrong
            return Offered(None, error_code=f"http_{resp.status_code}", error=error_message(resp))
        self._accepted += 1
        accepted = resp.json()
        return Offered(accepted["document_id"], unchanged=accepted["status"] == "indexed")

    def settle(self, document_id: str, *, unchanged: bool) -> Settled:
        while True:
            body: dict[str, Any] = self._call("GET", f"/documents/{document_id}").json()
            if body["status"] in _DONE:
                break
            if time.monotonic() > self._deadline:
                raise DependencyUnavailableError("timed out waiting for the server to ingest")
            time.sleep(0.3)
        outcome = "failed" if body["status"] == "failed" else "indexed"
        children: tuple[tuple[str, str], ...] = ()
        if not unchanged and body.get("format") in _CARRIES_ATTACHMENTS:
            children = self._attachments(document_id, body["bucket"])
        return Settled(
            "unchanged" if unchanged and outcome == "indexed" else outcome,
            body.get("format"),
            body.get("chunks") or 0,
            body.get("error_code"),
            body.get("error"),
            children,
        )

    def _attachments(self, document_id: str, bucket: str) -> tuple[tuple[str, str], ...]:
        listed = self._call("GET", "/documents", params={"bucket": bucket, "limit": 1000})
        return tuple(
            (child["document_id"], child["source"].rsplit("#", 1)[-1])
            for child in listed.json()["documents"]
            if child["parent_id"] == document_id
        )

    def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            resp = self._http.request(method, url, **kwargs)
        except httpx.TransportError:
            raise DependencyUnavailableError(
                f"cannot reach {self._http.base_url}: is `ragline serve` running?"
            ) from None
        if resp.status_code == 401:
            raise AuthenticationError("the server refused the API key")
        return resp


def ingest_via_server(
    server: str,
    key: str,
    root: Path,
    files: Sequence[Path],
    *,
    bucket: str,
    roles: Sequence[str],
    doc_type: str | None,
    on_file: Callable[[FileReport], None],
    timeout_s: float = 3600,
) -> list[FileReport]:
    """:func:`ingest.folder.ingest_folder` through ``server``'s API."""
    with ServerGateway(server, key, timeout_s=timeout_s) as gateway:
        return ingest_folder(
            gateway, root, files, bucket=bucket, roles=roles, doc_type=doc_type, on_file=on_file
        )


def error_message(resp: httpx.Response) -> str:
    try:
        return str(resp.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {resp.status_code}"
