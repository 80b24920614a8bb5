"""Web fetch's redirects, as an attacker's page would use them against the runtime's own network
position: a redirect on the same host is followed only after the host's address is checked
again (its DNS answer may have become loopback since the first hop: here the rule that allowed
the first hop stops allowing, as an answer that changed would stop passing); a redirect to the
cloud metadata address, however it is spelled, is another host and is never followed."""

from __future__ import annotations

import asyncio
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from agent.errors import ToolFailure
from agent.tool import ToolContext
from agent.web.webfetch_tool import WebFetchInput, WebFetchTool

METADATA = (
    "http://169.254.169.254/latest/meta-data/",
    "http://localhost@169.254.169.254/",
    "//169.254.169.254/latest",
    "http://2852039166/",
    "http://[::ffff:169.254.169.254]/",
    "http://[fd00:ec2::254]/",
)


class _Attacker(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        if self.path.startswith("/to/"):
            self.send_response(302)
            self.send_header("Location", METADATA[int(self.path.removeprefix("/to/"))])
            self.end_headers()
            return
        if self.path == "/hop":
            self.send_response(302)
            self.send_header("Location", "/internal")
            self.end_headers()
            return
        body = b"INTERNAL-ADMIN-PAGE-42"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def attacker() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Attacker)
    _Attacker.hits = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _fetch(tool: WebFetchTool, url: str, tmp_path: Path) -> str:
    ctx = ToolContext(workspace=tmp_path, data_dir=tmp_path / "data")
    return asyncio.run(tool.run(WebFetchInput(url=url), ctx)).output


def test_every_same_host_hop_is_checked_again(attacker: str, tmp_path: Path) -> None:
    assert (
        b"INTERNAL-ADMIN-PAGE-42" in urllib.request.urlopen(f"{attacker}/hop", timeout=10).read()
    )  # control
    _Attacker.hits.clear()
    answers = iter([True])  # the first hop passes the address check; the next does not

    with pytest.raises(ToolFailure, match="loopback or private address"):
        _fetch(WebFetchTool(lambda host: next(answers, False)), f"{attacker}/hop", tmp_path)

    assert _Attacker.hits == ["/hop"]


@pytest.mark.parametrize("index", range(len(METADATA)))
def test_a_redirect_to_the_metadata_address_is_never_followed(
    attacker: str, tmp_path: Path, index: int
) -> None:
    text = _fetch(WebFetchTool(lambda host: True), f"{attacker}/to/{index}", tmp_path)

    assert "(another host)" in text and "fetch that URL to follow it" in text, text
    assert _Attacker.hits == [f"/to/{index}"]
