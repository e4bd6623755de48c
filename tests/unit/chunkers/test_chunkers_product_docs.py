"""The product-docs strategy: heading paths, whole code blocks, tables by the table rules."""

from __future__ import annotations

import pytest
from chunk_checks import assert_within_limit
from chunker_doubles import CharacterTokenCounterDouble, WhitespaceTokenCounterDouble
from chunker_samples import gateway_manual, generated_module

from chunkers.base import TokenCounter
from chunkers.product_docs import ProductDocsChunker
from kernel.documents import ChunkDraft, Element, ParsedDocument

pytestmark = pytest.mark.unit

ROOT = "Acme Sensor Gateway"


def product_chunks(doc: ParsedDocument, tokens: TokenCounter) -> list[ChunkDraft]:
    return ProductDocsChunker().chunk(doc, tokens)


def test_each_chunk_carries_its_heading_path(minilm_tokens: TokenCounter) -> None:
    drafts = product_chunks(gateway_manual(), minilm_tokens)
    assert [d.section for d in drafts] == [
        ROOT,
        f"{ROOT} > Installation > Requirements",
        f"{ROOT} > Installation > Installing the package",
        f"{ROOT} > Configuration",
        f"{ROOT} > Configuration",
        f"{ROOT} > Troubleshooting > The gateway does not connect",
        f"{ROOT} > Troubleshooting > Readings arrive late",
        f"{ROOT} > Release notes",
    ]
    assert all(not d.text.startswith(("Installation", "Configuration")) for d in drafts)


def test_sections_are_never_merged_even_when_they_would_fit() -> None:
    drafts = product_chunks(gateway_manual(), WhitespaceTokenCounterDouble(2000))
    assert len(drafts) == 8
    requirements = drafts[1]
    assert requirements.text == (
        "A Linux host with systemd and at least 512 MB of free memory.\n"
        "Outbound access to mqtt.acme.example on port 8883.\n"
        "A gateway token issued from the Acme console."
    )


def test_code_blocks_stay_whole_beside_their_explanation(minilm_tokens: TokenCounter) -> None:
    doc = gateway_manual()
    drafts = product_chunks(doc, minilm_tokens)
    for code in (e.text for e in doc.elements if e.kind == "code"):
        holders = [d for d in drafts if code in d.text]
        assert len(holders) == 1, code[:40]
    install = drafts[2]
    assert install.text.startswith("Download the package")
    assert install.text.endswith("sudo systemctl enable --now acme-gateway")


def test_a_table_in_a_manual_is_chunked_with_its_header(minilm_tokens: TokenCounter) -> None:
    drafts = product_chunks(gateway_manual(), minilm_tokens)
    table = drafts[4]
    assert table.metadata == {"content": "table", "rows": "1-5"}
    assert table.text.splitlines() == [
        "Setting | Default | Meaning",
        "sample_interval_s | 15 | Seconds between two readings of each sensor",
        "mqtt.port | 8883 | Broker port; 1883 only without TLS",
        "mqtt.tls | true | Encrypt the connection to the broker",
        "buffer.max_mb | 256 | Disk space kept for readings while offline",
        "log_level | info | One of debug, info, warning, error",
    ]


def test_a_long_table_in_a_manual_repeats_its_header() -> None:
    rows = (("Code", "Meaning"), *((f"E{i:03d}", f"sensor {i} timed out") for i in range(60)))
    doc = ParsedDocument(
        "html",
        (Element("title", "Error codes", level=2), Element("table", "", rows=rows)),
    )
    drafts = product_chunks(doc, WhitespaceTokenCounterDouble(40))
    assert len(drafts) > 1
    assert all(d.text.splitlines()[0] == "Code | Meaning" for d in drafts)
    assert all(d.section == "Error codes" for d in drafts)
    body = [line for d in drafts for line in d.text.splitlines()[1:]]
    assert body == [f"E{i:03d} | sensor {i} timed out" for i in range(60)]


def test_a_heading_with_nothing_under_it_becomes_its_own_chunk() -> None:
    drafts = product_chunks(gateway_manual(), WhitespaceTokenCounterDouble(254))
    assert (drafts[-1].text, drafts[-1].section) == ("Release notes", f"{ROOT} > Release notes")


def test_short_paragraphs_of_one_section_are_merged_up_to_the_target() -> None:
    paragraphs = [f"Step {i} of the calibration takes about two minutes." for i in range(9)]
    doc = ParsedDocument(
        "md",
        (Element("title", "Calibration", level=2), *(Element("text", p) for p in paragraphs)),
    )
    drafts = product_chunks(doc, WhitespaceTokenCounterDouble(40))  # target 28, 9 words each
    assert [d.text.count("Step") for d in drafts] == [3, 3, 3]
    assert drafts[0].text == "\n\n".join(paragraphs[:3])


def test_a_code_block_over_the_limit_is_cut_between_functions_then_lines(
    minilm_tokens: TokenCounter,
) -> None:
    doc = generated_module(10_000)
    drafts = product_chunks(doc, minilm_tokens)
    assert_within_limit(drafts, minilm_tokens)
    parts = [d.metadata["code_part"] for d in drafts]
    assert parts == [f"{i}/{len(drafts)}" for i in range(1, len(drafts) + 1)]
    assert {d.section for d in drafts} == {"Generated transforms"}
    original = [line for line in doc.elements[1].text.splitlines() if line.strip()]
    assert [line for d in drafts for line in d.text.splitlines() if line.strip()] == original
    # every function starts a chunk: cuts fall between blank-line separated blocks first
    assert sum(d.text.startswith("def step_") for d in drafts) == 400
    # a part cut inside a function keeps the indentation of its first line
    assert all(d.text.startswith(("def step_", "    frame[")) for d in drafts)


def test_a_line_with_no_spaces_is_cut_by_characters() -> None:
    blob = "".join(f"{i:04x}" for i in range(1500))  # 6,000 characters, no whitespace
    doc = ParsedDocument("md", (Element("code", f"KEY = '{blob}'"),))
    tokens = CharacterTokenCounterDouble(120)
    drafts = product_chunks(doc, tokens)
    assert_within_limit(drafts, tokens)
    assert drafts[0].text.startswith("KEY = '0000")
    assert "".join(d.text for d in drafts).replace(" ", "") == f"KEY='{blob}'"
