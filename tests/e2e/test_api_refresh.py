"""Scheduled bucket refresh (issue 13) as an operator drives it over HTTP.

A bucket whose source is a folder on this machine; files are written, changed and
removed on disk, and the refresh routes, the schedule routes and ``/ask`` must
show exactly what the folder holds, under the roles each document was given.
One embedded server for the module (its scheduler ticks every 0.2 s); each test
has its own bucket and folder.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from ingest.parsing.base import Parser
from kernel.documents import ParsedDocument
from ragline.runtime import Runtime
from ragline.service import create_app
from tests.conftest import ADMIN_KEY, ENG_KEY, HR_KEY, NOBODY_KEY, make_settings
from tests.e2e.conftest import auth, upload, wait_done

pytestmark = pytest.mark.e2e

MIN_EVERY_S = 2  # "2s" is the shortest schedule; "1s" is refused
BEAT_INTERVAL_S = 0.2
DEFAULT_MAX_LAG_S = 777  # not the product default (900): proves the setting is read
TIMEOUT_S = 120.0
HOLD_PREFIX = "hold-"


class HoldNamedFiles:
    """Parser double: a file whose name starts with ``hold-`` waits for ``release``.

    Stands for a slow parse, so that a refresh is still waiting for its ingestions
    while the test looks at it; every other file goes straight to the real parsers.
    """

    def __init__(self) -> None:
        self.release = threading.Event()
        self.holding = threading.Event()
        self.release.set()
        self.inner: Parser | None = None

    def install(self, runtime: Runtime) -> None:
        """Stand in front of the runtime's parser pool, before any worker starts."""
        self.inner = runtime.ingestion.parser
        runtime.ingestion = dataclasses.replace(runtime.ingestion, parser=self)

    def parse(
        self, path: Path, *, filename: str | None = None, content_type: str | None = None
    ) -> ParsedDocument:
        assert self.inner is not None
        if Path(filename or path.name).name.startswith(HOLD_PREFIX):
            self.holding.set()
            self.release.wait(TIMEOUT_S)
        return self.inner.parse(path, filename=filename, content_type=content_type)

    def close(self) -> None:
        if self.inner is not None:
            self.inner.close()


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one folder bucket sources may lie in."""
    folder = tmp_path_factory.mktemp("refresh") / "sources"
    folder.mkdir()
    return folder


@pytest.fixture(scope="module")
def holder() -> HoldNamedFiles:
    return HoldNamedFiles()


@pytest.fixture(scope="module")
def api(sources: Path, embedder: Any, holder: HoldNamedFiles) -> Iterator[TestClient]:
    settings = make_settings(
        sources.parent / "data",
        buckets={"allowed_roots": [str(sources)]},
        refresh={
            "min_every_s": MIN_EVERY_S,
            "beat_interval_s": BEAT_INTERVAL_S,
            "default_max_lag_s": DEFAULT_MAX_LAG_S,
        },
    )
    with TestClient(create_app(settings, dense=embedder, prepare=holder.install)) as client:
        try:
            yield client
        finally:
            holder.release.set()  # no held parse may outlive the module and block shutdown


# --- helpers -----------------------------------------------------------------------


def folder_bucket(
    api: TestClient,
    sources: Path,
    name: str,
    files: dict[str, str],
    *,
    roles: tuple[str, ...] = ("public",),
    max_lag_s: int | None = None,
) -> Path:
    """A bucket whose source is ``sources/name``, holding ``files`` before it is created."""
    folder = sources / name
    folder.mkdir()
    for key, text in files.items():
        (folder / key).write_text(text)
    body: dict[str, Any] = {"name": name, "roles": list(roles), "source": str(folder)}
    if max_lag_s is not None:
        body["max_lag_s"] = max_lag_s
    resp = api.post("/buckets", json=body, headers=auth(ADMIN_KEY))
    assert resp.status_code == 201, resp.text
    assert resp.json()["source"] == str(folder.resolve())
    return folder


def rewrite(path: Path, text: str) -> None:
    """New content, and an mtime that certainly differs from the one listed before."""
    before = path.stat().st_mtime_ns
    path.write_text(text)
    os.utime(path, ns=(before + 5_000_000_000, before + 5_000_000_000))


def request_refresh(api: TestClient, bucket: str) -> dict[str, Any]:
    resp = api.post(f"/buckets/{bucket}/refresh", headers=auth(ADMIN_KEY))
    assert resp.status_code == 202, resp.text
    body: dict[str, Any] = resp.json()
    assert body["bucket"] == bucket and body["trigger"] == "api"
    assert body["status"] in ("queued", "running", "finished"), body
    return body


def wait_refresh(api: TestClient, bucket: str, refresh_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        resp = api.get(f"/buckets/{bucket}/refreshes/{refresh_id}", headers=auth(ADMIN_KEY))
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        if body["status"] not in ("queued", "running"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"refresh {refresh_id} of {bucket} did not end within {TIMEOUT_S} s")


def refresh(api: TestClient, bucket: str) -> dict[str, Any]:
    """Refresh now and wait for the run to end; it must end finished, without failures."""
    run = wait_refresh(api, bucket, request_refresh(api, bucket)["refresh_id"])
    assert run["status"] == "finished", run
    assert run["failed"] == 0 and run["failures"] == [] and run["error"] is None, run
    return run


def counts(run: dict[str, Any]) -> dict[str, int]:
    return {k: run[k] for k in ("new", "changed", "deleted", "unchanged", "failed")}


def ask(api: TestClient, key: str, question: str, bucket: str) -> dict[str, Any]:
    resp = api.post(
        "/ask",
        json={"question": question, "filters": {"bucket": [bucket]}},
        headers=auth(key),
    )
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def cited(body: dict[str, Any]) -> set[str]:
    return {c["source"] for c in body["citations"]}


def cited_text(body: dict[str, Any]) -> str:
    return " ".join(c["text"] for c in body["citations"])


def refreshes(api: TestClient, bucket: str) -> list[dict[str, Any]]:
    resp = api.get(f"/buckets/{bucket}/refreshes?limit=200", headers=auth(ADMIN_KEY))
    assert resp.status_code == 200, resp.text
    runs: list[dict[str, Any]] = resp.json()["refreshes"]
    return runs


def documents(api: TestClient, bucket: str) -> dict[str, dict[str, Any]]:
    resp = api.get(f"/documents?bucket={bucket}", headers=auth(ADMIN_KEY))
    assert resp.status_code == 200, resp.text
    return {d["source"]: d for d in resp.json()["documents"]}


def error_message(resp: Any) -> str:
    message: str = resp.json()["error"]["message"]
    return message


def utc(raw: str) -> datetime:
    moment = datetime.fromisoformat(raw)
    assert moment.tzinfo is not None, f"{raw} has no time zone"
    return moment


# --- 1. new, changed, deleted, unchanged ---------------------------------------------

FERRY = "The ferry to Lindholm island departs every morning at 07:40 from pier nine.\n"
FERRY_NEW = "The ferry to Lindholm island now departs at 09:15 from pier twelve.\n"
BAKERY = "The canteen bakery sells cardamom buns only on Thursdays.\n"
ARCHIVE = "The archive room key is kept in the blue cabinet behind reception.\n"
TELESCOPE = "The rooftop telescope is booked through the astronomy club secretary, Mrs Okafor.\n"


def test_refresh_follows_new_changed_and_deleted_files(api: TestClient, sources: Path) -> None:
    folder = folder_bucket(
        api,
        sources,
        "harbour",
        {"ferry.txt": FERRY, "bakery.txt": BAKERY, "archive.txt": ARCHIVE},
    )
    first = refresh(api, "harbour")
    assert counts(first) == {"new": 3, "changed": 0, "deleted": 0, "unchanged": 0, "failed": 0}
    assert first["total"] == 3 and first["done"] == 3
    assert first["started_at"] is not None and first["finished_at"] is not None
    assert set(documents(api, "harbour")) == {"ferry.txt", "bakery.txt", "archive.txt"}
    ferry = ask(api, ADMIN_KEY, "When does the ferry to Lindholm island depart?", "harbour")
    assert ferry["found"], ferry
    assert "ferry.txt" in cited(ferry)
    assert "07:40" in ferry["answer"]

    rewrite(folder / "ferry.txt", FERRY_NEW)
    (folder / "bakery.txt").unlink()
    (folder / "telescope.txt").write_text(TELESCOPE)
    second = refresh(api, "harbour")
    assert counts(second) == {"new": 1, "changed": 1, "deleted": 1, "unchanged": 1, "failed": 0}
    assert second["refresh_id"] != first["refresh_id"]
    assert set(documents(api, "harbour")) == {"ferry.txt", "archive.txt", "telescope.txt"}

    buns = ask(api, ADMIN_KEY, "On which day does the bakery sell cardamom buns?", "harbour")
    assert "bakery.txt" not in cited(buns)
    assert "cardamom" not in cited_text(buns) and "cardamom" not in buns["answer"]
    ferry = ask(api, ADMIN_KEY, "When does the ferry to Lindholm island depart?", "harbour")
    assert "ferry.txt" in cited(ferry)
    assert "09:15" in ferry["answer"]
    assert "07:40" not in ferry["answer"] and "07:40" not in cited_text(ferry)
    telescope = ask(api, ADMIN_KEY, "Who books the rooftop telescope?", "harbour")
    assert "telescope.txt" in cited(telescope) and "Okafor" in telescope["answer"]

    third = refresh(api, "harbour")
    assert counts(third) == {"new": 0, "changed": 0, "deleted": 0, "unchanged": 3, "failed": 0}
    listed = [r["refresh_id"] for r in refreshes(api, "harbour")]
    assert listed == [third["refresh_id"], second["refresh_id"], first["refresh_id"]]


# --- 2. roles an upload narrowed survive a refresh -------------------------------------

BONUS = "The quarterly bonus pool for the night shift is 4,000 EUR.\n"
BONUS_NEW = "The quarterly bonus pool for the night shift was raised to 6,500 EUR.\n"
MENU = "The staff canteen serves lentil soup every Monday.\n"
BONUS_QUESTION = "How large is the quarterly bonus pool for the night shift?"


def test_a_refresh_keeps_the_narrower_roles_of_an_uploaded_document(
    api: TestClient, sources: Path
) -> None:
    folder = folder_bucket(api, sources, "payroll", {"menu.txt": MENU})
    doc_id = upload(api, "payroll", "bonus.txt", BONUS.encode(), roles="hr")["document_id"]
    assert wait_done(api, doc_id)["status"] == "indexed"
    assert (folder / "bonus.txt").read_text() == BONUS
    first = refresh(api, "payroll")
    assert counts(first) == {"new": 1, "changed": 0, "deleted": 0, "unchanged": 1, "failed": 0}

    rewrite(folder / "bonus.txt", BONUS_NEW)
    second = refresh(api, "payroll")
    assert counts(second) == {"new": 0, "changed": 1, "deleted": 0, "unchanged": 1, "failed": 0}
    doc = api.get(f"/documents/{doc_id}", headers=auth(ADMIN_KEY)).json()
    assert doc["roles"] == ["hr"] and doc["status"] == "indexed" and doc["version"] == 2

    for key in (ENG_KEY, NOBODY_KEY):
        hidden = ask(api, key, BONUS_QUESTION, "payroll")
        assert "bonus.txt" not in cited(hidden), (key, hidden)
        assert "bonus pool" not in cited_text(hidden) and "6,500" not in hidden["answer"]
    seen = api.get(f"/documents/{doc_id}", headers=auth(ENG_KEY))
    assert seen.status_code == 404
    hr = ask(api, HR_KEY, BONUS_QUESTION, "payroll")
    assert "bonus.txt" in cited(hr)
    assert "6,500" in hr["answer"]
    assert "4,000" not in cited_text(hr)


# --- 3. a deleted document stays deleted --------------------------------------------

LOCKER = "Locker 17 in the basement holds the spare projector remote.\n"
PARKING = "Visitor parking is in the north lot beside the bicycle shed.\n"


def test_a_deleted_document_leaves_the_folder_and_does_not_come_back(
    api: TestClient, sources: Path
) -> None:
    folder = folder_bucket(api, sources, "office", {"locker.txt": LOCKER, "parking.txt": PARKING})
    assert counts(refresh(api, "office"))["new"] == 2
    doc_id = documents(api, "office")["locker.txt"]["document_id"]
    assert "locker.txt" in cited(
        ask(api, ADMIN_KEY, "Where is the spare projector remote?", "office")
    )

    resp = api.delete(f"/documents/{doc_id}", headers=auth(ADMIN_KEY))
    assert resp.status_code == 204, resp.text
    assert not (folder / "locker.txt").exists()
    assert (folder / "parking.txt").read_text() == PARKING

    after = refresh(api, "office")
    assert counts(after) == {"new": 0, "changed": 0, "deleted": 0, "unchanged": 1, "failed": 0}
    assert set(documents(api, "office")) == {"parking.txt"}
    assert api.get(f"/documents/{doc_id}", headers=auth(ADMIN_KEY)).status_code == 404
    remote = ask(api, ADMIN_KEY, "Where is the spare projector remote?", "office")
    assert "locker.txt" not in cited(remote)
    assert "projector" not in cited_text(remote) and "Locker 17" not in remote["answer"]


# --- 4. schedules: set, read, refuse, delete, guard ---------------------------------


def test_a_schedule_is_set_read_replaced_and_deleted(api: TestClient, sources: Path) -> None:
    folder_bucket(api, sources, "timed", {"note.txt": MENU})
    before = datetime.now(UTC)
    put = api.put("/buckets/timed/schedule", json={"every": "1m"}, headers=auth(ADMIN_KEY))
    after = datetime.now(UTC)
    assert put.status_code == 200, put.text
    body = put.json()
    assert body["bucket"] == "timed" and body["every_s"] == 60 and body["cron"] is None
    next_run = utc(body["next_run_at"])
    assert before + timedelta(seconds=60) <= next_run <= after + timedelta(seconds=60)
    got = api.get("/buckets/timed/schedule", headers=auth(ADMIN_KEY))
    assert got.status_code == 200 and got.json() == body
    assert api.get("/buckets/timed", headers=auth(ADMIN_KEY)).json()["schedule"] == body

    cron = {"cron": "*/30 * * * *", "timezone": "Europe/Zurich"}
    put = api.put("/buckets/timed/schedule", json=cron, headers=auth(ADMIN_KEY))
    assert put.status_code == 200, put.text
    body = put.json()
    assert body["every_s"] is None and body["cron"] == "*/30 * * * *"
    assert body["timezone"] == "Europe/Zurich"
    next_run = utc(body["next_run_at"])
    assert datetime.now(UTC) < next_run <= datetime.now(UTC) + timedelta(minutes=30)
    assert next_run.minute in (0, 30) and next_run.second == 0
    assert api.get("/buckets/timed/schedule", headers=auth(ADMIN_KEY)).json() == body

    nightly = {"cron": "0 2 * * *", "timezone": "Europe/Zurich"}
    put = api.put("/buckets/timed/schedule", json=nightly, headers=auth(ADMIN_KEY))
    assert put.status_code == 200, put.text
    local = utc(put.json()["next_run_at"]).astimezone(ZoneInfo("Europe/Zurich"))
    assert (local.hour, local.minute) == (2, 0)  # 02:00 in Zurich, summer or winter
    put = api.put("/buckets/timed/schedule", json={"every": "1h30m"}, headers=auth(ADMIN_KEY))
    assert put.status_code == 200 and put.json()["every_s"] == 5400, put.text
    assert put.json()["cron"] is None and put.json()["timezone"] == "UTC"

    resp = api.delete("/buckets/timed/schedule", headers=auth(ADMIN_KEY))
    assert resp.status_code == 204, resp.text
    gone = api.get("/buckets/timed/schedule", headers=auth(ADMIN_KEY))
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "not_found"
    assert "has no schedule" in error_message(gone)
    assert api.get("/buckets/timed", headers=auth(ADMIN_KEY)).json()["schedule"] is None
    assert api.delete("/buckets/timed/schedule", headers=auth(ADMIN_KEY)).status_code == 404


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"every": "soon"}, "every: 'soon' is not a period"),
        ({"every": "1s"}, f"every: '1s' is 1 s; allowed is {MIN_EVERY_S} s to 366 days"),
        ({"every": "400d"}, "allowed is"),
        ({"cron": "61 * * * *"}, "cron: '61 * * * *' is not a cron expression"),
        # cronsim reads a sixth field as seconds: this would fire every second.
        ({"cron": "* * * * * *"}, "five fields"),
        (
            {"cron": "* * * * *", "timezone": "Mars/Olympus"},
            "timezone: 'Mars/Olympus' is not an IANA time zone",
        ),
        ({"every": "1m", "cron": "* * * * *"}, "exactly one of 'every' or 'cron'"),
        ({}, "exactly one of 'every' or 'cron'"),
        ({"every": "1m", "timezone": "UTC"}, "'timezone' applies to 'cron' schedules only"),
        ({"every": "1m", "when": "now"}, "when"),
    ],
)
def test_a_bad_schedule_is_a_422_naming_the_problem(
    api: TestClient, sources: Path, body: dict[str, str], problem: str
) -> None:
    if api.get("/buckets/strict", headers=auth(ADMIN_KEY)).status_code == 404:
        folder_bucket(api, sources, "strict", {})
        ok = api.put("/buckets/strict/schedule", json={"every": "1h"}, headers=auth(ADMIN_KEY))
        assert ok.status_code == 200, ok.text
    kept = api.get("/buckets/strict/schedule", headers=auth(ADMIN_KEY)).json()
    resp = api.put("/buckets/strict/schedule", json=body, headers=auth(ADMIN_KEY))
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["code"] == "invalid_input"
    assert problem in error_message(resp)
    assert api.get("/buckets/strict/schedule", headers=auth(ADMIN_KEY)).json() == kept


ROUTES = [
    ("GET", "/buckets/{b}", None),
    ("POST", "/buckets/{b}/refresh", None),
    ("GET", "/buckets/{b}/refreshes", None),
    ("GET", "/buckets/{b}/refreshes/{r}", None),
    ("PUT", "/buckets/{b}/schedule", {"every": "1h"}),
    ("GET", "/buckets/{b}/schedule", None),
    ("DELETE", "/buckets/{b}/schedule", None),
]


@pytest.fixture(scope="module")
def guarded(api: TestClient, sources: Path) -> tuple[str, str]:
    """A bucket with a schedule and a finished refresh: every route has something to show."""
    folder_bucket(api, sources, "guarded", {"note.txt": MENU})
    run_id = refresh(api, "guarded")["refresh_id"]
    resp = api.put("/buckets/guarded/schedule", json={"every": "1h"}, headers=auth(ADMIN_KEY))
    assert resp.status_code == 200, resp.text
    return "guarded", run_id


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
@pytest.mark.parametrize("key", [HR_KEY, ENG_KEY, NOBODY_KEY])
def test_every_refresh_route_is_admin_only(
    api: TestClient,
    guarded: tuple[str, str],
    method: str,
    path: str,
    body: dict[str, str] | None,
    key: str,
) -> None:
    bucket, run_id = guarded
    url = path.format(b=bucket, r=run_id)
    resp = api.request(method, url, json=body, headers=auth(key))
    assert resp.status_code == 403, (url, resp.text)
    assert resp.json()["error"]["code"] == "permission_denied"
    assert api.request(method, url, json=body).status_code == 401
    # Nothing changed: the schedule is still there and no refresh was queued.
    assert api.get(f"/buckets/{bucket}/schedule", headers=auth(ADMIN_KEY)).status_code == 200
    assert [r["refresh_id"] for r in refreshes(api, bucket)] == [run_id]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_an_unknown_bucket_is_a_404_on_every_refresh_route(
    api: TestClient,
    guarded: tuple[str, str],
    method: str,
    path: str,
    body: dict[str, str] | None,
) -> None:
    _, run_id = guarded
    resp = api.request(
        method, path.format(b="nosuch", r=run_id), json=body, headers=auth(ADMIN_KEY)
    )
    assert resp.status_code == 404, resp.text
    assert resp.json()["error"]["code"] == "not_found"
    assert "nosuch" in error_message(resp) or run_id in error_message(resp)
    assert api.get("/buckets/nosuch", headers=auth(ADMIN_KEY)).status_code == 404


def test_a_refresh_is_only_found_under_its_own_bucket(
    api: TestClient, sources: Path, guarded: tuple[str, str]
) -> None:
    _, run_id = guarded
    folder_bucket(api, sources, "other", {})
    wrong = api.get(f"/buckets/other/refreshes/{run_id}", headers=auth(ADMIN_KEY))
    assert wrong.status_code == 404
    assert run_id in error_message(wrong)
    missing = api.get("/buckets/guarded/refreshes/no-such-run", headers=auth(ADMIN_KEY))
    assert missing.status_code == 404


# --- 5. freshness -----------------------------------------------------------------


def test_bucket_detail_shows_freshness_sla_and_the_latest_refresh(
    api: TestClient, sources: Path
) -> None:
    folder_bucket(api, sources, "sla-own", {"a.txt": MENU}, max_lag_s=42)
    folder_bucket(api, sources, "sla-default", {"b.txt": PARKING})
    before = api.get("/buckets/sla-own", headers=auth(ADMIN_KEY))
    assert before.status_code == 200, before.text
    detail = before.json()
    assert detail["name"] == "sla-own" and detail["roles"] == ["public"]
    assert detail["max_lag_s"] == 42 and detail["freshness"]["max_lag_s"] == 42
    assert detail["last_refresh"] is None and detail["freshness"]["last_refresh_at"] is None
    assert detail["schedule"] is None

    first = refresh(api, "sla-own")
    second = refresh(api, "sla-own")
    detail = api.get("/buckets/sla-own", headers=auth(ADMIN_KEY)).json()
    fresh = detail["freshness"]
    assert fresh["lag_s"] == 0 and fresh["pending"] == 0 and fresh["failed"] == 0
    assert fresh["over_sla"] is False and fresh["max_lag_s"] == 42
    assert detail["last_refresh"]["refresh_id"] == second["refresh_id"] != first["refresh_id"]
    assert detail["last_refresh"]["unchanged"] == 1
    assert utc(fresh["last_refresh_at"]) == utc(second["finished_at"])

    refresh(api, "sla-default")
    other = api.get("/buckets/sla-default", headers=auth(ADMIN_KEY)).json()
    assert other["max_lag_s"] is None
    assert other["freshness"]["max_lag_s"] == DEFAULT_MAX_LAG_S
    assert other["freshness"]["lag_s"] == 0


# --- 6. the embedded scheduler ------------------------------------------------------

COMET = "The comet observation log is stored in the brass chest in the attic.\n"
GLACIER = "The glacier survey drone is charged in garage bay four.\n"


def wait_until_cited(api: TestClient, question: str, bucket: str, key: str) -> dict[str, Any]:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        body = ask(api, ADMIN_KEY, question, bucket)
        if key in cited(body):
            return body
        time.sleep(0.5)
    raise AssertionError(f"{key} was not cited within {TIMEOUT_S} s")


def wait_idle(api: TestClient, bucket: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        runs = refreshes(api, bucket)
        if all(r["status"] not in ("queued", "running") for r in runs):
            return runs
        time.sleep(0.2)
    raise AssertionError(f"refreshes of {bucket} still running after {TIMEOUT_S} s")


def test_the_embedded_scheduler_refreshes_a_scheduled_bucket_until_unscheduled(
    api: TestClient, sources: Path
) -> None:
    folder = folder_bucket(api, sources, "skies", {"menu.txt": MENU})
    put = api.put("/buckets/skies/schedule", json={"every": "2s"}, headers=auth(ADMIN_KEY))
    assert put.status_code == 200 and put.json()["every_s"] == 2, put.text
    (folder / "comet.txt").write_text(COMET)

    found = wait_until_cited(
        api, "Where is the comet observation log stored?", "skies", "comet.txt"
    )
    assert "brass chest" in found["answer"]
    # The run that ingested comet.txt records its counts just after; let it end first.
    runs = wait_idle(api, "skies")
    assert {r["trigger"] for r in runs} == {"schedule"}
    assert {r["status"] for r in runs} == {"finished"}
    assert sum(r["new"] for r in runs) == 2  # menu.txt and comet.txt, by the scheduler alone

    resp = api.delete("/buckets/skies/schedule", headers=auth(ADMIN_KEY))
    assert resp.status_code == 204, resp.text
    time.sleep(5 * BEAT_INTERVAL_S)  # a tick that claimed the schedule before the delete ends
    baseline = len(wait_idle(api, "skies"))
    (folder / "glacier.txt").write_text(GLACIER)
    time.sleep(3 * 2 + 10 * BEAT_INTERVAL_S)  # three periods of the deleted schedule

    assert len(refreshes(api, "skies")) == baseline
    assert "glacier.txt" not in documents(api, "skies")
    drone = ask(api, ADMIN_KEY, "Where is the glacier survey drone charged?", "skies")
    assert "glacier.txt" not in cited(drone)
    # The file itself was fine: a manual refresh picks it up.
    assert counts(refresh(api, "skies"))["new"] == 1
    assert "glacier.txt" in documents(api, "skies")


# --- 7. one refresh per bucket at a time ---------------------------------------------


def test_a_second_request_while_refreshing_gets_the_running_refresh(
    api: TestClient, sources: Path, holder: HoldNamedFiles
) -> None:
    files = {
        f"{HOLD_PREFIX}{n}.txt": f"Shelf {n} of the slow archive holds map {n}.\n" for n in range(3)
    }
    folder = folder_bucket(api, sources, "slow", files)
    hour_ago = time.time() - 3600
    for key in files:
        os.utime(folder / key, (hour_ago, hour_ago))
    holder.holding.clear()
    holder.release.clear()
    try:
        first = request_refresh(api, "slow")
        assert holder.holding.wait(TIMEOUT_S), "no held file reached the parser"
        second = request_refresh(api, "slow")
        assert second["refresh_id"] == first["refresh_id"]
        assert second["status"] == "running" and second["total"] == 3
        assert len(refreshes(api, "slow")) == 1
        fresh = api.get("/buckets/slow", headers=auth(ADMIN_KEY)).json()["freshness"]
        assert fresh["pending"] == 3
        assert fresh["lag_s"] >= 3600 and fresh["over_sla"] is True
    finally:
        holder.release.set()
    run = wait_refresh(api, "slow", first["refresh_id"])
    assert run["status"] == "finished", run
    assert counts(run) == {"new": 3, "changed": 0, "deleted": 0, "unchanged": 0, "failed": 0}
    fresh = api.get("/buckets/slow", headers=auth(ADMIN_KEY)).json()["freshness"]
    assert fresh["pending"] == 0 and fresh["lag_s"] == 0 and fresh["over_sla"] is False
    third = request_refresh(api, "slow")
    assert third["refresh_id"] != first["refresh_id"]
    assert counts(wait_refresh(api, "slow", third["refresh_id"]))["unchanged"] == 3


# --- 8. what a refresh reads, and what it does when it cannot ------------------------

SECRET = "The vault code of the server room is 4417.\n"


@pytest.fixture(scope="module")
def outside(sources: Path) -> Path:
    """A folder outside every allowed root, with a file no bucket may index."""
    folder = sources.parent / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text(SECRET)
    return folder


def test_only_the_folders_own_visible_files_become_documents(
    api: TestClient, sources: Path, outside: Path
) -> None:
    folder = folder_bucket(api, sources, "visible", {"top.txt": MENU, ".env": SECRET})
    (folder / "guides").mkdir()
    (folder / "guides" / "setup.txt").write_text(PARKING)
    (folder / ".git").mkdir()
    (folder / ".git" / "config").write_text(SECRET)
    (folder / "link.txt").symlink_to(outside / "secret.txt")
    (folder / "linked").symlink_to(outside, target_is_directory=True)

    run = refresh(api, "visible")
    assert counts(run) == {"new": 2, "changed": 0, "deleted": 0, "unchanged": 0, "failed": 0}
    assert set(documents(api, "visible")) == {"top.txt", "guides/setup.txt"}
    vault = ask(api, ADMIN_KEY, "What is the vault code of the server room?", "visible")
    assert "4417" not in cited_text(vault) and "4417" not in vault["answer"]


def test_a_source_folder_swapped_for_a_link_is_not_followed(
    api: TestClient, sources: Path, outside: Path
) -> None:
    """The source was checked against the allowed roots when the bucket was created; a
    link put in its place later must not lead the refresh outside them."""
    folder = folder_bucket(api, sources, "swapped", {"a.txt": MENU})
    assert counts(refresh(api, "swapped"))["new"] == 1
    folder.rename(sources / "swapped-old")
    folder.symlink_to(outside, target_is_directory=True)

    run = wait_refresh(api, "swapped", request_refresh(api, "swapped")["refresh_id"])
    assert run["new"] == 0, run
    assert "secret.txt" not in documents(api, "swapped")
    vault = ask(api, ENG_KEY, "What is the vault code of the server room?", "swapped")
    assert "secret.txt" not in cited(vault) and "4417" not in vault["answer"]


def test_a_listing_that_fails_deletes_nothing(api: TestClient, sources: Path) -> None:
    folder = folder_bucket(api, sources, "mounted", {"locker.txt": LOCKER, "menu.txt": MENU})
    assert counts(refresh(api, "mounted"))["new"] == 2
    folder.rename(sources / "unmounted")  # an unmounted share, a folder moved away

    run = wait_refresh(api, "mounted", request_refresh(api, "mounted")["refresh_id"])
    assert run["status"] == "failed", run
    assert run["error"] == "bucket 'mounted': its source folder cannot be read"
    assert counts(run) == {"new": 0, "changed": 0, "deleted": 0, "unchanged": 0, "failed": 0}
    assert set(documents(api, "mounted")) == {"locker.txt", "menu.txt"}
    remote = ask(api, ADMIN_KEY, "Where is the spare projector remote?", "mounted")
    assert "locker.txt" in cited(remote)
    detail = api.get("/buckets/mounted", headers=auth(ADMIN_KEY)).json()
    assert detail["last_refresh"]["status"] == "failed"

    (sources / "unmounted").rename(folder)
    back = refresh(api, "mounted")
    assert counts(back) == {"new": 0, "changed": 0, "deleted": 0, "unchanged": 2, "failed": 0}


def test_a_file_that_cannot_be_ingested_is_reported_then_retried_when_fixed(
    api: TestClient, sources: Path
) -> None:
    folder = folder_bucket(api, sources, "broken", {"blank.txt": "", "menu.txt": MENU})
    run = wait_refresh(api, "broken", request_refresh(api, "broken")["refresh_id"])
    assert run["status"] == "finished", run
    assert counts(run) == {"new": 1, "changed": 0, "deleted": 0, "unchanged": 0, "failed": 1}
    assert [(f["key"], f["code"]) for f in run["failures"]] == [("blank.txt", "empty_document")]
    fresh = api.get("/buckets/broken", headers=auth(ADMIN_KEY)).json()["freshness"]
    assert fresh["failed"] == 1 and fresh["pending"] == 0

    rewrite(folder / "blank.txt", LOCKER)
    fixed = refresh(api, "broken")
    assert counts(fixed) == {"new": 0, "changed": 1, "deleted": 0, "unchanged": 1, "failed": 0}
    assert documents(api, "broken")["blank.txt"]["status"] == "indexed"
    assert api.get("/buckets/broken", headers=auth(ADMIN_KEY)).json()["freshness"]["failed"] == 0


def test_an_upload_still_being_ingested_is_not_a_change(
    api: TestClient, sources: Path, holder: HoldNamedFiles
) -> None:
    """A refresh that finds an object whose registered bytes are still being ingested
    counts it unchanged and leaves its ingestion alone (no second one is queued)."""
    folder_bucket(api, sources, "inflight", {"menu.txt": MENU})
    holder.holding.clear()
    holder.release.clear()
    try:
        doc_id = upload(api, "inflight", f"{HOLD_PREFIX}memo.txt", LOCKER.encode())["document_id"]
        assert holder.holding.wait(TIMEOUT_S), "the upload never reached the parser"
        run_id = request_refresh(api, "inflight")["refresh_id"]
        seen = "processing"
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            run = api.get(f"/buckets/inflight/refreshes/{run_id}", headers=auth(ADMIN_KEY)).json()
            seen = api.get(f"/documents/{doc_id}", headers=auth(ADMIN_KEY)).json()["status"]
            if run["status"] == "finished" or seen == "queued":
                break
            time.sleep(0.2)
    finally:
        holder.release.set()
    # Wait for everything to settle first, so a failure here leaves no refresh behind.
    run = wait_refresh(api, "inflight", run_id)
    assert wait_done(api, doc_id)["status"] == "indexed"
    # "queued": the refresh registered the upload again and queued a second ingestion.
    assert (seen, counts(run)) == (
        "processing",
        {"new": 1, "changed": 0, "deleted": 0, "unchanged": 1, "failed": 0},
    ), (seen, counts(run))
