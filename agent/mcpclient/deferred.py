"""Lean prompts: when the MCP tools' definitions pass `DEFER_ABOVE_BYTES`, the model gets two small
tools instead of them all: `mcp_tools` finds tools by keywords and returns their definitions, and
`mcp_call` calls one by name.

The tool list then never changes during a session, so the prompt cache's prefix (tools, system,
the earlier turns) holds; the definitions the model asked for sit in the conversation like any
tool result. `mcp_call` is a thin door to the real tool: the permission gate sees the real tool's
permission (`mcp__github__create_issue`), and its title, locations, scheduling and result are the
real tool's. (The Messages API's own tool search, `defer_loading`, would do the same server-side;
it is a beta the local test servers do not speak, and this works with any endpoint.)

The same two tools reach the servers whose tools are not known when the session starts (never
listed, and still starting in the background: `agent.mcpclient.hub`): `mcp_tools` waits for them
to list their tools, and `mcp_call` for its tool's server, each bounded by the start timeout.
"""

import json
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar

from pydantic import Field

from agent.errors import ToolFailure, ToolInputError
from agent.events import ToolKindName
from agent.mcpclient.tools import PREFIX, McpInput, McpTool
from agent.tool import PermissionRequest, Tool, ToolContext, ToolInput, ToolResult

DEFER_ABOVE_BYTES = 8_000
"""Past this many bytes of MCP tool definitions (about our whole first request without them), the
definitions are loaded on demand."""


PendingTools = Callable[[Sequence[str]], Awaitable[tuple[list[McpTool], list[str]]]]
"""(the tools of these servers still starting, once they listed them; why each that failed did)."""


class Doors:
    """What `mcp_tools` and `mcp_call` reach: tools known now, and servers still starting."""

    def __init__(self, tools: Sequence[McpTool], pending: Sequence[str], more: PendingTools) -> None:
        self.known = {t.name: t for t in tools}
        self.pending = list(pending)
        self._more = more

    async def all_tools(self, servers: Sequence[str] | None = None) -> tuple[dict[str, McpTool], list[str]]:
        """Every tool, once the pending `servers` (default: all) listed theirs; and why each that
        failed did."""
        waited = self.pending if servers is None else [s for s in servers if s in self.pending]
        if not waited:
            return self.known, []
        found, failures = await self._more(waited)
        return {**self.known, **{t.name: t for t in found}}, failures

    def pending_server(self, name: str) -> str | None:
        """The pending server whose tool `name` is (`mcp__<server>__<tool>`), if any."""
        return next((s for s in self.pending if name.startswith(f"{PREFIX}{s}__")), None)

    def servers(self) -> str:
        counts: dict[str, int] = {}
        for tool in self.known.values():
            counts[tool.connection.name] = counts.get(tool.connection.name, 0) + 1
        listed = [f"{name} ({count} tools)" for name, count in counts.items()]
        return ", ".join([*listed, *(f"{name} (starting)" for name in self.pending)])


def definitions_bytes(tools: Sequence[McpTool]) -> int:
    return sum(len(json.dumps(t.schema(), separators=(",", ":"))) for t in tools)


class SearchInput(ToolInput):
    query: str = Field(description="Keywords: what the tool should do, or part of its name.")
    max_results: int = Field(5, ge=1, le=20)


class McpToolSearch(Tool[SearchInput]):
    """`mcp_tools`: the definitions of the MCP tools that best match a query."""

    name: ClassVar[str] = "mcp_tools"
    description: ClassVar[str] = ""
    input_model: ClassVar[type[ToolInput]] = SearchInput
    kind: ClassVar[ToolKindName] = "search"

    def __init__(self, doors: Doors) -> None:
        self.doors = doors
        self.description = (  # type: ignore[misc]
            f"Find tools of the MCP servers {doors.servers()} by keywords; returns their definitions. "
            "Then call one with mcp_call {tool, arguments}."
        )

    def schema(self) -> dict[str, Any]:  # type: ignore[override]
        base = super().schema()
        base["description"] = self.description
        return base

    def permission_requests(self, input: SearchInput, ctx: ToolContext) -> list[PermissionRequest]:
        return []  # it only reads definitions the runtime already holds

    def title(self, input: SearchInput) -> str:
        return f"find MCP tools: {input.query}"

    async def run(self, input: SearchInput, ctx: ToolContext) -> ToolResult:
        tools, failures = await self.doors.all_tools()
        words = [w for w in re.split(r"[^a-z0-9]+", input.query.lower()) if w]
        scored = sorted(
            ((sum(_score(t, w) for w in words), name) for name, t in tools.items()),
            key=lambda pair: (-pair[0], pair[1]),
        )
        found = [tools[name].schema() for score, name in scored[: input.max_results] if score > 0]
        failed = "".join(f"\n\n{line}" for line in failures)
        if not found:
            listed = ", ".join(tools) or "none"
            return ToolResult(output=f"no MCP tool matches {input.query!r}; tools: {listed}{failed}")
        return ToolResult(output=json.dumps(found, indent=1, ensure_ascii=False) + failed)


