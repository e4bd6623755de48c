"""The `ragline` command as a user runs it: real processes, a real server, real files."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e

RAGLINE = [sys.executable, "-m", "ragline"]
KEYS = {"cli-admin": ["admin", "public"], "cli-reader": ["public"]}


def _env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        RAGLINE_DATA_DIR=str(data_dir),
        RAGLINE_API_KEYS=json.dumps(KEYS),
        HF_HUB_OFFLINE="1",
        DO_NOT_TRACK="1",
    )
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [*RAGLINE, "serve", "--port", str(self.port)],
            env=_env(self.data_dir),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert self.proc.poll() is None, "server exited during start-up"
            time.sleep(0.3)
        raise AssertionError("server did not become ready")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path / "data")
    yield srv
    srv.kill()


def _run(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RAGLINE, *args],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _wait_indexed(url: str, doc_id: str, timeout_s: float = 120) -> dict[str, object]:
    headers = {"Authorization": "Bearer cli-admin"}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body: dict[str, object] = httpx.get(
            f"{url}/documents/{doc_id}", headers=headers, timeout=10
        ).json()
        if body["status"] in ("indexed", "failed"):
            return body
        time.sleep(0.3)
    raise AssertionError("document not processed in time")


def test_ingest_folder_then_serve_and_ask(tmp_path: Path, server: Server) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "wifi.md").write_text(
        "# Office Wi-Fi\n\nThe guest Wi-Fi password is printed on the badge of every visitor.\n"
    )
    (docs / "broken.txt").write_bytes(b"")
    result = _run(["ingest", str(docs), "--bucket", "office", "--roles", "public"], server.data_dir)
    assert result.returncode == 0, result.stderr
    assert "Ingestion summary" in result.stdout
    assert "broken.txt" in result.stdout and "empty_document" in result.stdout
    total = next(line for line in result.stdout.splitlines() if "total" in line)
    cells = [c.strip() for c in total.split("│") if c.strip()]
    # format, files, indexed, unchanged, failed
    assert cells[:5] == ["total", "2", "1", "0", "1"]

    again = _run(["ingest", str(docs), "--bucket", "office"], server.data_dir)
    assert again.returncode == 0, again.stderr
    assert "unchanged" in again.stdout

    server.start()
    held = _run(["ingest", str(docs), "--bucket", "office"], server.data_dir)
    assert held.returncode == 1
    assert "ragline serve" in held.stderr and "--server" in held.stderr

    more = tmp_path / "more"
    more.mkdir()
    (more / "printer.md").write_text("# Printers\n\nThe printer on floor 3 is called Gutenberg.\n")
    (more / "blank.txt").write_text("   ")
    via = ["ingest", str(more), "--bucket", "floors", "--roles", "public", "--server", server.url]
    through = _run([*via, "--key", "cli-admin"], server.data_dir)
    assert through.returncode == 0, through.stderr
    total = next(line for line in through.stdout.splitlines() if "total" in line)
    assert [c.strip() for c in total.split("│") if c.strip()][:5] == ["total", "2", "1", "0", "1"]
    assert "blank.txt" in through.stdout and "empty_document" in through.stdout
    repeat = _run([*via, "--key", "cli-admin"], server.data_dir)
    total = next(line for line in repeat.stdout.splitlines() if "total" in line)
    assert [c.strip() for c in total.split("│") if c.strip()][:5] == ["total", "2", "0", "1", "1"]
    refused = _run([*via, "--key", "cli-reader"], server.data_dir)
    assert refused.returncode == 1 and "admin" in refused.stderr

    asked = _run(
        ["ask", "What is the guest Wi-Fi password?", "--key", "cli-reader", "--server", server.url],
        server.data_dir,
    )
    assert asked.returncode == 0, asked.stderr
    assert "printed on the badge" in asked.stdout
    assert "[1] Office Wi-Fi" in asked.stdout
    printer = _run(
        [
            "ask",
            "What is the printer on floor 3 called?",
            "--key",
            "cli-reader",
            "--server",
            server.url,
        ],
        server.data_dir,
    )
    assert "Gutenberg" in printer.stdout

    denied = _run(["ask", "wifi", "--key", "wrong", "--server", server.url], server.data_dir)
    assert denied.returncode == 1
    assert "invalid API key" in denied.stderr


def test_accepted_upload_survives_a_hard_kill(tmp_path: Path, server: Server) -> None:
    """A document accepted with 202 and still pending when the process dies ends indexed.

    A long document leads the queue so the notes behind it are still waiting when the
    process is killed; the registry, read right after the kill, proves it. Should every
    document have finished anyway, another round uploads more before the next kill.
    """
    headers = {"Authorization": "Bearer cli-admin"}
    long_text = "\n\n".join(
        f"Log entry {n}: the lighthouse on rock {n} was inspected, its lamp number {n * 7} "
        f"cleaned and its logbook page {n} signed by keeper {n % 13}."
        for n in range(1500)
    ).encode()
    accepted: list[str] = []
    pending_at_kill: set[str] = set()
    for round_no in range(3):
        server.start()
        if round_no == 0:
            created = httpx.post(
                f"{server.url}/buckets", json={"name": "b", "roles": ["public"]}, headers=headers
            )
            assert created.status_code == 201, created.text
        uploads = [(f"log{round_no}.txt", long_text + f"\n\nRound {round_no}.".encode())]
        uploads += [
            (
                f"n{round_no}-{i}.txt",
                f"Note {i}: the lighthouse keeper is Ana {round_no}{i}.".encode(),
            )
            for i in range(6)
        ]
        for name, content in uploads:
            resp = httpx.post(
                f"{server.url}/buckets/b/documents",
                files={"file": (name, content)},
                headers=headers,
                timeout=60,
            )
            assert resp.status_code == 202, resp.text
            accepted.append(resp.json()["document_id"])
        server.kill()  # mid-ingestion, no graceful shutdown
        statuses = _registry_statuses(server.data_dir)
        assert set(accepted) <= set(statuses), "an accepted document is not in the registry"
        pending_at_kill = {d for d in accepted if statuses[d] in ("queued", "processing")}
        if pending_at_kill:
            break
    assert pending_at_kill, "every round finished before the kill; nothing proved"

    server.start()
    for doc_id in accepted:
        assert _wait_indexed(server.url, doc_id, timeout_s=300)["status"] == "indexed"
    server.stop()
    assert set(_registry_statuses(server.data_dir).values()) == {"indexed"}


def _registry_statuses(data_dir: Path) -> dict[str, str]:
    """Document statuses as committed on disk, read-only, while no server holds it."""
    uri = f"{(data_dir / 'registry.db').resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        return dict(db.execute("SELECT id, status FROM documents").fetchall())


def test_ingest_with_an_unknown_doc_type_is_a_one_line_error(tmp_path: Path) -> None:
    folder = tmp_path / "poems"
    folder.mkdir()
    (folder / "ode.txt").write_text("An ode to the quarterly report.")
    done = subprocess.run(
        [
            *RAGLINE,
            "ingest",
            str(folder),
            "--bucket",
            "poems",
            "--roles",
            "public",
            "--doc-type",
            "poetry",
        ],
        env=_env(tmp_path / "data"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()  # one line, nothing else
    assert line.startswith("error: unknown document type 'poetry'; valid types: ")
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "data" / "registry.db").exists()
