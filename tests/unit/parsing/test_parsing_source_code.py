"""Source code cut into top-level blocks: a function stays whole, a comment is no heading."""

from __future__ import annotations

import pytest

from ingest.parsing.source_code import code_elements

pytestmark = pytest.mark.unit


def test_blocks_start_only_at_the_margin_after_a_blank_line() -> None:
    text = (
        "# Totals\nimport os\n\n\n# read rows\ndef read(path):\n    x = 1\n\n    return x\n\n"
        "class Report:\n    def total(self):\n\n        return 2\n"
    )
    elements = code_elements(text, "tool.py")
    assert [e.text for e in elements] == [
        "# Totals\nimport os",
        "# read rows\ndef read(path):\n    x = 1\n\n    return x",
        "class Report:\n    def total(self):\n\n        return 2",
    ]
    assert {e.kind for e in elements} == {"code"}
    assert all(e.metadata == {"language": "python"} for e in elements)


def test_a_closing_brace_after_a_blank_line_stays_with_its_block() -> None:
    text = "int main() {\n  return 0;\n\n}\n\nstatic int x;\n"
    elements = code_elements(text, "main.c")
    assert [e.text for e in elements] == ["int main() {\n  return 0;\n\n}", "static int x;"]
    assert elements[0].metadata == {"language": "c"}


def test_an_unknown_extension_names_no_language() -> None:
    assert code_elements("SELECT 1;\n", None)[0].metadata == {}
