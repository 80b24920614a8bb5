"""A local Messages API server that can stop in the middle of a reply, for kill tests.

Each POST /v1/messages takes the next reply. A `str` is a whole SSE body, sent at once. A
`Stall` sends its `head` (e.g. `message_start` and a few text deltas, no `message_stop`), sets
`stalled`, and then holds the connection open until the server closes, so the test can kill the
client at a known point of the stream. Every request body is recorded in `requests`.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Stall:
    """A reply that stops after `head` and never finishes."""

    head: str = ""


Reply = str | Stall


class StallServer:
    """`with StallServer([reply, Stall(head)]) as server: ... server.url ... server.requests`."""

    def __init__(self, replies: list[Reply]) -> None:
        self._replies = list(replies)
        self.requests: list[dict[str, Any]] = []
        self.stalled = threading.Event()
        """Set once a `Stall` head has been written and flushed."""
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def _next(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(body)
            if not self._replies:
                raise AssertionError(f"the test server ran out of replies at request {len(self.requests)}")
            return self._replies.pop(0)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                reply = server._next(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                if isinstance(reply, Stall):
                    if reply.head:
                        self._chunk(reply.head.encode())
                    server.stalled.set()
                    server._closing.wait(60)  # the client is killed meanwhile; never finish
                    self.close_connection = True
                    return
                self._chunk(reply.encode())
                self._chunk(b"")

            def do_GET(self) -> None:  # the models API: not offered, the config's limits apply
                payload = json.dumps({"type": "error", "error": {"type": "not_found_error", "message": "no"}})
                self.send_response(404)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload.encode())

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler

    def __enter__(self) -> StallServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
