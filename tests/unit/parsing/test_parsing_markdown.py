"""Fenced code blocks cut out of Markdown whole."""

from __future__ import annotations

import pytest

from ingest.parsing.markdown import CodeBlock, Prose, split_fenced_code

pytestmark = pytest.mark.unit


def test_a_fence_with_blank_lines_and_hashes_stays_one_block() -> None:
    text = (
        "# Install\n\nRun this:\n\n"
        "```python\n# not a heading\nimport os\n\n\ndef f():\n    return 1\n```\n\nDone.\n"
    )
    assert split_fenced_code(text) == [
        Prose("# Install\n\nRun this:\n"),
        CodeBlock("# not a heading\nimport os\n\n\ndef f():\n    return 1", "python"),
        Prose("\nDone."),
    ]


def test_tilde_fences_and_fences_without_language() -> None:
    parts = split_fenced_code("~~~\nplain code\n~~~\n")
    assert parts == [CodeBlock("plain code", None)]


def test_a_fence_inside_a_list_item_is_dedented() -> None:
    text = "1. first step\n\n    ```bash\n    echo one\n      echo two\n    ```\n2. second\n"
    assert split_fenced_code(text) == [
        Prose("1. first step\n"),
        CodeBlock("echo one\n  echo two", "bash"),
        Prose("2. second"),
    ]


def test_a_longer_fence_contains_a_shorter_one() -> None:
    text = "````markdown\n```python\nx = 1\n```\n````\n"
    assert split_fenced_code(text) == [CodeBlock("```python\nx = 1\n```", "markdown")]


def test_an_unclosed_fence_runs_to_the_end() -> None:
    assert split_fenced_code("intro\n```\nnever closed\nstill code") == [
        Prose("intro"),
        CodeBlock("never closed\nstill code", None),
    ]


def test_inline_backticks_are_not_a_fence() -> None:
    text = "Use ```inline``` carefully.\n"
    assert split_fenced_code(text) == [Prose("Use ```inline``` carefully.")]
