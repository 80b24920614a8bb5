"""The web fetch tool through a real `subagent run`, as an unprivileged user: a loopback address
is refused though a plain client of the same user fetches it (the control), until the user's
config allows the host for `webfetch_local`; then the page reaches the model as markdown."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from tests.security.attacker import Call, Site
from tests.web_pages import PageHandler, serving

pytestmark = pytest.mark.bwrap
PAGE = b"<html><body><h1>Internal dashboard</h1><p>CANARY-intranet-7</p></body></html>"


class _Page(PageHandler):
    def do_GET(self) -> None:
        self.send_page(200, "text/html", PAGE)


@pytest.fixture
def intranet() -> Iterator[str]:
    with serving(_Page) as url:
        yield f"{url}/"


def test_webfetch_refuses_loopback_until_a_rule_allows_it(site: Site, intranet: str) -> None:
    site.write(
        ".config/subagent/agents/researcher.md", "---\nname: researcher\ntools: Read, WebFetch\n---\nr\n"
    )
    fetch = [[Call("webfetch", {"url": intranet})]]
    control = site.as_attacker(
        [sys.executable, "-c", f"import urllib.request as u; print(u.urlopen({intranet!r}).read())"]
    )
    assert "CANARY-intranet-7" in control.stdout, control.stderr
    refused = site.run(fetch, agent="researcher")
    assert refused.results[0].is_error and "loopback or private address" in refused.results[0].text
    assert "CANARY-intranet-7" not in refused.everything_the_model_saw()
    site.write(".config/subagent/config.yaml", "permission:\n  webfetch_local:\n    127.0.0.1: allow\n")
    allowed = site.run(fetch, agent="researcher")
    assert not allowed.results[0].is_error, allowed.results[0].text
    assert (
        "# Internal dashboard" in allowed.results[0].text and "CANARY-intranet-7" in allowed.results[0].text
    )
    asked = site.run(fetch, agent="researcher", mode=None)  # default mode, no one to ask: webfetch asks
    assert asked.results[0].is_error and "permission denied" in asked.results[0].text
