"""The MCP servers of a run, as `run_agent` needs them: the parent's for a subagent, else a new
hub over the servers this workspace configures (`agent.mcpclient.sources`), opened before the
first request so their tools are in it, and closed when the run ends.

Nothing of the `mcp` SDK is imported when no server is configured, nor the hub, its tools and
their deferred loading: a run without servers pays one look for the files that could name them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.events import RunBoundary
from agent.mcpclient.config import ServerDef
from agent.mcpclient.sources import persona_servers, plan_servers

if TYPE_CHECKING:
    from agent.mcpclient.hub import McpHub


async def hub_for_run(
    *, cwd: Path, registry: Any, spec: Any, log_dir: Path, parent: Any, editor: Sequence[ServerDef] = ()
) -> tuple[McpHub | None, bool]:
    """(the hub the run uses or None, whether this run owns it and must close it).

    A subagent shares its root's hub (its own persona's servers are not added to it)."""
    shared = getattr(parent, "mcp", None) if parent is not None else None
    if shared is not None:
        return shared, False
    workspace = getattr(registry, "workspace", None) or cwd
    trusted = bool(getattr(registry, "trusted", True))
    persona = persona_servers(spec, workspace)
    plan = await asyncio.to_thread(plan_servers, workspace, trusted=trusted, editor=editor, persona=persona)
    if not (plan.usable or plan.skipped or plan.problems):
        return None, False
    from agent.mcpclient.hub import McpHub

    hub = McpHub(plan, log_dir=log_dir)
    return await hub.open(), True


def with_servers(boundary: RunBoundary, hub: McpHub | None, owned: bool) -> RunBoundary:
    """The run's boundary with its servers' states, and a line for each one skipped or failed
    and why (the root's only: a subagent shares the servers its root already reported)."""
    if hub is None or not owned:
        return boundary
    return boundary.model_copy(
        update={"refused": [*boundary.refused, *hub.notices()], "mcp_servers": hub.states()}
    )


def tools_of(hub: McpHub | None, taken: set[str], defer_above: int | None = None) -> dict[str, Any]:
    """The hub's tools by name (or, when their definitions are large, the two tools that load them
    on demand: `agent.mcpclient.deferred`), without any whose name a built-in tool already has."""
    if hub is None:
        return {}
    from agent.mcpclient.deferred import lean
    from agent.mcpclient.resources import with_resources

    mine = [t for t in hub.tools if t.name not in taken]
    extra = with_resources([c for c in hub.connections.values() if c.name not in hub.failed])
    return {t.name: t for t in [*lean(mine, defer_above), *extra] if t.name not in taken}
