"""What every local Messages API test server shares: a loopback HTTP server in a thread.

A server subclasses `LocalApiServer` and implements `handle_post`; GET (the models API) answers
404, so the config's limits apply; nothing is logged. Used as `with Server(...) as server:` with
`server.url` as ANTHROPIC_BASE_URL; `server.requests` records every request body, and
`server.received` every POST's headers and body bytes as they arrived.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


def error_body(message: str, kind: str = "invalid_request_error") -> str:
    """An API error body."""
    return json.dumps({"type": "error", "error": {"type": kind, "message": message}})


class ApiHandler(BaseHTTPRequestHandler):
    """One connection; hands each POST body to the server's `handle_post`."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once, no delayed-ACK stall
    api: LocalApiServer

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        raw = self.rfile.read(length)
        with self.api._lock:
            self.api.received.append(({k.lower(): v for k, v in self.headers.items()}, raw))
        self.api.handle_post(self, json.loads(raw or b"{}"))

    def do_GET(self) -> None:
        self.send_body(404, "application/json", error_body("no such model", "not_found_error"))

    def send_body(
        self, status: int, content_type: str, payload: str, headers: dict[str, str] | None = None
    ) -> None:
        data = payload.encode()
        self.send_response(status)
        self.send_header("content-type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def log_message(self, format: str, *args: Any) -> None:
        return


class LocalApiServer:
    """The thread, the address and the lifecycle; subclasses answer the POSTs."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.received: list[tuple[dict[str, str], bytes]] = []
        self._lock = threading.Lock()
        handler = type("Handler", (ApiHandler,), {"api": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def handle_post(self, request: ApiHandler, body: dict[str, Any]) -> None:
        """Answer one POST /v1/messages (record `body` in `requests`)."""
        raise NotImplementedError

    def closing(self) -> None:
        """Called before the server shuts down (a server holding replies open lets them go)."""

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing()
        self._httpd.shutdown()
        self._httpd.server_close()
