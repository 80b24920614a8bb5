"""A local Messages API server that can stop in the middle of a reply, for kill tests.

Each POST /v1/messages takes the next reply. A `str` is a whole SSE body, sent at once. A
`Stall` sends its `head` (e.g. `message_start` and a few text deltas, no `message_stop`), sets
`stalled`, and then holds the connection open until the server closes, so the test can kill the
client at a known point of the stream. Every request body is recorded in `requests`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from tests.model.local_api import ApiHandler, LocalApiServer


@dataclass(frozen=True)
class Stall:
    """A reply that stops after `head` and never finishes."""

    head: str = ""


Reply = str | Stall


class StallServer(LocalApiServer):
    """`with StallServer([reply, Stall(head)]) as server: ... server.url ... server.requests`."""

    def __init__(self, replies: list[Reply]) -> None:
        super().__init__()
        self._replies = list(replies)
        self.stalled = threading.Event()
        """Set once a `Stall` head has been written and flushed."""
        self._closing = threading.Event()

    def _next(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(body)
            if not self._replies:
                raise AssertionError(f"the test server ran out of replies at request {len(self.requests)}")
            return self._replies.pop(0)

    def handle_post(self, request: ApiHandler, body: dict[str, Any]) -> None:
        reply = self._next(body)
        request.send_response(200)
        request.send_header("content-type", "text/event-stream")
        request.send_header("transfer-encoding", "chunked")
        request.end_headers()
        if isinstance(reply, Stall):
            if reply.head:
                _chunk(request, reply.head.encode())
            self.stalled.set()
            self._closing.wait(60)  # the client is killed meanwhile; never finish
            request.close_connection = True
            return
        _chunk(request, reply.encode())
        _chunk(request, b"")

    def closing(self) -> None:
        self._closing.set()


def _chunk(request: ApiHandler, data: bytes) -> None:
    request.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    request.wfile.flush()
