"""The import rules hold, and would fail on a wrong-way import.

``scripts/test.sh`` runs ``lint-imports`` on the contracts of ``[tool.importlinter]``
(pyproject.toml). A contract that matched nothing would pass forever, so each one is
shown here to break on a copy of the tree with one wrong-way import added. The
package graph of the first-party rooms is also checked for cycles directly, from the
source, without import-linter: a cycle is what made the old ``ragline/`` both the
ground floor and the roof (issue 12).
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES: tuple[str, ...] = tuple(
    tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"]
)


def package_graph(root: Path, packages: Iterable[str]) -> dict[str, set[str]]:
    """Which first-party package imports which, from every import statement in the source.

    Imports inside functions count too: a lazy import is still a dependency.
    """
    ours = set(packages)
    graph: dict[str, set[str]] = {p: set() for p in ours}
    for package in ours:
        for path in (root / package).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    base = list(parts[:-1])[: len(parts) - node.level] if node.level else []
                    names = [".".join([*base, node.module or ""]).strip(".")]
                else:
                    continue
                graph[package] |= {n.split(".")[0] for n in names} & (ours - {package})
    return graph


def cycles(graph: Mapping[str, set[str]]) -> list[set[str]]:
    """The strongly connected groups of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_room_of_the_tree_is_under_the_import_contracts() -> None:
    """A new room left out of ``root_packages`` would escape every contract unseen."""
    rooms = {
        p.parent.name
        for p in ROOT.glob("*/__init__.py")
        if p.parent.name not in ("tests", "benchmarks")
    }
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    shipped = {
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    assert set(PACKAGES) == rooms == shipped


def test_the_rooms_form_no_package_cycle() -> None:
    graph = package_graph(ROOT, PACKAGES)
    assert cycles(graph) == []
    assert graph["kernel"] == set()
    assert not any("ragline" in imported for imported in graph.values())


def test_the_cycle_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_cycle_check_reads_relative_and_lazy_imports(tmp_path: Path) -> None:
    (tmp_path / "low").mkdir()
    (tmp_path / "low" / "__init__.py").write_text("")
    (tmp_path / "low" / "inner.py").write_text("def f():\n    import high.thing\n")
    (tmp_path / "high").mkdir()
    (tmp_path / "high" / "__init__.py").write_text("from .thing import x\n")
    (tmp_path / "high" / "thing.py").write_text("from low import inner\nx = 1\n")
    graph = package_graph(tmp_path, ["low", "high"])
    assert graph == {"low": {"high"}, "high": {"low"}}
    assert cycles(graph) == [{"low", "high"}]


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    # lint-imports reads pyproject.toml from, and finds the packages in, its working folder.
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first-party source and pyproject.toml, to add wrong-way imports to."""
    copy = tmp_path_factory.mktemp("tree")
    shutil.copy2(ROOT / "pyproject.toml", copy / "pyproject.toml")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    return copy


def test_the_unchanged_copy_keeps_every_contract(tree_copy: Path) -> None:
    """The baseline of the next test: the copy itself is clean, so a break is the edit's."""
    done = _lint(tree_copy)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "wrong_way", "contract"),
    [
        ("kernel/errors.py", "import text.terms", "The kernel imports nothing of ours"),
        (
            "retrieval/sparse.py",
            "import api.deps",
            "Domain rooms never import the API, the workers or the shell",
        ),
        ("api/routes/health.py", "import ragline.runtime", "Nothing imports the shell"),
        ("api/routes/health.py", "import workers.tasks", "The API and the workers never import"),
        (
            "ingest/pipeline.py",
            "from ingest.registry import Registry",
            "Domain code depends on ports, not on adapters",
        ),
        (
            "ingest/pipeline.py",
            "from ingest.storage import LocalBucketStore",
            "Domain code depends on ports, not on adapters",
        ),
        ("chunkers/base.py", "import retrieval.sparse", "Rooms are layered"),
    ],
)
def test_a_wrong_way_import_breaks_its_contract(
    tree_copy: Path, module: str, wrong_way: str, contract: str
) -> None:
    path = tree_copy / module
    original = path.read_text()
    path.write_text(f"{original}\n{wrong_way}  # wrong way, for this test\n")
    try:
        done = _lint(tree_copy)
    finally:
        path.write_text(original)
    assert done.returncode != 0, done.stdout
    broken = [line for line in done.stdout.splitlines() if line.endswith(" BROKEN")]
    assert any(line.startswith(contract) for line in broken), done.stdout
