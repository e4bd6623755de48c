"""`ragline ingest` under a scheduler: stdout is a pipe, so the run must leave a log.

One line per document as it finishes (status, name, chunks or error code), then the
summary; documents an earlier run left ``processing`` (a run killed mid-document)
are picked up by the next run and said so, at the start and in the summary.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from email.message import EmailMessage
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

RAGLINE = [sys.executable, "-m", "ragline"]


def _ingest(folder: Path, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(
        RAGLINE_DATA_DIR=str(data_dir),
        RAGLINE_API_KEYS=json.dumps({"cli-admin": ["admin", "public"]}),
        HF_HUB_OFFLINE="1",
        DO_NOT_TRACK="1",
    )
    env.pop("FORCE_COLOR", None)
    env.pop("TTY_COMPATIBLE", None)
    return subprocess.run(  # stdout is a pipe, as under cron, systemd or `timeout`
        [*RAGLINE, "ingest", str(folder), "--bucket", "office", "--roles", "public"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _lines_before_summary(stdout: str) -> list[str]:
    lines = stdout.splitlines()
    summary = next(i for i, line in enumerate(lines) if "Ingestion summary" in line)
    return [line for line in lines[:summary] if line.strip()]


def _name(line: str) -> str:
    """The document a log line is about: "indexed a.md (md, ...)" is about a.md."""
    rest = line.split(" ", 1)[1]
    for end in (" [", " (", ": "):
        rest = rest.split(end, 1)[0]
    return rest


def _email_with_attachment() -> bytes:
    message = EmailMessage()
    message["From"] = "ann@example.com"
    message["To"] = "bob@example.com"
    message["Subject"] = "Opening hours"
    message.set_content("The front desk opens at eight; the table of hours is attached.\n")
    message.add_attachment(
        b"day,opens,closes\nMonday,08:00,18:00\nSaturday,10:00,14:00\n",
        maintype="text",
        subtype="csv",
        filename="hours.csv",
    )
    return message.as_bytes()


def _set_processing(data_dir: Path, key: str) -> None:
    """What a run killed mid-document leaves: 'processing', never indexed."""
    with closing(sqlite3.connect(data_dir / "registry.db")) as db:
        changed = db.execute(
            "UPDATE documents SET status = 'processing', indexed_fingerprint = NULL "
            "WHERE bucket = 'office' AND key = ?",
            (key,),
        ).rowcount
        db.commit()
    assert changed == 1, key


def _statuses(data_dir: Path) -> dict[str, str]:
    uri = f"{(data_dir / 'registry.db').resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        return dict(db.execute("SELECT key, status FROM documents").fetchall())


def test_a_piped_ingest_logs_each_document_and_picks_up_what_a_killed_run_left(
    tmp_path: Path,
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "wifi.md").write_text(
        "# Office Wi-Fi\n\nThe guest Wi-Fi password is printed on every visitor badge.\n"
    )
    (docs / "broken.txt").write_bytes(b"")
    (docs / "hours.eml").write_bytes(_email_with_attachment())
    data_dir = tmp_path / "data"

    first = _ingest(docs, data_dir)
    assert first.returncode == 0, first.stderr
    logged = _lines_before_summary(first.stdout)
    by_name = {_name(line): line for line in logged if " > " not in line}
    assert by_name["broken.txt"] == "failed broken.txt: empty_document: file is empty"
    assert by_name["wifi.md"].startswith("indexed wifi.md (md, 1 chunk, ")
    assert by_name["hours.eml"].startswith("indexed hours.eml (eml, ")
    (attachment,) = [line for line in logged if " > " in line]
    assert attachment.startswith("indexed hours.eml > hours.csv (csv, ")
    assert len(logged) == 4  # one line per document, attachment included, nothing else
    # an email's attachment is logged after the email that carried it
    assert logged.index(attachment) > logged.index(by_name["hours.eml"])
    assert "left processing" not in first.stdout

    # A run killed mid-document: wifi.md (in the folder) and the attachment (which
    # the folder walk never offers) were left 'processing'.
    _set_processing(data_dir, "wifi.md")
    attachment_key = next(key for key in _statuses(data_dir) if key.endswith("#hours.csv"))
    _set_processing(data_dir, attachment_key)

    second = _ingest(docs, data_dir)
    assert second.returncode == 0, second.stderr
    logged = _lines_before_summary(second.stdout)
    assert logged[0] == (
        "2 documents were left processing in bucket 'office' by an earlier run "
        "(stopped mid-document): ingesting them again"
    )
    by_name = {_name(line): line for line in logged[1:] if " > " not in line}
    assert by_name["wifi.md"].startswith(
        "indexed wifi.md [left processing by an earlier run] (md, 1 chunk, "
    )
    assert by_name["hours.eml"].startswith("unchanged hours.eml (eml, ")
    assert by_name["broken.txt"] == "failed broken.txt: empty_document: file is empty"
    (attachment,) = [line for line in logged if " > " in line]
    assert attachment.startswith(
        "indexed hours.eml > hours.csv [left processing by an earlier run] (csv, "
    )
    assert len(logged) == 5
    summary = second.stdout.splitlines()[-1]
    assert summary == (
        "Picked up 2 documents left processing by an earlier run: wifi.md, hours.eml > hours.csv"
    )
    statuses = _statuses(data_dir)
    assert statuses["wifi.md"] == statuses[attachment_key] == "indexed"
