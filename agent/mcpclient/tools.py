"""An MCP server's tools as runtime tools: `mcp__<server>__<tool>`, with the server's schema.

They go through the loop like the built-in tools: the permission gate (each asks for the
permission named like the tool, so `mcp__github__*: ask` matches; `readOnlyHint` never allows
anything), the same events, the same output cap with the whole result saved, the same
cancellation (the SDK sends `notifications/cancelled` when the call's task is cancelled), and a
per-call timeout (the server's `timeout`; past it the call is cancelled the same way). The
annotations only shape what is cheap to get wrong: a tool hinted read-only may run beside other
calls and takes no checkpoint first; any other tool of a server runs one at a time and is
checkpointed like an edit.
"""

import json
import re
from typing import Any, ClassVar
from urllib.parse import unquote, urlparse

from pydantic import BaseModel, ConfigDict

from agent.errors import McpServerError, ToolFailure
from agent.events import ToolKindName
from agent.mcpclient.connection import ServerConnection
from agent.tool import ImageBlock, PermissionRequest, Tool, ToolContext, ToolInput, ToolResult
from agent.tool_output import cap_output

PREFIX = "mcp__"
_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def tool_name(server: str, tool: str) -> str:
    """`mcp__<server>__<tool>`, in the characters and length the Messages API accepts."""
    return (PREFIX + server + "__" + _UNSAFE.sub("_", tool))[:64]


class ToolDef(BaseModel):
    """What the runtime keeps of a server's tool definition (from `tools/list`, or the cached
    listing: `agent.mcpclient.listing`)."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str | None = None
    title: str | None = None
    input_schema: dict[str, Any] = {"type": "object"}
    read_only: bool = False

    @classmethod
    def of(cls, tool: Any) -> "ToolDef":
        """The SDK's `Tool` as a definition."""
        hints = tool.annotations
        return cls(
            name=tool.name,
            description=tool.description,
            title=(hints.title if hints is not None else None) or tool.title,
            input_schema=dict(tool.input_schema or {"type": "object"}),
            read_only=bool(hints is not None and hints.read_only_hint),
        )


class McpInput(ToolInput):
    """Whatever the server's schema asks for: the server validates its own input."""

    model_config = ConfigDict(extra="allow")


class McpTool(Tool[McpInput]):
    """One tool of one MCP server."""

    input_model: ClassVar[type[ToolInput]] = McpInput
    description: ClassVar[str] = ""
    name: ClassVar[str] = ""
    kind: ClassVar[ToolKindName] = "other"

    def __init__(self, connection: ServerConnection, definition: ToolDef) -> None:
        self.connection = connection
        self.remote_name: str = definition.name
        self.read_only = definition.read_only
        self.name = tool_name(connection.name, definition.name)  # type: ignore[misc]
        self.description = definition.description or f"{definition.name} (MCP server {connection.name})"  # type: ignore[misc]
        self.kind = "read" if self.read_only else "other"  # type: ignore[misc]
        self.mutates = not self.read_only  # type: ignore[misc]
        self.input_schema: dict[str, Any] = dict(definition.input_schema)
        self.title_text = definition.title or definition.name

    def schema(self) -> dict[str, Any]:  # type: ignore[override]
        """The server's own definition: its input schema as it sent it."""
        return {"name": self.name, "description": self.description, "input_schema": self.input_schema}

    def permission_requests(self, input: McpInput, ctx: ToolContext) -> list[PermissionRequest]:
        return [PermissionRequest(permission=self.name.lower(), patterns=["*"])]

    def title(self, input: McpInput) -> str:
        return f"{self.connection.name}: {self.title_text}"

    def preview(self, input: McpInput, ctx: ToolContext) -> str:
        return f"MCP server {self.connection.name}, tool {self.remote_name}\n" + json.dumps(
            input.model_dump(), indent=2, ensure_ascii=False, default=str
        )

    def locations(self, input: McpInput, ctx: ToolContext) -> list[str]:
        """Absolute paths among the arguments (a filesystem server's `path`), for the editor."""
        return [v for v in input.model_dump().values() if isinstance(v, str) and v.startswith("/")][:10]

    def conflict_key(self, input: McpInput, ctx: ToolContext) -> str | None:
        return None if self.read_only else f"{PREFIX}{self.connection.name}"

    async def run(self, input: McpInput, ctx: ToolContext) -> ToolResult:
        from mcp import MCPError
        from mcp_types.jsonrpc import CONNECTION_CLOSED, REQUEST_TIMEOUT

        client = await self.connection.session()
        limit = self.connection.server.call_timeout_s
        try:
            result = await client.call_tool(self.remote_name, input.model_dump(), read_timeout_seconds=limit)
        except MCPError as exc:
            server = self.connection.name
            if exc.code == REQUEST_TIMEOUT:  # the SDK sent notifications/cancelled to the server
                raise McpServerError(
                    server, f"{self.remote_name} did not answer within {limit:g} s (its `timeout`); "
                    "the call was cancelled on the server",
                ) from exc  # fmt: skip
            if exc.code != CONNECTION_CLOSED:
                raise ToolFailure(f"MCP server {server!r} refused {self.remote_name}: {exc}") from exc
            raise await self._lost(exc) from exc
        except Exception as exc:  # the transport broke some other way
            raise await self._lost(exc) from exc
        return to_tool_result(result, ctx, label=self.name)

    async def _lost(self, exc: Exception) -> McpServerError:
        """The server went away during the call: say so with its stderr, and start it again next time."""
        await self.connection.stop()
        return self.connection.failure(
            f"stopped during {self.remote_name} ({type(exc).__name__}: {exc}); it is started again on "
            "the next call of one of its tools"
        )


def to_tool_result(result: Any, ctx: ToolContext, *, label: str) -> ToolResult:
    """An MCP `CallToolResult` as a tool result: text, images, resources, structured content."""
    texts: list[str] = []
    images: list[ImageBlock] = []
    files: list[str] = []
    for block in result.content or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            texts.append(block.text)
        elif kind == "image" and block.mime_type in _IMAGE_TYPES:
            images.append(ImageBlock(media_type=block.mime_type, data_base64=block.data))
        elif kind == "resource":
            texts.append(resource_text(block.resource, files))
        elif kind == "resource_link":
            files += _file_of(str(block.uri))
            texts.append(f"[resource link] {block.name}: {block.uri}")
        else:
            texts.append(f"[{kind or 'unknown'} content of {getattr(block, 'mime_type', '?')} not shown]")
    if not texts and result.structured_content is not None:
        texts.append(json.dumps(result.structured_content, indent=2, ensure_ascii=False))
    capped = cap_output("\n".join(texts), ctx.limits, ctx.data_dir, label=label)
    return ToolResult(
        output=capped.text,
        is_error=bool(result.is_error),
        images=images,
        files_touched=files,
        full_output_path=str(capped.saved_path) if capped.saved_path else None,
    )


def resource_text(resource: Any, files: list[str]) -> str:
    """A resource's text under its URI (a binary one only named); a `file://` one joins `files`."""
    uri = str(resource.uri)
    files += _file_of(uri)
    text = getattr(resource, "text", None)
    if text is not None:
        return f"[resource {uri}]\n{text}"
    return f"[binary resource {uri}, {resource.mime_type or 'unknown type'}, not shown]"


def _file_of(uri: str) -> list[str]:
    parsed = urlparse(uri)
    return [unquote(parsed.path)] if parsed.scheme == "file" and parsed.path else []
