"""The MCP servers of a run, as `run_agent` needs them.

A root run makes a hub over the servers its workspace configures (`agent.mcpclient.sources`) and
starts them in the background: its first request does not wait for them (`agent.mcpclient.hub`).
A front end that keeps a session open across runs (ACP) hands a `KeptHub`, so the servers start
once per session and stop when it ends.
A subagent shares its root's hub and adds its persona's
own servers to it (the same trust rules: a workspace persona's need approval); its tool list names
the run's servers and its own.

Nothing of the `mcp` SDK is imported when no server is configured, nor the hub, its tools and
their deferred loading: a run without servers pays one look for the files that could name them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.events import RunBoundary
from agent.mcpclient.config import ServerDef
from agent.mcpclient.sources import ServerPlan, gate_servers, persona_servers, plan_servers

if TYPE_CHECKING:
    from agent.mcpclient.hub import McpHub


@dataclass(eq=False, repr=False)
class RunServers:
    """The hub a run uses, the servers of it that are the run's, and what the run must say."""

    hub: McpHub
    names: list[str]
    owned: bool
    """Whether this run started the hub and stops it when it ends."""
    notices: list[str] = field(default_factory=list)

    async def close(self) -> None:
        if self.owned:
            await self.hub.close()


class KeptHub:
    """One hub kept across the runs of a front end's session (an ACP session's prompts): reused
    while the servers a run would use are the same definitions, replaced when they change."""

    def __init__(self) -> None:
        self.hub: McpHub | None = None

    def hub_for(self, plan: ServerPlan, log_dir: Path) -> tuple[McpHub, McpHub | None]:
        """(the hub for `plan`, a replaced hub the caller must close)."""
        from agent.mcpclient.hub import McpHub

        held = self.hub
        if held is not None and _defined(held.plan) == _defined(plan):
            return held, None
        self.hub = McpHub(plan, log_dir=log_dir).start()
        return self.hub, held

    async def close(self) -> None:
        """Stop the kept servers (when the session ends or closes)."""
        held, self.hub = self.hub, None
        if held is not None:
            await held.close()


def _defined(plan: ServerPlan) -> list[tuple[str, str]]:
    return sorted((s.name, s.fingerprint()) for s in plan.usable)


async def servers_for_run(
    *,
    cwd: Path,
    registry: Any,
    spec: Any,
    log_dir: Path,
    parent: Any,
    editor: Sequence[ServerDef] = (),
    kept: KeptHub | None = None,
) -> RunServers | None:
    """The run's servers, started in the background; None when no server is configured."""
    workspace = getattr(registry, "workspace", None) or cwd
    trusted = bool(getattr(registry, "trusted", True))
    persona = persona_servers(spec, workspace)
    shared: RunServers | None = getattr(parent, "mcp", None) if parent is not None else None
    if shared is not None:
        return _joined(shared, gate_servers(workspace, persona, trusted=trusted))
    plan = await asyncio.to_thread(plan_servers, workspace, trusted=trusted, editor=editor, persona=persona)
    if not (plan.usable or plan.skipped or plan.problems):
        return None
    from agent.mcpclient.hub import McpHub

    names = [s.name for s in plan.usable]
    if kept is None:
        return RunServers(McpHub(plan, log_dir=log_dir).start(), names, owned=True, notices=plan.notices())
    hub, replaced = kept.hub_for(plan, log_dir)
    if replaced is not None:
        await replaced.close()
    return RunServers(hub, names, owned=False, notices=plan.notices())


def _joined(parent: RunServers, plan: ServerPlan) -> RunServers:
    """A subagent's share of its root's hub: the servers its parent uses, and its persona's own."""
    hub = parent.hub
    clashes = hub.add(plan.usable)
    hub.start()
    names = list(dict.fromkeys([*parent.names, *(s.name for s in plan.usable)]))
    return RunServers(hub, names, owned=False, notices=[*plan.notices(), *clashes])


def with_servers(boundary: RunBoundary, servers: RunServers | None, *, root: bool) -> RunBoundary:
    """The run's boundary with a line for each server skipped and why, and (the root's only: a
    subagent shares its root's) each server's state as the run starts."""
    if servers is None:
        return boundary
    update: dict[str, Any] = {"refused": [*boundary.refused, *servers.notices]}
    if root:
        update["mcp_servers"] = servers.hub.states(servers.names)
    return boundary.model_copy(update=update)


def tools_of(servers: RunServers | None, taken: set[str], defer_above: int | None = None) -> dict[str, Any]:
    """The run's MCP tools by name: those whose listing is known (or, when their definitions are
    large, the two tools that load them on demand: `agent.mcpclient.deferred`), the two doors to
    the servers never listed yet, and `mcp_resources`; without any whose name a built-in tool has."""
    if servers is None:
        return {}
    from agent.mcpclient.deferred import lean
    from agent.mcpclient.resources import McpResources

    hub = servers.hub
    known, pending = hub.offer(servers.names)
    mine = [t for t in known if t.name not in taken]
    offering = hub.with_resources(servers.names)
    extra = [McpResources(offering)] if offering else []
    return {
        t.name: t
        for t in [*lean(mine, defer_above, pending, hub.pending_tools), *extra]
        if t.name not in taken
    }
