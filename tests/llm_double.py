"""A test double of an OpenAI-compatible chat server, on loopback, for the model gateway.

The gateway's real client (LiteLLM) talks HTTP to it exactly as it would to OpenAI,
vLLM or Ollama; only the model is fake. Each :class:`ChatDouble` is one deployment:
tests set what it does next (answer, stream, be slow, fail with 429 or 500) and read
what it was sent, so residency ("eu chunks never reach a us deployment") is checked
on the wire, not on our own bookkeeping.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Messages = list[dict[str, Any]]


def echo_first_source(messages: Messages) -> str:
    """A plausible grounded answer: the first sentence of source [1], cited."""
    user = str(messages[-1]["content"])
    marker = user.find("[1]")
    if marker < 0:
        return "I could not find this in the documents you can access."
    body = user[marker:].split("\n", 2)
    text = body[2] if len(body) > 2 else body[-1]
    sentence = text.strip().split(". ")[0].rstrip(".")
    return f"{sentence}. [1]"


@dataclass
class ChatDouble:
    """One fake deployment. Mutate the attributes between requests to change behaviour."""

    name: str
    reply: Callable[[Messages], str] = echo_first_source
    status: int = 200  # 429 or 500 to fail every request
    delay_s: float = 0.0  # sleep before answering (a timeout test sets it above the timeout)
    requests: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    port: int = 0
    _server: ThreadingHTTPServer | None = field(default=None, repr=False)
    _dead: bool = field(default=False, repr=False)

    def kill(self) -> None:
        """Stop the server: new connections are refused and open ones dropped unanswered."""
        self._dead = True
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def received(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.requests)

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def _record(self, body: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(body)


def _usage(messages: Messages, text: str) -> dict[str, int]:
    prompt = sum(len(str(m.get("content", "")).split()) for m in messages)
    completion = len(text.split())
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _handler(double: ChatDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            if double._dead:  # a kept-alive connection to a killed server: drop it
                self.close_connection = True
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            double._record(body)
            if double.delay_s:
                time.sleep(double.delay_s)
            if double.status != 200:
                self._json(
                    double.status,
                    {
                        "error": {
                            "message": f"double {double.name} says {double.status}",
                            "type": "rate_limit" if double.status == 429 else "server_error",
                        }
                    },
                )
                return
            messages = body.get("messages", [])
            text = double.reply(messages)
            if body.get("stream"):
                self._stream(body, messages, text)
                return
            self._json(
                200,
                {
                    "id": "chatcmpl-double",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", double.name),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": _usage(messages, text),
                },
            )

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            raw = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _stream(self, body: dict[str, Any], messages: Messages, text: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            model = body.get("model", double.name)

            def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> None:
                payload = {
                    "id": "chatcmpl-double",
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                    **extra,
                }
                self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
                self.wfile.flush()

            chunk({"role": "assistant", "content": ""})
            for word in _pieces(text):
                chunk({"content": word})
            chunk({}, "stop")
            if (body.get("stream_options") or {}).get("include_usage"):
                payload = {
                    "id": "chatcmpl-double",
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [],
                    "usage": _usage(messages, text),
                }
                self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

    return Handler


def _pieces(text: str) -> Iterator[str]:
    words = text.split(" ")
    for i, word in enumerate(words):
        yield word if i == 0 else " " + word


@contextmanager
def serve(*names: str) -> Iterator[dict[str, ChatDouble]]:
    """Start one double per name on free loopback ports; stop them on exit."""
    servers: list[ThreadingHTTPServer] = []
    doubles: dict[str, ChatDouble] = {}
    try:
        for name in names:
            double = ChatDouble(name=name)
            server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(double))
            server.daemon_threads = True
            double.port = server.server_address[1]
            double._server = server
            threading.Thread(
                target=server.serve_forever, name=f"llm-double-{name}", daemon=True
            ).start()
            servers.append(server)
            doubles[name] = double
        yield doubles
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
