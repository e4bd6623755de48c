"""``ragline prompts`` as an operator types it, on an embedded data directory.

The command group is mounted under ``ragline`` here as the shell mounts it
(``app.add_typer(prompts_app, name="prompts")``), and runs in this process through
typer's runner with its settings read from the environment, as on a real shell.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from kernel.settings import get_settings
from ragline.prompts_cli import prompts_app

pytestmark = pytest.mark.e2e

SYSTEM_V2 = "Answer only from the sources below, citing them as [n]. Today is {{ today }}.\n"
USER_V2 = (
    "{% for s in sources %}[{{ s.n }}] {{ s.title or s.source }}\n{{ s.text }}\n{% endfor %}"
    "Question: {{ question }}\n"
)


@pytest.fixture
def ragline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.Typer]:
    monkeypatch.setenv("RAGLINE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.delenv("RAGLINE_DATABASE_URL", raising=False)
    monkeypatch.delenv("RAGLINE_MODE", raising=False)
    get_settings.cache_clear()
    shell = typer.Typer()
    shell.add_typer(prompts_app, name="prompts")
    yield shell
    get_settings.cache_clear()


def run(shell: typer.Typer, *args: str) -> Result:
    get_settings.cache_clear()  # each command reads the environment, as a new process would
    return CliRunner().invoke(shell, ["prompts", *args])


def rows(output: str) -> list[list[str]]:
    """The cells of every line of a Rich table in ``output``."""
    return [
        [cell.strip() for cell in line.strip().strip("│┃").split("│" if "│" in line else "┃")]
        for line in output.splitlines()
        if line.strip().startswith(("│", "┃"))
    ]


def test_create_label_show_and_roll_back(ragline: typer.Typer, tmp_path: Path) -> None:
    system_file, user_file = tmp_path / "system.j2", tmp_path / "user.j2"
    system_file.write_text(SYSTEM_V2)
    user_file.write_text(USER_V2)

    listed = run(ragline, "list")
    assert listed.exit_code == 0, listed.output
    assert ["answer", "v1", "production=v1", "-"] in rows(listed.stdout)

    created = run(
        ragline,
        "create", "answer",
        "--system-file", str(system_file),
        "--user-file", str(user_file),
        "--note", "shorter rules",
        "--label", "staging",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "Created answer v2, labelled staging." in created.stdout

    moved = run(ragline, "label", "answer", "production", "2")
    assert moved.exit_code == 0, moved.output
    assert "production of answer moved from v1 to v2" in moved.stdout

    shown = run(ragline, "show", "answer")
    assert shown.exit_code == 0, shown.output
    table = rows(shown.stdout)
    assert [table[2][0], *table[2][3:]] == ["v2", "production, staging", "shorter rules"]
    assert table[1][0] == "v1" and table[1][2] == "ragline"
    assert "answer v2: system" in shown.stdout
    assert SYSTEM_V2 in shown.stdout  # printed as written: [n] and {{ }} are not markup
    assert "[{{ s.n }}] {{ s.title or s.source }}" in shown.stdout

    old = run(ragline, "show", "answer", "--version", "1")
    assert "I could not find this in the documents you can access." in old.stdout

    back = run(ragline, "rollback", "answer")
    assert back.exit_code == 0, back.output
    assert "production of answer moved from v2 to v1" in back.stdout
    assert ["answer", "v2", "production=v1, staging=v2", "-"] in rows(run(ragline, "list").stdout)

    again = run(ragline, "rollback", "answer")
    assert again.exit_code == 1
    assert "error: nothing to roll back to" in again.stderr


def test_create_from_yaml_and_split_traffic(ragline: typer.Typer, tmp_path: Path) -> None:
    source = tmp_path / "v2.yaml"
    source.write_text(
        "system: |\n  Cite sources as [n].\nuser: |\n"
        "  {% for s in sources %}[{{ s.n }}] {{ s.text }}{% endfor %} {{ question }}\n"
        "note: from yaml\n"
    )
    created = run(ragline, "create", "answer", "--from-yaml", str(source), "--label", "canary")
    assert created.exit_code == 0, created.output

    split = run(ragline, "split", "answer", "production=90", "canary=10")
    assert split.exit_code == 0, split.output
    assert "Split of answer: canary 10% / production 90%." in split.stdout
    listed = rows(run(ragline, "list").stdout)
    assert ["answer", "v2", "canary=v2, production=v1", "canary 10% / production 90%"] in listed

    off = run(ragline, "split", "answer", "--off")
    assert off.exit_code == 0, off.output
    assert "Split of answer removed" in off.stdout
    assert ["answer", "v2", "canary=v2, production=v1", "-"] in rows(run(ragline, "list").stdout)


def test_mistakes_are_one_line_errors_with_status_1(ragline: typer.Typer, tmp_path: Path) -> None:
    bad = tmp_path / "bad.j2"
    bad.write_text("{{ question }} {{ sources }} {{ customer }}")
    good = tmp_path / "good.j2"
    good.write_text("Be brief.")

    for args, message in [
        (("create", "answer", "--system-file", str(good), "--user-file", str(bad)),
         "error: the user template uses something undefined: 'customer' is undefined"),
        (("create", "answer", "--system-file", str(good), "--user-file", str(good)),
         "would not see the question"),
        (("create", "answer", "--system-file", str(good)), "--user-file"),
        (("label", "answer", "production", "9"), "error: prompt 'answer' has no version 9"),
        (("show", "nope"), "error: prompt 'nope' not found"),
        (("split", "answer", "production=90", "staging=10"), "has no label 'staging'"),
        (("split", "answer", "production=ninety"), "is not LABEL=PERCENT"),
        (("split", "answer"), "give LABEL=PERCENT pairs, or --off"),
    ]:  # fmt: skip
        result = run(ragline, *args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.output
    assert ["answer", "v1", "production=v1", "-"] in rows(run(ragline, "list").stdout)
