"""A small local HTTP server speaking the Messages API's streaming shape, in a thread.

For end-to-end tests and benchmarks: `subagent run` (or any client) points ANTHROPIC_BASE_URL at
it. Each POST /v1/messages is recorded (body and arrival time) and answered with the next SSE
body from `replies` (a list, or a function of the request body); a request for one of the
`overloaded` models (a set a test may change as it goes) is answered 529 `overloaded_error`
instead (with `retry-after-ms: 1`, so the client's retries take no time).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.model.local_api import ApiHandler, LocalApiServer, error_body

Reply = str | Callable[[dict[str, Any]], str]


class MessagesServer(LocalApiServer):
    """`with MessagesServer([sse1, sse2]) as server: ... server.url ... server.requests`."""

    def __init__(
        self, replies: list[str] | Callable[[dict[str, Any]], str], overloaded: set[str] | None = None
    ) -> None:
        super().__init__()
        self._replies = replies
        self.overloaded: set[str] = overloaded if overloaded is not None else set()
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
        if body.get("model") in self.overloaded:
            with self._lock:
                self.requests.append(body)
            overloaded = error_body("Overloaded", "overloaded_error")
            request.send_body(529, "application/json", overloaded, {"retry-after-ms": "1"})
            return
        request.send_body(200, "text/event-stream", self._next(body))
        self.replied.append(time.time())
