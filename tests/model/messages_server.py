"""A small local HTTP server speaking the Messages API's streaming shape, in a thread.

For end-to-end tests and benchmarks: `subagent run` (or any client) points ANTHROPIC_BASE_URL at
it. Each POST /v1/messages is recorded (body and arrival time) and answered with the next SSE
body from `replies` (a list, or a function of the request body).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = str | Callable[[dict[str, Any]], str]


class MessagesServer:
    """`with MessagesServer([sse1, sse2]) as server: ... server.url ... server.requests`."""

    def __init__(self, replies: list[str] | Callable[[dict[str, Any]], str]) -> None:
        self._replies = replies
        self.requests: list[dict[str, Any]] = []
        self.arrivals: list[float] = []
        """time.time() when each request's body had arrived."""
        self.replied: list[float] = []
        """time.time() when each reply had been written."""
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def _next(self, body: dict[str, Any]) -> str:
        with self._lock:
            self.requests.append(body)
            self.arrivals.append(time.time())
            if callable(self._replies):
                return self._replies(body)
            if not self._replies:
                raise RuntimeError("the test server ran out of replies")
            return self._replies.pop(0)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                payload = server._next(body).encode()
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                self.wfile.flush()
                server.replied.append(time.time())

            def do_GET(self) -> None:
                payload = json.dumps({"type": "error", "error": {"type": "not_found_error", "message": "no"}})
                self.send_response(404)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload.encode())

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler

    def __enter__(self) -> MessagesServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
