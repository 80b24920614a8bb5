"""The MCP servers of one run: started once, shared by its subagents, stopped with it.

`McpHub.open` connects to every usable server at once (each within its start timeout) and lists
its tools; a server that fails is left out of the tool list and named in the run's notice with
its stderr tail, and the run goes on. A server that crashes later is started again on the next
call of one of its tools (`ServerConnection.session`).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from agent.errors import McpServerError
from agent.events import McpServerState
from agent.mcpclient.connection import ServerConnection
from agent.mcpclient.sources import ServerPlan
from agent.mcpclient.tools import McpTool


class McpHub:
    """The run's server connections and the tools they brought."""

    def __init__(self, plan: ServerPlan, *, log_dir: Path, start_timeout_s: float = 30.0) -> None:
        self.plan = plan
        self.connections = {
            s.name: ServerConnection(s, cwd=plan.workspace, log_dir=log_dir, start_timeout_s=start_timeout_s)
            for s in plan.usable
        }
        self.tools: list[McpTool] = []
        self.failed: dict[str, str] = {}
        """Servers that did not start or list their tools: name -> why (with the stderr tail)."""

    async def open(self) -> McpHub:
        """Start every usable server side by side and collect their tools."""
        listed = await asyncio.gather(*(self._list(c) for c in self.connections.values()))
        self.tools = [tool for tools in listed for tool in tools]
        return self

    async def _list(self, connection: ServerConnection) -> list[McpTool]:
        try:
            client = await connection.session()
            definitions = await _all_tools(client)
        except McpServerError as exc:
            self.failed[connection.name] = exc.reason
            return []
        except Exception as exc:  # a server that answers the handshake but not tools/list
            self.failed[connection.name] = connection.failure(f"could not list its tools: {exc}").reason
            return []
        return [McpTool(connection, d) for d in definitions]

    def notices(self) -> list[str]:
        """What a person must know at the run's start: servers skipped, servers that failed."""
        failed = [f"MCP server `{name}` failed to start: {why}" for name, why in self.failed.items()]
        return [*self.plan.notices(), *failed]

    def states(self) -> list[McpServerState]:
        """Each server's state once `open` returned: connected or failed (with why), and the
        ones not started as disabled (a skipped server whose name a started one has is left
        out: that name is listed once, with the server that runs)."""
        out = [
            McpServerState(name=name, status="failed", error=self.failed[name])
            if name in self.failed
            else McpServerState(name=name, status="connected")
            for name in self.connections
        ]
        for skipped in self.plan.skipped:
            if skipped.server.name not in {state.name for state in out}:
                out.append(McpServerState(name=skipped.server.name, status="disabled"))
        return out

    async def close(self) -> None:
        """Stop every server (idempotent)."""
        await asyncio.gather(*(c.close() for c in self.connections.values()), return_exceptions=True)


async def _all_tools(client: Any) -> list[Any]:
    """Every page of `tools/list`."""
    tools: list[Any] = []
    cursor: str | None = None
    while True:
        page = await client.list_tools(cursor=cursor)
        tools += page.tools
        cursor = page.next_cursor
        if not cursor:
            return tools
