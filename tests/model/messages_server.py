"""A small local HTTP server speaking the Messages API's streaming shape, in a thread.

For end-to-end tests and benchmarks: `subagent run` (or any client) points ANTHROPIC_BASE_URL at
it. Each POST /v1/messages is recorded (body and arrival time) and answered with the next SSE
body from `replies` (a list, or a function of the request body).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.model.local_api import ApiHandler, LocalApiServer

Reply = str | Callable[[dict[str, Any]], str]


class MessagesServer(LocalApiServer):
    """`with MessagesServer([sse1, sse2]) as server: ... server.url ... server.requests`."""

    def __init__(self, replies: list[str] | Callable[[dict[str, Any]], str]) -> None:
        super().__init__()
        self._replies = replies
        self.arrivals: list[float] = []
        """time.time() when each request's body had arrived."""
        self.replied: list[float] = []
        """time.time() when each reply had been written."""

    def _next(self, body: dict[str, Any]) -> str:
        with self._lock:
            self.requests.append(body)
            self.arrivals.append(time.time())
            if callable(self._replies):
                return self._replies(body)
            if not self._replies:
                raise RuntimeError("the test server ran out of replies")
            return self._replies.pop(0)

    def handle_post(self, request: ApiHandler, body: dict[str, Any]) -> None:
        request.send_body(200, "text/event-stream", self._next(body))
        self.replied.append(time.time())
