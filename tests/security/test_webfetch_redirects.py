"""Web fetch's redirects, as an attacker's page would use them against the runtime's own network
position: a redirect on the same host is followed only after the host's address is checked
again (its DNS answer may have become loopback since the first hop: here the rule that allowed
the first hop stops allowing, as an answer that changed would stop passing); a redirect to the
cloud metadata address, however it is spelled, is another host and is never followed."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from agent.errors import ToolFailure
from agent.tool import ToolContext
from agent.web.webfetch_tool import WebFetchInput, WebFetchTool
from tests.web_pages import PageHandler, serving

METADATA = (
    "http://169.254.169.254/latest/meta-data/",
    "http://localhost@169.254.169.254/",
    "//169.254.169.254/latest",
    "http://2852039166/",
    "http://[::ffff:169.254.169.254]/",
    "http://[fd00:ec2::254]/",
)


class _Attacker(PageHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        if self.path.startswith("/to/"):
            self.send_redirect(METADATA[int(self.path.removeprefix("/to/"))])
        elif self.path == "/hop":
            self.send_redirect("/internal")
        else:
            self.send_page(200, "text/plain", b"INTERNAL-ADMIN-PAGE-42")


@pytest.fixture
def attacker() -> Iterator[str]:
    _Attacker.hits = []
    with serving(_Attacker) as url:
        yield url


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
