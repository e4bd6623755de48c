"""`ragline ask` against something that is not ragline: one clear line, no traceback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from ragline.cli import app

pytestmark = pytest.mark.e2e


class BadGatewayDouble(BaseHTTPRequestHandler):
    """A test double for a reverse proxy whose upstream is down."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        self.send_response(502)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def proxy_double() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BadGatewayDouble)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_non_json_reply_is_one_clear_error_line(proxy_double: str) -> None:
    result = CliRunner().invoke(
        app, ["ask", "hello?", "--key", "k", "--server", proxy_double], env={"COLUMNS": "300"}
    )
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert f"HTTP 502 from {proxy_double}: not a ragline reply" in output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
