"""The web fetch tool against local servers: loopback refused unless a rule allows it (the control:
a plain client fetches the same URL), HTML as markdown, redirects (followed on the same host,
reported to another), caps, one DNS lookup."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from agent.errors import ToolFailure
from agent.tool import ToolContext
from agent.web.fetch import fetch, is_public
from agent.web.webfetch_tool import WebFetchInput, WebFetchTool
from tests.web_pages import PageHandler, serving

PAGE = (
    b"<html><head><style>p{}</style></head><body><h1>Title</h1><p>Some <b>bold</b> <a href='/x'>link</a>"
    b"</p><script>alert(1)</script></body></html>"
)


class _Handler(PageHandler):
    hits: ClassVar[list[tuple[str, str]]] = []

    def do_GET(self) -> None:
        self.hits.append((self.path, self.headers.get("Host", "")))
        port = self.server.server_address[1]
        routes = {
            "/page": (200, "text/html; charset=utf-8", PAGE),
            "/big": (200, "text/plain", b"x" * 50_000),
            "/bin": (200, "application/octet-stream", b"\x00\x01"),
            "/missing": (404, "text/plain", b"nope"),
        }
        redirects = {"/away": f"http://localhost:{port}/page", "/hop": "/page", "/loop": "/loop"}
        if self.path in redirects:
            self.send_redirect(redirects[self.path])
            return
        self.send_page(*routes.get(self.path, (200, "text/plain", b"plain")))


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.hits = []
    with serving(_Handler) as url:
        yield url


def _run(tool: WebFetchTool, url: str, tmp_path: Path) -> str:
    ctx = ToolContext(workspace=tmp_path, data_dir=tmp_path / "data")
    return asyncio.run(tool.run(WebFetchInput(url=url), ctx)).output


def test_loopback_is_refused_unless_a_rule_allows_it(server: str, tmp_path: Path) -> None:
    assert urllib.request.urlopen(f"{server}/page", timeout=10).read() == PAGE  # the control
    with pytest.raises(ToolFailure, match="loopback or private address"):
        _run(WebFetchTool(lambda host: False), f"{server}/page", tmp_path)
    text = _run(WebFetchTool(lambda host: host == "127.0.0.1"), f"{server}/page", tmp_path)
    assert (
        text.startswith("# Title")
        and "Some **bold** [link](/x)" in text
        and "p{}" not in text
        and "alert" not in text
    )


def test_a_redirect_to_another_host_is_reported_not_followed(server: str, tmp_path: Path) -> None:
    text = _run(WebFetchTool(lambda host: True), f"{server}/away", tmp_path)
    assert "redirects (302) to http://localhost:" in text and "(another host)" in text
    assert [path for path, _ in _Handler.hits] == ["/away"]


def test_a_redirect_on_the_same_host_is_followed_a_few_times(server: str, tmp_path: Path) -> None:
    assert _run(WebFetchTool(lambda host: True), f"{server}/hop", tmp_path).startswith("# Title")
    assert [path for path, _ in _Handler.hits] == ["/hop", "/page"]
    _Handler.hits.clear()
    text = _run(WebFetchTool(lambda host: True), f"{server}/loop", tmp_path)
    assert "(more than 5 redirects)" in text and len(_Handler.hits) == 6


def test_caps_errors_and_binary(server: str, tmp_path: Path) -> None:
    assert _run(WebFetchTool(lambda h: True, max_bytes=1000), f"{server}/big", tmp_path).endswith(
        "[cut at 1000 bytes]"
    )
    ctx = ToolContext(workspace=tmp_path, data_dir=tmp_path / "data")
    missing = asyncio.run(WebFetchTool(lambda h: True).run(WebFetchInput(url=f"{server}/missing"), ctx))
    assert missing.is_error and missing.output.startswith("HTTP 404")
    with pytest.raises(ToolFailure, match="is not text"):
        _run(WebFetchTool(lambda h: True), f"{server}/bin", tmp_path)
    with pytest.raises(ToolFailure, match="not an http or https URL"):
        _run(WebFetchTool(lambda h: True), "file:///etc/passwd", tmp_path)


def test_the_host_is_resolved_once_and_the_checked_address_is_used(server: str) -> None:
    port = int(server.rsplit(":", 1)[1])
    answers = [["127.0.0.1"], ["10.9.9.9"]]  # a rebinding resolver: another address the second time
    calls: list[str] = []

    def resolver(host: str, _port: int) -> list[str]:
        calls.append(host)
        return answers[len(calls) - 1]

    got = fetch(
        f"http://rebind.test:{port}/plain", local_allowed=lambda h: h == "rebind.test", resolver=resolver
    )
    assert got.body == b"plain" and calls == ["rebind.test"]
    assert _Handler.hits == [("/plain", f"rebind.test:{port}")]


def test_any_non_public_address_of_a_host_refuses_it() -> None:
    for addresses in (
        ["10.1.2.3"],
        ["93.184.216.34", "127.0.0.1"],
        ["::1"],
        ["169.254.169.254"],
        ["::ffff:10.0.0.1"],
    ):
        with pytest.raises(ToolFailure, match="loopback or private"):
            fetch("http://example.test/", local_allowed=lambda h: False, resolver=lambda h, p, a=addresses: a)
    assert is_public("93.184.216.34") and not is_public("192.168.1.1")


def test_the_permission_is_asked_on_the_host(tmp_path: Path) -> None:
    ctx = ToolContext(workspace=tmp_path, data_dir=tmp_path / "data")
    requests = WebFetchTool(lambda h: False).permission_requests(
        WebFetchInput(url="https://docs.python.org/3/"), ctx
    )
    assert [(r.permission, r.patterns) for r in requests] == [("webfetch", ["docs.python.org"])]
