"""ParserPool: a parse held up in one parser does not hold up a parse in another."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from ingest.parsing.pool import ParserPool
from kernel.documents import Element, ParsedDocument

pytestmark = pytest.mark.service

WAIT_S = 60.0


class GatedParser:
    """Parses a file named ``held*`` only once ``gate`` is set; anything else at once."""

    def __init__(self, gate: threading.Event, entered: threading.Event) -> None:
        self.gate = gate
        self.entered = entered
        self.closed = False

    def parse(
        self, path: Path, *, filename: str | None = None, content_type: str | None = None
    ) -> ParsedDocument:
        if path.name.startswith("held"):
            self.entered.set()
            assert self.gate.wait(WAIT_S)
        return ParsedDocument(format="txt", elements=(Element(kind="text", text=path.name),))

    def close(self) -> None:
        self.closed = True


def test_a_free_parser_serves_a_document_while_another_is_held(tmp_path: Path) -> None:
    gate, entered = threading.Event(), threading.Event()
    parsers = [GatedParser(gate, entered) for _ in range(2)]
    pool = ParserPool(parsers)
    held: list[ParsedDocument] = []
    holder = threading.Thread(target=lambda: held.append(pool.parse(tmp_path / "held.pdf")))
    holder.start()
    try:
        assert entered.wait(WAIT_S)
        quick = pool.parse(tmp_path / "quick.md")
        assert quick.text == "quick.md"
        assert held == [] and holder.is_alive()
    finally:
        gate.set()
        holder.join(WAIT_S)
    assert [doc.text for doc in held] == ["held.pdf"]
    pool.close()
    assert all(parser.closed for parser in parsers)
    with pytest.raises(RuntimeError):
        pool.parse(tmp_path / "quick.md")


def test_every_parser_is_returned_after_a_failure(tmp_path: Path) -> None:
    class Failing(GatedParser):
        def parse(
            self, path: Path, *, filename: str | None = None, content_type: str | None = None
        ) -> ParsedDocument:
            raise ValueError("bad file")

    pool = ParserPool([Failing(threading.Event(), threading.Event())])
    failures: list[Exception] = []

    def parse_three_times() -> None:
        for _ in range(3):  # a parser lost on failure would make the second call wait
            try:
                pool.parse(tmp_path / "x.md")
            except ValueError as exc:
                failures.append(exc)

    caller = threading.Thread(target=parse_three_times, daemon=True)
    caller.start()
    caller.join(WAIT_S)
    assert len(failures) == 3
    pool.close()
