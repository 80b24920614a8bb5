"""`mcp_resources`: the resources and prompts of the run's MCP servers, through one small tool.

Without `uri` or `prompt` it lists what a server offers (resources, resource templates, prompts);
with `uri` it reads a resource; with `prompt` it renders a prompt with `arguments`. It is given to
the model only when a server announces resources or prompts. Each use asks for the permission
`mcp__<server>__resources` (pattern: the URI or prompt name), so rules such as
`mcp__docs__resources: allow` apply.
"""

import json
from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import Field

from agent.errors import ToolFailure, ToolInputError
from agent.events import ToolKindName
from agent.mcpclient.connection import ServerConnection
from agent.mcpclient.tools import PREFIX, resource_text
from agent.tool import PermissionRequest, Tool, ToolContext, ToolInput, ToolResult
from agent.tool_output import cap_output


class ResourcesInput(ToolInput):
    server: str = Field(description="The MCP server's name.")
    uri: str | None = Field(None, description="A resource to read (from the listing).")
    prompt: str | None = Field(None, description="A prompt to get (from the listing).")
    arguments: dict[str, str] = Field(default_factory=dict, description="The prompt's arguments.")


class McpResources(Tool[ResourcesInput]):
    """List, read and get the resources and prompts of the run's MCP servers."""

    name: ClassVar[str] = "mcp_resources"
    description: ClassVar[str] = ""
    input_model: ClassVar[type[ToolInput]] = ResourcesInput
    kind: ClassVar[ToolKindName] = "read"

    def __init__(self, connections: Sequence[ServerConnection]) -> None:
        self.connections = {c.name: c for c in connections}
        self.description = (  # type: ignore[misc]
            f"Resources and prompts of the MCP servers {', '.join(self.connections)}: give `server` "
            "alone to list them, with `uri` to read a resource, with `prompt` (and `arguments`) to "
            "get a prompt."
        )

    def schema(self) -> dict[str, Any]:  # type: ignore[override]
        base = super().schema()
        base["description"] = self.description
        return base

    def _connection(self, input: ResourcesInput) -> ServerConnection:
        found = self.connections.get(input.server)
        if found is None:
            raise ToolInputError(
                f"no MCP server {input.server!r} with resources; servers: {', '.join(self.connections)}"
            )
        return found

    def permission_requests(self, input: ResourcesInput, ctx: ToolContext) -> list[PermissionRequest]:
        self._connection(input)
        return [PermissionRequest(permission=f"{PREFIX}{input.server}__resources".lower(),
                                  patterns=[input.uri or input.prompt or "*"])]  # fmt: skip

    def title(self, input: ResourcesInput) -> str:
        what = input.uri or (f"prompt {input.prompt}" if input.prompt else "list")
        return f"{input.server}: resources {what}"

    async def run(self, input: ResourcesInput, ctx: ToolContext) -> ToolResult:
        from mcp import MCPError

        client = await self._connection(input).session()
        try:
            if input.uri is not None:
                read = await client.read_resource(input.uri)
                files: list[str] = []
                text = "\n".join(resource_text(c, files) for c in read.contents)
                capped = cap_output(text, ctx.limits, ctx.data_dir, label=self.name)
                saved = str(capped.saved_path) if capped.saved_path else None
                return ToolResult(output=capped.text, files_touched=files, full_output_path=saved)
            if input.prompt is not None:
                got = await client.get_prompt(input.prompt, input.arguments)
                text = "\n\n".join(
                    f"[{m.role}] {getattr(m.content, 'text', m.content)}" for m in got.messages
                )
                return ToolResult(output=text)
            return ToolResult(output=json.dumps(await _listing(client), indent=1, ensure_ascii=False))
        except MCPError as exc:
            raise ToolFailure(f"MCP server {input.server!r}: {exc}") from exc


async def _listing(client: Any) -> dict[str, Any]:
    """What the server offers; a kind it does not serve is left out."""
    from mcp import MCPError

    found: dict[str, Any] = {}
    for key, fetch, field in (
        ("resources", client.list_resources, "resources"),
        ("resource_templates", client.list_resource_templates, "resource_templates"),
        ("prompts", client.list_prompts, "prompts"),
    ):
        try:
            page = await fetch()
        except MCPError:
            continue
        found[key] = [item.model_dump(exclude_none=True, by_alias=True) for item in getattr(page, field)]
    return found
