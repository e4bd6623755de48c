"""The ingestion benchmark end to end on a tiny corpus: three arms, counts that agree.

The real pipeline, LlamaIndex with the same model into a local Qdrant, and the bare
encoder all run; only what the table and the JSON say is checked, never a time.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from benchmarks.ingest_bench import main

pytestmark = pytest.mark.service

ROW = re.compile(r"^(ragline|llamaindex|embedding|encoder)\s+(\d+)\s+(\d+)\s")
SENTENCES = [
    "Full-time employees receive 25 vacation days per calendar year.",
    "The cafeteria opens at 08:00 and serves breakfast until 10:30 on weekdays.",
    "Expense reports are due within thirty days of the purchase.",
    "The data centre in Frankfurt hosts every customer database of the EU region.",
    "Badges are renewed every two years at the reception desk on the ground floor.",
    "Parental leave lasts sixteen weeks and may be split into two periods.",
]


def _write_corpus(folder: Path) -> None:
    """Twelve files: short notes, and longer Markdown whose sections chunk apart."""
    for i in range(12):
        if i % 3 == 0:
            sections = [
                f"## Part {j}\n\n" + " ".join(SENTENCES[(i + j + k) % 6] for k in range(40))
                for j in range(3)
            ]
            (folder / f"guide-{i:02d}.md").write_text(f"# Guide {i}\n\n" + "\n\n".join(sections))
        else:
            (folder / f"note-{i:02d}.txt").write_text(f"Note {i}\n\n{SENTENCES[i % 6]}\n")


def test_three_arms_ingest_the_same_documents_and_agree_on_chunks(
    tmp_path: Path, embedder: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _write_corpus(corpus)
    out = tmp_path / "numbers.json"

    code = main(
        ["--corpus", "dir", "--dir", str(corpus), "--slices", "2", "--json", str(out)],
        dense=embedder,
    )

    assert code == 0
    rows = {
        m.group(1): (int(m.group(2)), int(m.group(3)))
        for line in capsys.readouterr().out.splitlines()
        if (m := ROW.match(line))
    }
    assert set(rows) == {"ragline", "llamaindex", "embedding", "encoder"}
    assert {arm: documents for arm, (documents, _) in rows.items()} == {
        "ragline": 12,
        "llamaindex": 12,
        "embedding": 12,
        "encoder": 12,
    }
    assert rows["ragline"][1] == rows["embedding"][1] == rows["encoder"][1]
    assert rows["ragline"][1] > 12  # the guides are cut into several chunks each
    numbers = json.loads(out.read_text())
    assert numbers["arms"]["ragline"]["chunks"] == rows["ragline"][1]
    assert numbers["arms"]["ragline"]["failed"] == 0
    assert numbers["ragline_encoder"] == type(embedder).__name__
    assert numbers["corpus"] == {"name": "dir", "files": 12, "slices": 2}
    assert [len(s["order"]) for s in numbers["slices"]] == [3, 3]
    assert [g["goal"] for g in numbers["goals"]] == [
        "ragline chunks/s >= 1.5x llamaindex",
        "ragline wall <= 1.15x pure embedding (same encoder)",
    ]
