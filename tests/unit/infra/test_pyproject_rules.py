"""pyproject.toml says what is true of the tree: its package data exists, its warning
exceptions are narrow.

Both once drifted (issue 12): ``api/static/*`` was declared as package data for a
folder that did not exist, and "warnings are errors" was followed by five whole
warning categories ignored, so a new warning of those kinds could never fail a test.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
PYPROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _package_data() -> list[tuple[str, str]]:
    declared = PYPROJECT["tool"]["setuptools"].get("package-data", {})
    return [(package, pattern) for package, patterns in declared.items() for pattern in patterns]


@pytest.mark.parametrize(("package", "pattern"), _package_data())
def test_every_package_data_pattern_names_files_that_exist(package: str, pattern: str) -> None:
    folder = ROOT / package.replace(".", "/")
    assert (folder / "__init__.py").is_file(), f"{package} is not a package"
    assert any(p.is_file() for p in folder.glob(pattern)), f"{package}: {pattern} matches no file"


def _ignored_warnings() -> list[str]:
    filters: list[str] = PYPROJECT["tool"]["pytest"]["ini_options"]["filterwarnings"]
    return [f for f in filters if f.split(":", 1)[0] == "ignore"]


def test_warnings_are_errors_first() -> None:
    assert PYPROJECT["tool"]["pytest"]["ini_options"]["filterwarnings"][0] == "error"


@pytest.mark.parametrize("entry", _ignored_warnings())
def test_no_warning_is_ignored_by_its_category_alone(entry: str) -> None:
    """Each exception names the warning's text or the module that emits it, or both."""
    _action, message, *rest = [*entry.split(":", 4), "", "", ""][:5]
    category, module = rest[0], rest[1]
    assert message.strip() or module.strip(), f"a whole category is ignored: {entry!r}"
    assert category.strip() or message.strip(), entry
