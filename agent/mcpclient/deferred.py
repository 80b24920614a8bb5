"""Lean prompts: when the MCP tools' definitions pass `DEFER_ABOVE_BYTES`, the model gets two small
tools instead of them all: `mcp_tools` finds tools by keywords and returns their definitions, and
`mcp_call` calls one by name.

The tool list then never changes during a session, so the prompt cache's prefix (tools, system,
the earlier turns) holds; the definitions the model asked for sit in the conversation like any
tool result. `mcp_call` is a thin door to the real tool: the permission gate sees the real tool's
permission (`mcp__github__create_issue`), and its title, locations, scheduling and result are the
real tool's. (The Messages API's own tool search, `defer_loading`, would do the same server-side;
it is a beta the local test servers do not speak, and this works with any endpoint.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import Field

from agent.errors import ToolInputError
from agent.events import ToolKindName
from agent.mcpclient.tools import McpInput, McpTool
from agent.tool import PermissionRequest, Tool, ToolContext, ToolInput, ToolResult

DEFER_ABOVE_BYTES = 8_000
"""Past this many bytes of MCP tool definitions (about our whole first request without them), the
definitions are loaded on demand."""


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

    def __init__(self, tools: Sequence[McpTool]) -> None:
        self.tools = {t.name: t for t in tools}
        servers: dict[str, int] = {}
        for tool in tools:
            servers[tool.connection.name] = servers.get(tool.connection.name, 0) + 1
        listed = ", ".join(f"{name} ({count} tools)" for name, count in servers.items())
        self.description = (  # type: ignore[misc]
            f"Find tools of the MCP servers {listed} by keywords; returns their definitions. "
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
        words = [w for w in re.split(r"[^a-z0-9]+", input.query.lower()) if w]
        scored = sorted(
            ((sum(_score(t, w) for w in words), name) for name, t in self.tools.items()),
            key=lambda pair: (-pair[0], pair[1]),
        )
        found = [self.tools[name].schema() for score, name in scored[: input.max_results] if score > 0]
        if not found:
            return ToolResult(output=f"no MCP tool matches {input.query!r}; tools: {', '.join(self.tools)}")
        return ToolResult(output=json.dumps(found, indent=1, ensure_ascii=False))


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

    def __init__(self, tools: Sequence[McpTool]) -> None:
        self.tools = {t.name: t for t in tools}

    def _inner(self, input: CallInput) -> tuple[McpTool, McpInput]:
        tool = self.tools.get(input.tool)
        if tool is None:
            raise ToolInputError(f"no MCP tool {input.tool!r}; find one with mcp_tools")
        return tool, McpInput.model_validate(input.arguments)

    def permission_requests(self, input: CallInput, ctx: ToolContext) -> list[PermissionRequest]:
        tool, arguments = self._inner(input)
        return tool.permission_requests(arguments, ctx)

    def title(self, input: CallInput) -> str:
        tool = self.tools.get(input.tool)
        return tool.title(McpInput.model_validate(input.arguments)) if tool else f"mcp_call {input.tool}"

    def preview(self, input: CallInput, ctx: ToolContext) -> str:
        tool, arguments = self._inner(input)
        return tool.preview(arguments, ctx)

    def locations(self, input: CallInput, ctx: ToolContext) -> list[str]:
        tool = self.tools.get(input.tool)
        return tool.locations(McpInput.model_validate(input.arguments), ctx) if tool else []

    def conflict_key(self, input: CallInput, ctx: ToolContext) -> str | None:
        tool = self.tools.get(input.tool)
        return tool.conflict_key(McpInput.model_validate(input.arguments), ctx) if tool else None

    async def run(self, input: CallInput, ctx: ToolContext) -> ToolResult:
        tool, arguments = self._inner(input)
        return await tool.run(arguments, ctx)


def lean(tools: Sequence[McpTool], limit: int | None = None) -> list[Tool[Any]]:
    """The tools the model gets: all of them while their definitions are small (up to `limit`,
    default `DEFER_ABOVE_BYTES`), else the two doors."""
    if definitions_bytes(tools) <= (DEFER_ABOVE_BYTES if limit is None else limit):
        return list(tools)
    return [McpToolSearch(tools), McpCall(tools)]
