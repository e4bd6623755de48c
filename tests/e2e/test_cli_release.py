"""``ragline release`` as an operator types it, on an embedded data directory.

The command group is mounted under ``ragline`` as the shell mounts it and runs in
this process through typer's runner, its settings read from the environment. No
server runs: the gates read the counters written to the database (here by the
router of this test, as an API process would write them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy import create_engine
from typer.testing import CliRunner, Result

from governance.audit_log import AuditLog
from governance.audit_port import AuditFilter
from kernel.settings import get_settings
from prompts.book import PromptBook
from ragline.release_cli import release_app
from releases.book import ReleaseBook
from releases.router import ReleaseRouter
from releases.tally import Tally
from retrieval.access import Principal

pytestmark = pytest.mark.e2e


@pytest.fixture
def ragline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.Typer]:
    monkeypatch.setenv("RAGLINE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.setenv("RAGLINE_RELEASES__MIN_REQUESTS", "5")
    monkeypatch.delenv("RAGLINE_DATABASE_URL", raising=False)
    monkeypatch.delenv("RAGLINE_MODE", raising=False)
    monkeypatch.delenv("RAGLINE_MODELS_FILE", raising=False)
    get_settings.cache_clear()
    shell = typer.Typer()
    shell.add_typer(release_app, name="release")
    yield shell
    get_settings.cache_clear()


def run(shell: typer.Typer, *args: str) -> Result:
    get_settings.cache_clear()  # each command reads the environment, as a new process would
    return CliRunner().invoke(shell, ["release", *args])


def _answers(data_dir: Path, n: int = 300) -> None:
    """``n`` callers' answers counted and written, as the API's router does."""
    engine = create_engine(f"sqlite:///{data_dir / 'registry.db'}")
    try:
        book = ReleaseBook(engine)
        router = ReleaseRouter(book, get_settings().releases, PromptBook(engine), Tally())
        for i in range(n):
            assignment = router.assign(Principal(key_id=f"key-{i}", roles=frozenset()))
            assert assignment is not None
            router.count(assignment, error=False, grounding=0.9, latency_s=0.05)
        router.flush()
    finally:
        engine.dispose()


def test_create_start_status_promote_and_rollback(ragline: typer.Typer, tmp_path: Path) -> None:
    created = run(ragline, "create", "--prompt-version", "1", "--route", "extractive",
                  "--set", "top_k=8", "--set", "fusion=rrf", "--note", "more context")  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "created rel-1 (draft): answer v1 on extractive" in created.output
    assert '"top_k": 8' in created.output

    refused = run(ragline, "promote", "rel-1")
    assert refused.exit_code == 1 and "is draft" in refused.output
    started = run(ragline, "start", "1")
    assert started.exit_code == 0 and "rel-1 started at 5% (staged)" in started.output

    too_few = run(ragline, "promote", "rel-1")
    assert too_few.exit_code == 1 and "fewer than the 5" in too_few.output
    _answers(tmp_path / "data")
    status = run(ragline, "status", "--json")
    assert status.exit_code == 0, status.output
    shown = json.loads(status.output)
    assert (shown["id"], shown["status"], shown["stage_percent"]) == ("rel-1", "staged", 5)
    assert shown["against"] == "baseline"
    assert shown["candidate"]["requests"] + shown["current"]["requests"] == 300
    assert all(g["passed"] for g in shown["gates"])
    table = run(ragline, "status", "rel-1")
    assert table.exit_code == 0 and "degraded_rate" in table.output

    promoted = run(ragline, "promote", "rel-1")
    assert promoted.exit_code == 0 and "rel-1 promoted to 25%: staged" in promoted.output
    forced = run(ragline, "promote", "rel-1", "--force")
    assert forced.exit_code == 0 and "promoted to 100% (forced): current" in forced.output

    second = run(ragline, "create", "--prompt-version", "1", "--route", "extractive", "--start")
    assert second.exit_code == 0 and "rel-2 started at 5%" in second.output
    rolled = run(ragline, "rollback", "rel-2", "--reason", "wrong settings")
    assert rolled.exit_code == 0 and "rel-2 rolled back: wrong settings" in rolled.output
    listed = run(ragline, "list")
    assert listed.exit_code == 0
    assert "rolled_back" in listed.output and "current" in listed.output

    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'registry.db'}")
    try:
        events = AuditLog(engine).query(AuditFilter(kind="event"), limit=100).entries
    finally:
        engine.dispose()
    decisions = [(e.action, e.target) for e in events if e.action.startswith("release.")]
    assert decisions == [
        ("release.create", "rel-1"), ("release.start", "rel-1"), ("release.promote", "rel-1"),
        ("release.promote", "rel-1"), ("release.create", "rel-2"), ("release.start", "rel-2"),
        ("release.rollback", "rel-2"),
    ]  # fmt: skip
    assert all(
        e.identity and e.identity.startswith("cli")
        for e in events
        if e.action.startswith("release.")
    )


def test_a_bundle_naming_an_unknown_route_or_prompt_is_refused(ragline: typer.Typer) -> None:
    unknown_route = run(ragline, "create", "--prompt-version", "1", "--route", "primary")
    assert unknown_route.exit_code == 1 and "unknown route 'primary'" in unknown_route.output
    unknown_prompt = run(ragline, "create", "--prompt-version", "4", "--route", "extractive")
    assert unknown_prompt.exit_code == 1 and "no version 4" in unknown_prompt.output
    bad_setting = run(ragline, "create", "--prompt-version", "1", "--route", "extractive",
                      "--set", "top_k")  # fmt: skip
    assert bad_setting.exit_code == 1 and "NAME=VALUE" in bad_setting.output
    nothing = run(ragline, "status")
    assert nothing.exit_code == 1 and "no release is staged or current" in nothing.output
