"""Window planning, block packing and the heading trail."""

from __future__ import annotations

import itertools
import random

import pytest
from chunker_doubles import JoinCostingTokenCounterDouble, WhitespaceTokenCounterDouble

from chunkers.blocks import Block
from chunkers.budget import Budget
from chunkers.headings import HeadingTrail, Orphan
from chunkers.packing import pack_blocks, plan_windows

pytestmark = pytest.mark.unit


def block(text: str, path: tuple[str, ...] = ("A",), page: int | None = 1, **kw: object) -> Block:
    return Block(text, len(text.split()), page, path, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("sizes", "overlap", "windows"),
    [
        ([10, 10, 10, 10], 0, [(0, 2), (2, 4)]),  # 30 > target 28
        ([5, 5, 30, 5, 20], 0, [(0, 2), (2, 3), (3, 5)]),  # 10 + 30 is over the target
        ([5, 30, 20], 0, [(0, 2), (2, 3)]),  # 5 is a fragment: 35 is allowed up to 40
        ([20, 20, 3], 0, [(0, 1), (1, 3)]),  # a small tail is folded into the window before
        ([5, 5, 30, 5], 0, [(0, 2), (2, 4)]),
        ([8, 8, 8, 8, 8, 8, 8], 8, [(0, 3), (2, 5), (4, 7)]),  # one item of overlap
        ([8, 8, 8, 8, 8, 8], 8, [(0, 3), (2, 6)]),  # the last window only adds 8: folded
        ([], 0, []),
    ],
)
def test_plan_windows_cases(sizes: list[int], overlap: int, windows: list[tuple[int, int]]) -> None:
    assert plan_windows(sizes, target=28, floor=10, limit=40, overlap=overlap) == windows


def test_plan_windows_properties_on_random_sizes() -> None:
    rng = random.Random(7)
    for _ in range(500):
        sizes = [rng.randint(1, 40) for _ in range(rng.randint(1, 30))]
        overlap = rng.choice([0, 4, 10])
        windows = plan_windows(sizes, target=28, floor=10, limit=40, overlap=overlap)
        assert windows[0][0] == 0 and windows[-1][1] == len(sizes)
        for (start, end), (next_start, next_end) in itertools.pairwise(windows):
            assert start < next_start <= end < next_end  # progress, no gap
            assert sum(sizes[next_start:end]) <= overlap
        assert all(sum(sizes[a:b]) <= 40 for a, b in windows)


def test_blocks_of_different_groups_or_standalone_never_share_a_chunk() -> None:
    tokens = WhitespaceTokenCounterDouble(254)
    blocks = [
        block("one two", ("A",)),
        block("three", ("A",)),
        block("table row", ("A",), standalone=True),
        block("four", ("A",)),
        block("five", ("B",)),
    ]
    drafts = pack_blocks(blocks, tokens, Budget.of(tokens))
    assert [(d.text, d.section) for d in drafts] == [
        ("one two\n\nthree", "A"),
        ("table row", "A"),
        ("four", "A"),
        ("five", "B"),
    ]


def test_a_chunk_section_is_the_path_its_blocks_share_and_page_the_first() -> None:
    tokens = WhitespaceTokenCounterDouble(254)
    blocks = [
        block("2.1 text", ("2. Pay", "2.1"), page=3, group=("2. Pay",)),
        block("2.2 text", ("2. Pay", "2.2"), page=4, group=("2. Pay",)),
    ]
    (draft,) = pack_blocks(blocks, tokens, Budget.of(tokens))
    assert (draft.section, draft.page) == ("2. Pay", 3)


def test_a_merged_chunk_over_the_limit_is_split_again() -> None:
    tokens = JoinCostingTokenCounterDouble(20)  # every join by "\n" costs a token
    blocks = [block(f"w{i} x y", sep="\n") for i in range(12)]  # 3 words each
    drafts = pack_blocks(blocks, tokens, Budget.of(tokens))
    assert all(tokens.count(d.text) <= 20 for d in drafts)
    assert " ".join(d.text.replace("\n", " ") for d in drafts).split() == [
        w for i in range(12) for w in (f"w{i}", "x", "y")
    ]


def test_budget_from_the_model_window() -> None:
    assert Budget.of(WhitespaceTokenCounterDouble(254)) == Budget(254, 177, 63, 26)


def test_heading_trail_paths_and_orphans() -> None:
    trail = HeadingTrail()
    assert trail.enter(1, "Guide", 1) == []
    assert trail.enter(2, "Install", 1) == []
    assert trail.claim() == ("Guide", "Install")
    assert trail.enter(2, "Empty", 2) == []
    assert trail.enter(2, "Use", 3) == [Orphan(("Guide", "Empty"), 2)]
    assert trail.path == ("Guide", "Use")
    assert trail.enter(1, "Appendix", 4) == [Orphan(("Guide", "Use"), 3)]
    assert trail.finish() == [Orphan(("Appendix",), 4)]
