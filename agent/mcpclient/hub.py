"""The MCP servers of one run: started in the background, shared by its subagents, stopped with it.

`McpHub.start` starts every usable server side by side in the background (each within its own
start timeout, `ServerDef.start_timeout_s`) and lists its tools (within that time again), keeping
the listing for the next run (`agent.mcpclient.listing`); nothing waits for it. Which tools a
session offers is decided once per server (`offer`): the listing in hand (live, or the cached one)
or, for a server never listed, nothing yet: the model reaches those through `mcp_tools` and
`mcp_call` (`agent.mcpclient.deferred`), which wait for it. A call to a server that is still
starting waits for it; one that failed to start answers with the failure and its stderr tail; one
that crashed is started again on the next call (`ServerConnection.session`). `close` cancels what
is still starting and stops every server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from agent.errors import McpServerError
from agent.events import McpServerState
from agent.mcpclient.config import ServerDef
from agent.mcpclient.connection import ServerConnection
from agent.mcpclient.listing import ServerListing, cached_listing, save_listing
from agent.mcpclient.sources import ServerPlan
from agent.mcpclient.tools import McpTool, ToolDef


class McpHub:
    """The run's server connections, what they offer, and their background starts."""

    def __init__(self, plan: ServerPlan, *, log_dir: Path) -> None:
        self.plan = plan
        self.log_dir = log_dir
        self.connections: dict[str, ServerConnection] = {}
        self.add(plan.usable)
        self.tools: list[McpTool] = []
        """Every server's tools, once `open` listed them (`mcp-servers list`, `doctor`)."""
        self.failed: dict[str, str] = {}
        """Servers that did not start or list their tools: name -> why (with the stderr tail)."""
        self._listings: dict[str, ServerListing] = {}
        self._warming: dict[str, asyncio.Task[list[McpTool] | McpServerError]] = {}
        self._offered: dict[str, tuple[list[McpTool], bool] | None] = {}

    def add(self, servers: Iterable[ServerDef]) -> list[str]:
        """Join `servers` (a subagent persona's) to the hub, started with `start`; a name the hub
        already has for another definition keeps the hub's. Returns a notice for each such clash."""
        clashes = []
        for server in servers:
            held = self.connections.get(server.name)
            if held is None:
                self.connections[server.name] = ServerConnection(
                    server, cwd=self.plan.workspace, log_dir=self.log_dir
                )
            elif held.server.fingerprint() != server.fingerprint():
                clashes.append(
                    f"MCP server `{server.name}` ({server.source}) not started: the run's server of "
                    f"that name ({held.server.source}) is used"
                )
        return clashes

    def start(self) -> McpHub:
        """Start, in the background, every server not started yet, and list its tools."""
        for name, connection in self.connections.items():
            if name not in self._warming:
                self._warming[name] = asyncio.create_task(self._warm(connection), name=f"mcp-start-{name}")
        return self

    async def _warm(self, connection: ServerConnection) -> list[McpTool] | McpServerError:
        limit = connection.server.start_timeout_s
        try:
            await asyncio.to_thread(_import_sdk)  # the SDK's import off the loop: requests go on
            client = await connection.session()
            found = await asyncio.wait_for(_all_tools(client), limit)
        except McpServerError as exc:
            self.failed[connection.name] = exc.reason
            return exc
        except TimeoutError:  # it answered the handshake but not tools/list
            error = connection.failure(f"did not list its tools within {limit:g} s")
            self.failed[connection.name] = error.reason
            return error
        except Exception as exc:  # tools/list answered with an error, or the server went away
            error = connection.failure(f"could not list its tools: {type(exc).__name__}: {exc}")
            self.failed[connection.name] = error.reason
            return error
        listing = ServerListing(
            tools=[ToolDef.of(t) for t in found], offers_resources=connection.offers_resources
        )
        self._listings[connection.name] = listing
        await asyncio.to_thread(save_listing, self.plan.workspace, connection.server, listing)
        return [McpTool(connection, d) for d in listing.tools]

    async def listed(self, name: str) -> list[McpTool]:
        """The server's tools, once it started (waits for its background start).

        Raises:
            McpServerError: it failed to start or to list its tools (with its stderr tail).
        """
        found = await asyncio.shield(self.start()._warming[name])
        if isinstance(found, McpServerError):
            raise found
        return found

    async def open(self) -> McpHub:
        """Start every server and wait until each listed its tools or failed."""
        listed = await asyncio.gather(*(asyncio.shield(t) for t in self.start()._warming.values()))
        self.tools = [tool for tools in listed if isinstance(tools, list) for tool in tools]
        return self

    def offer(self, names: Sequence[str]) -> tuple[list[McpTool], list[str]]:
        """(the tools of `names` whose listing is known, the names of those not listed yet).

        Decided once per server for the hub's life, so every turn and every run on this hub (an
        ACP session's prompts, the subagents) sends the same tool list."""
        known: list[McpTool] = []
        pending: list[str] = []
        for name in names:
            if name not in self._offered:
                self._offered[name] = self._known(self.connections[name])
            offered = self._offered[name]
            if offered is None:
                pending.append(name)
            else:
                known += offered[0]
        return known, pending

    def _known(self, connection: ServerConnection) -> tuple[list[McpTool], bool] | None:
        listing = self._listings.get(connection.name) or cached_listing(
            self.plan.workspace, connection.server
        )
        if listing is None:
            return None
        return [McpTool(connection, d) for d in listing.tools], listing.offers_resources

    def with_resources(self, names: Sequence[str]) -> list[ServerConnection]:
        """The servers of `names` offered with their listing that announce resources or prompts."""
        return [self.connections[n] for n in names if (o := self._offered.get(n)) is not None and o[1]]

    async def pending_tools(self, names: Sequence[str]) -> tuple[list[McpTool], list[str]]:
        """(the tools of the servers `names`, once started; why each that failed did)."""
        tools: list[McpTool] = []
        failures: list[str] = []
        for name in names:
            try:
                tools += await self.listed(name)
            except McpServerError as exc:
                failures.append(str(exc))
        return tools, failures

    def states(self, names: Sequence[str]) -> list[McpServerState]:
        """The state of each of `names` now (`pending` while it starts, `connected` once it listed
        its tools, `failed` with why), and the plan's servers not started as `disabled` (a
        skipped server whose name a started one has is left out: that name is listed once)."""
        out = [
            McpServerState(name=name, status="failed", error=self.failed[name])
            if name in self.failed
            else McpServerState(name=name, status="connected" if name in self._listings else "pending")
            for name in names
        ]
        for skipped in self.plan.skipped:
            if skipped.server.name not in {state.name for state in out}:
                out.append(McpServerState(name=skipped.server.name, status="disabled"))
        return out

    async def close(self) -> None:
        """Cancel the starts still going, and stop every server (idempotent)."""
        for task in self._warming.values():
            task.cancel()
        if self._warming:
            await asyncio.wait(self._warming.values())
        await asyncio.gather(*(c.close() for c in self.connections.values()), return_exceptions=True)


def _import_sdk() -> None:
    import mcp  # noqa: F401


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
