"""Which paths the edge guard lets through without a key as console files: flat names only."""

from __future__ import annotations

import pytest

from api.routes.console import STATIC_DIR, is_asset_path


@pytest.mark.parametrize("path", ["/console/app.js", "/console/console.css", "/console/ask.js"])
def test_flat_script_and_style_names_are_assets(path: str) -> None:
    assert is_asset_path(path)


@pytest.mark.parametrize(
    "path",
    [
        "/console/../documents",
        "/console/sub/app.js",
        "/console/app.py",
        "/console/.hidden.js",
        "/console/",
        "/consoleapp.js",
        "/documents",
        "/console/APP.JS",
    ],
)
def test_anything_else_needs_a_key(path: str) -> None:
    assert not is_asset_path(path)


def test_every_shipped_file_is_served_under_that_shape() -> None:
    shipped = {p.name for p in STATIC_DIR.iterdir()}
    assert "index.html" in shipped
    assert all(is_asset_path(f"/console/{name}") for name in shipped - {"index.html"})