def _score(tool: McpTool, word: str) -> int:
    return 3 * (word in tool.name.lower()) + (word in tool.description.lower())


class CallInput(ToolInput):
    tool: str = Field(description="The MCP tool's name, as mcp_tools returned it (mcp__server__tool).")
    arguments: dict[str, Any] = Field(default_factory=dict, description="Its input, per its schema.")


class McpCall(Tool[CallInput]):
    """`mcp_call`: call one MCP tool by name; everything but the name is the real tool's."""

    name: ClassVar[str] = "mcp_call"
    description: ClassVar[str] = (
        "Call an MCP tool found with mcp_tools: {tool: its name, arguments: its input}."
    )
    input_model: ClassVar[type[ToolInput]] = CallInput
    kind: ClassVar[ToolKindName] = "other"
    mutates: ClassVar[bool] = True
    """Any MCP tool but one hinted read-only may change files: checkpoint first."""

    def __init__(self, doors: Doors) -> None:
        self.doors = doors

    def _known(self, input: CallInput) -> tuple[McpTool | None, McpInput]:
        """The tool if it is known now (None for one of a server still starting), and its input.

        Raises:
            ToolInputError: no such tool, known or pending.
        """
        tool = self.doors.known.get(input.tool)
        if tool is None and self.doors.pending_server(input.tool) is None:
            raise ToolInputError(f"no MCP tool {input.tool!r}; find one with mcp_tools")
        return tool, McpInput.model_validate(input.arguments)

    def permission_requests(self, input: CallInput, ctx: ToolContext) -> list[PermissionRequest]:
        tool, arguments = self._known(input)
        if tool is None:  # the permission a tool of that name asks for, before its server answers
            return [PermissionRequest(permission=input.tool.lower(), patterns=["*"])]
        return tool.permission_requests(arguments, ctx)

    def title(self, input: CallInput) -> str:
        tool = self.doors.known.get(input.tool)
        if tool is None:
            server = self.doors.pending_server(input.tool)
            return f"{server}: {input.tool.split('__', 2)[-1]}" if server else f"mcp_call {input.tool}"
        return tool.title(McpInput.model_validate(input.arguments))

    def preview(self, input: CallInput, ctx: ToolContext) -> str:
        tool, arguments = self._known(input)
        if tool is None:
            return f"MCP tool {input.tool}\n" + json.dumps(input.arguments, indent=2, ensure_ascii=False)
        return tool.preview(arguments, ctx)

    def locations(self, input: CallInput, ctx: ToolContext) -> list[str]:
        tool = self.doors.known.get(input.tool)
        return tool.locations(McpInput.model_validate(input.arguments), ctx) if tool else []

    def conflict_key(self, input: CallInput, ctx: ToolContext) -> str | None:
        tool = self.doors.known.get(input.tool)
        if tool is None:  # not known to be read-only: one at a time on its server
            server = self.doors.pending_server(input.tool)
            return f"{PREFIX}{server}" if server else None
        return tool.conflict_key(McpInput.model_validate(input.arguments), ctx)

    async def run(self, input: CallInput, ctx: ToolContext) -> ToolResult:
        tool, arguments = self._known(input)
        if tool is None:
            server = self.doors.pending_server(input.tool)
            tools, failures = await self.doors.all_tools([server] if server else [])
            tool = tools.get(input.tool)
            if tool is None:
                why = next((f for f in failures if f"MCP server {server!r}" in f), None)
                raise ToolFailure(why or f"MCP server {server!r} has no tool {input.tool!r}; see mcp_tools")
        return await tool.run(arguments, ctx)


def lean(
    tools: Sequence[McpTool],
    limit: int | None = None,
    pending: Sequence[str] = (),
    more: PendingTools | None = None,
) -> list[Tool[Any]]:
    """The tools the model gets: the known ones while their definitions are small (up to `limit`,
    default `DEFER_ABOVE_BYTES`), else the two doors; the doors too when some servers are still
    `pending` (`more` lists their tools once they started)."""
    small = definitions_bytes(tools) <= (DEFER_ABOVE_BYTES if limit is None else limit)
    if small and not pending:
        return list(tools)
    doors = Doors([] if small else tools, pending, more or _nothing_pending)
    return [*(tools if small else []), McpToolSearch(doors), McpCall(doors)]


async def _nothing_pending(servers: Sequence[str]) -> tuple[list[McpTool], list[str]]:
    return [], []
