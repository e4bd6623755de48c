"""The /ask benchmark on a tiny setup: it builds, serves, asks, checks the role filter, reports.

No timing assertions: this only proves the benchmark measures what it says (every request
answered, rows for each client count, the other bucket filtered out, JSON written).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from benchmarks.ask_bench import DATA, SENTINEL_NAME, main

pytestmark = pytest.mark.e2e

needs_corpus = pytest.mark.skipif(
    not (DATA / "corpus.jsonl").exists(), reason=f"the msmarco-5k corpus is not at {DATA}"
)


@needs_corpus
def test_bench_on_200_chunks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 100 real passages for 200 chunks: the second half are the rotated variants.
    corpus = tmp_path / "corpus.jsonl"
    with (DATA / "corpus.jsonl").open() as fh:
        corpus.write_text("".join(itertools.islice(fh, 100)))
    out = tmp_path / "bench.json"

    result = main(
        [
            "--chunks", "200",
            "--clients", "1,2",
            "--requests", "20",
            "--warmup", "2",
            "--corpus", str(corpus),
            "--queries", str(DATA / "queries.jsonl"),
            "--workdir", str(tmp_path / "work"),
            "--json", str(out),
        ]
    )  # fmt: skip

    assert result["build"]["chunks"] == 201  # and the finance sentinel
    assert result["build"]["failed"] == 0
    assert [lv["clients"] for lv in result["levels"]] == [1, 2]
    for level in result["levels"]:
        assert level["requests"] == 20
        assert level["ok"] == 20, level["errors"]
        assert level["with_citations"] > 0
        assert set(level["cited_buckets"]) == {"public"}, level["cited_buckets"]
        assert level["stages_ms"]["retrieve"]["count"] == 20
        assert level["peak_rss_mb"] > 0
    checked = result["role_check"]
    assert checked["public"]["status"] == 200
    assert not checked["public"]["cites_finance"], checked["public"]["sources"]
    assert SENTINEL_NAME in checked["finance"]["sources"]
    assert checked["filter_holds"]
    assert {g["goal"] for g in result["goals"]} and result["server"]["vm_hwm_mb"] > 0

    written = json.loads(out.read_text())
    assert [lv["clients"] for lv in written["levels"]] == [1, 2]
    table = capsys.readouterr().out
    assert "clients" in table and "req/s" in table
    assert ("PASS" in table) or ("FAIL" in table)


@needs_corpus
def test_a_second_run_reuses_the_data_directory(tmp_path: Path) -> None:
    """The data directory is keyed by corpus and size and kept: the next run builds nothing."""
    corpus = tmp_path / "corpus.jsonl"
    with (DATA / "corpus.jsonl").open() as fh:
        corpus.write_text("".join(itertools.islice(fh, 40)))
    work = tmp_path / "work"
    main(["--chunks", "40", "--clients", "1", "--requests", "4", "--warmup", "0",
          "--corpus", str(corpus), "--workdir", str(work)])  # fmt: skip
    (home,) = work.iterdir()
    assert (home / "built.json").exists()
    again = main(["--chunks", "40", "--clients", "1", "--requests", "4", "--warmup", "0",
                  "--corpus", str(corpus), "--workdir", str(work)])  # fmt: skip
    assert again["build"]["reused"] is True
    assert again["levels"][0]["ok"] == 4
