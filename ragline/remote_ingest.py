"""`ragline ingest --server`: the same folder ingestion, through a running server's API.

In embedded mode the serving process owns the index, so a second process may not
write to it; uploading through the API lets the server's own worker do the writes.
Reports use the same shape as in-process ingestion, so the CLI prints one summary.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ingest.folder import FileReport
from kernel.errors import (
    AuthenticationError,
    DependencyUnavailableError,
    InvalidInputError,
    RaglineError,
)

_DONE = ("indexed", "failed")
# Only these formats can bring attachments; listing the bucket for any other is waste.
_CARRIES_ATTACHMENTS = frozenset({"eml"})


@dataclass(frozen=True, slots=True)
class _Upload:
    document_id: str
    name: str
    path: Path
    started: float
    unchanged: bool  # the server had this exact content indexed already


class _Api:
    def __init__(self, server: str, key: str, timeout_s: float) -> None:
        self._http = httpx.Client(
            base_url=server.rstrip("/"),
            headers={"Authorization": f"Bearer {key}"},
            timeout=timeout_s,
        )

    def __enter__(self) -> _Api:
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            resp = self._http.request(method, url, **kwargs)
        except httpx.TransportError:
            raise DependencyUnavailableError(
                f"cannot reach {self._http.base_url}: is `ragline serve` running?"
            ) from None
        if resp.status_code == 401:
            raise AuthenticationError("the server refused the API key")
        return resp

    def document(self, doc_id: str) -> dict[str, Any]:
        body: dict[str, Any] = self.call("GET", f"/documents/{doc_id}").json()
        return body


def _error_message(resp: httpx.Response) -> str:
    try:
        return str(resp.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {resp.status_code}"


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
    """Upload every file, then wait for each to be indexed or failed, attachments included."""
    with _Api(server, key, timeout_s=120) as api:
        if roles:
            resp = api.call("POST", "/buckets", json={"name": bucket, "roles": list(roles)})
            if resp.status_code not in (201, 409):
                raise RaglineError(f"cannot create bucket '{bucket}': {_error_message(resp)}")
        form = {k: v for k, v in {"roles": ",".join(roles), "doc_type": doc_type}.items() if v}
        pending: list[_Upload] = []
        for path in files:
            name = path.name if root.is_file() else path.relative_to(root).as_posix()
            started = time.perf_counter()
            with path.open("rb") as fh:
                resp = api.call(
                    "POST", f"/buckets/{bucket}/documents", files={"file": (name, fh)}, data=form
                )
            if resp.status_code != 202:
                if resp.status_code in (403, 404, 422) and not pending:
                    raise InvalidInputError(_error_message(resp))
                fmt = path.suffix.lstrip(".") or "unknown"
                code, message = f"http_{resp.status_code}", _error_message(resp)
                on_file(FileReport(name, fmt, "failed", 0, 0.0, code, message))
                continue
            accepted = resp.json()
            pending.append(
                _Upload(
                    accepted["document_id"], name, path, started, accepted["status"] == "indexed"
                )
            )
        return _wait_all(api, pending, on_file, timeout_s)


def _wait_all(
    api: _Api,
    pending: list[_Upload],
    on_file: Callable[[FileReport], None],
    timeout_s: float,
) -> list[FileReport]:
    reports: list[FileReport] = []
    deadline = time.monotonic() + timeout_s
    queue = list(pending)
    while queue:
        if time.monotonic() > deadline:
            raise DependencyUnavailableError("timed out waiting for the server to ingest")
        upload = queue[0]
        body = api.document(upload.document_id)
        if body["status"] not in _DONE:
            time.sleep(0.3)
            continue
        queue.pop(0)
        outcome = "failed" if body["status"] == "failed" else "indexed"
        report = FileReport(
            upload.name,
            body.get("format") or upload.path.suffix.lstrip(".") or "unknown",
            "unchanged" if upload.unchanged and outcome == "indexed" else outcome,
            body.get("chunks") or 0,
            time.perf_counter() - upload.started,
            body.get("error_code"),
            body.get("error"),
        )
        reports.append(report)
        on_file(report)
        if upload.unchanged or body.get("format") not in _CARRIES_ATTACHMENTS:
            continue
        listed = api.call("GET", "/documents", params={"bucket": body["bucket"], "limit": 1000})
        for child in listed.json()["documents"]:
            if child["parent_id"] == upload.document_id:
                source = child["source"].rsplit("#", 1)[-1]
                queue.append(
                    _Upload(
                        child["document_id"],
                        f"{upload.name} > {source}",
                        Path(source),
                        upload.started,
                        unchanged=False,
                    )
                )
    return reports
