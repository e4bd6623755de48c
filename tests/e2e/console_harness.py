"""What the console's browser tests share: a real server on loopback, Chromium, a signed-in page.

The server is the real embedded app (``ragline.service.create_app``) under uvicorn in a
thread, so the browser talks HTTP to it exactly as in production; Chromium is Debian's
(``/usr/bin/chromium``), driven by Playwright. One app per test module: two embedded
apps in one process share Celery's worker state and break each other.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "output" / "console"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ROLE_MESSAGE = "Your key lacks the role for this page."

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's Chromium (/usr/bin/chromium) is not installed"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Run the app under uvicorn on a free loopback port; yield its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="console-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 180
    while not server.started:
        assert thread.is_alive(), "the server stopped during start-up"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(60)


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


class Console:
    """One browser tab on the console, with the JavaScript errors it raised."""

    def __init__(self, browser: Any, base: str) -> None:
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on("console", self._console)

    def _console(self, msg: Any) -> None:
        # A refused call (401/403/404) is logged by Chromium as "Failed to load resource";
        # those are expected. A script error or a CSP refusal is not.
        if msg.type == "error" and "Failed to load resource" not in msg.text:
            self.errors.append(f"console: {msg.text}")

    def sign_in(self, key: str) -> None:
        self.page.goto(f"{self.base}/#/login")
        self.page.fill("#key", key)
        self.page.click("#sign-in")
        self.page.wait_for_url(re.compile(r".*#/ask$"))
        self.page.wait_for_selector("#question")

    def open(self, page: str) -> None:
        self.page.goto(f"{self.base}/#/{page}")
        self.page.wait_for_selector(f'.page[data-page="{page.split("/")[0]}"]')

    def settle(self) -> None:
        """Wait until no section still says it is loading."""
        self.page.wait_for_function(
            "() => ![...document.querySelectorAll('#view p.muted')]"
            ".some(p => p.textContent === 'Loading…')"
        )

    def text(self) -> str:
        """Every text of the page's DOM, hidden parts included."""
        value: str = self.page.evaluate("() => document.documentElement.textContent")
        return value

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.context.close()


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert len(data) > 1000, f"{path} is nearly empty"
    assert data.startswith(PNG_SIGNATURE), f"{path} is not a PNG"
