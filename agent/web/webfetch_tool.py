"""The `webfetch` tool: a URL's content, fetched by the runtime (`agent.web.fetch`), HTML as markdown.

Permission `webfetch` on the URL's host (ask by default; rules take host patterns:
`webfetch: {"*.python.org": allow}`). A loopback or private address also needs an allow rule for
`webfetch_local` on the host (`local_allowed`, from the agent's rules; no ask can grant it). A
redirect to the same host (the permission's pattern) is followed, up to five; one to another
host is not: the answer names where it points, and the model fetches that URL with a new call,
so the other host is asked about (as Claude Code does). Every hop is resolved and checked again.
HTML becomes markdown with markdownify (imported on first use); other text is returned as it
is; anything else is refused.
"""

import asyncio
from collections.abc import Callable
from typing import ClassVar
from urllib.parse import urlsplit

from pydantic import Field

from agent.errors import ToolFailure
from agent.tool import PermissionRequest, Tool, ToolContext, ToolInput, ToolResult
from agent.tool_output import cap_output
from agent.web.fetch import MAX_BYTES, TIMEOUT_S, Fetched, fetch

MAX_SAME_HOST_REDIRECTS = 5


class WebFetchInput(ToolInput):
    url: str = Field(description="An http or https URL.")


def _markdown(html: str) -> str:
    """HTML as markdown, without scripts, styles and other parts a reader never sees."""
    from bs4 import BeautifulSoup
    from markdownify import MarkdownConverter

    soup = BeautifulSoup(html, "html.parser")
    for hidden in soup(["script", "style", "noscript", "template", "head"]):
        hidden.decompose()
    return str(MarkdownConverter(heading_style="ATX").convert_soup(soup)).strip()


def _text(got: Fetched) -> str:
    kind = got.content_type.split(";")[0].strip().lower()
    charset = next(
        (
            p.split("=", 1)[1].strip()
            for p in got.content_type.split(";")[1:]
            if p.strip().startswith("charset=")
        ),
        "utf-8",
    )
    try:
        text = got.body.decode(charset, errors="replace")
    except LookupError:
        text = got.body.decode("utf-8", errors="replace")
    if kind in ("text/html", "application/xhtml+xml") or (not kind and text.lstrip().startswith("<")):
        return _markdown(text)
    if kind.startswith("text/") or kind.endswith(("json", "xml", "javascript")) or not kind:
        return text
    raise ToolFailure(f"{got.url}: {kind} content ({len(got.body)} bytes) is not text")


class WebFetchTool(Tool[WebFetchInput]):
    name: ClassVar[str] = "webfetch"
    description: ClassVar[str] = (
        "Fetch a URL; HTML comes back as markdown. A redirect to another host is reported, not followed."
    )
    input_model: ClassVar[type[ToolInput]] = WebFetchInput
    kind = "read"

    def __init__(
        self, local_allowed: Callable[[str], bool], max_bytes: int = MAX_BYTES, timeout_s: float = TIMEOUT_S
    ):
        self.local_allowed = local_allowed
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s

    def permission_requests(self, input: WebFetchInput, ctx: ToolContext) -> list[PermissionRequest]:
        host = urlsplit(input.url).hostname
        if not host:
            raise ToolFailure(f"{input.url!r} is not an http or https URL")
        return [PermissionRequest(permission="webfetch", patterns=[host])]

    def title(self, input: WebFetchInput) -> str:
        return f"fetch {input.url}"

    async def _fetch(self, url: str) -> Fetched:
        return await asyncio.wait_for(
            asyncio.to_thread(
                fetch,
                url,
                local_allowed=self.local_allowed,
                max_bytes=self.max_bytes,
                timeout_s=self.timeout_s,
            ),
            self.timeout_s + 5,
        )

    async def run(self, input: WebFetchInput, ctx: ToolContext) -> ToolResult:
        got = await self._fetch(input.url)
        host = urlsplit(input.url).hostname
        for _ in range(MAX_SAME_HOST_REDIRECTS):
            if got.redirect is None or urlsplit(got.redirect).hostname != host:
                break
            got = await self._fetch(got.redirect)
        if got.redirect is not None:
            same = urlsplit(got.redirect).hostname == host
            why = f"more than {MAX_SAME_HOST_REDIRECTS} redirects" if same else "another host"
            return ToolResult(
                output=f"{got.url} redirects ({got.status}) to {got.redirect} ({why}); "
                "fetch that URL to follow it"
            )
        text = _text(got)
        if got.truncated:
            text += f"\n\n[cut at {self.max_bytes} bytes]"
        status = "" if got.status == 200 else f"HTTP {got.status}\n\n"
        capped = cap_output(status + text, ctx.limits, ctx.data_dir)
        return ToolResult(output=capped.text, is_error=got.status >= 400)
