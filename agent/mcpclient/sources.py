"""Every MCP server a run may use, where each was defined, and which may start.

Sources, by whose they are:
- the user's: `mcp_servers` in the built-in `agents.yaml` and the user's `config.yaml`, and the
  editor's (ACP `mcpServers`): trusted, they start;
- the workspace's: `.mcp.json`, `opencode.json`'s `mcp` block, `mcp_servers` in
  `.subagent/config.yaml`, and `mcpServers` in a workspace persona: programs the repository asks
  the user to run. They start only in a trusted workspace, or once the user approved exactly
  that definition (`agent.mcpclient.approvals`).

On a name clash the user's or the editor's server wins over the workspace's (a repository cannot
replace a server the user set up by naming its own the same), and within one side the later
source wins. What does not start is listed with the reason and the command that changes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.errors import ConfigError, PersonaError, RegistryError
from agent.mcpclient.approvals import approval_of
from agent.mcpclient.config import ServerDef, servers_from_claude
from agent.mcpclient.project_files import claude_servers, opencode_servers
from agent.registry.layers import read_layer, trusted_layers, workspace_layers


@dataclass(frozen=True, eq=False, repr=False)
class Skipped:
    """A configured server that will not start, and why."""

    server: ServerDef
    reason: str

    def line(self) -> str:
        return f"MCP server `{self.server.name}` ({self.server.source}) not started: {self.reason}"


@dataclass(eq=False, repr=False)
class ServerPlan:
    """What a run does with the configured servers."""

    workspace: Path
    usable: list[ServerDef] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Config files that name servers but do not load (file and reason)."""

    def notices(self) -> list[str]:
        return [s.line() for s in self.skipped] + [f"MCP config: {p}" for p in self.problems]


def _layer_servers(workspace: Path, problems: list[str]) -> tuple[list[ServerDef], list[ServerDef]]:
    """Our own `mcp_servers` in the trusted layers and in the workspace's config."""
    errors: list[PersonaError | RegistryError] = []  # a broken layer is the registry's to report
    mine: list[ServerDef] = []
    theirs: list[ServerDef] = []
    for layers, scope, out in (
        (trusted_layers(), "user", mine),
        (workspace_layers(workspace), "workspace", theirs),
    ):
        for layer in layers:
            block = read_layer(layer, errors, workspace).raw.get("mcp_servers")
            try:
                out += servers_from_claude(block, source=str(layer.path), scope=scope)  # type: ignore[arg-type]
            except ConfigError as exc:
                problems.append(str(exc))
    return mine, theirs


def configured(
    workspace: Path, *, editor: Sequence[ServerDef] = (), persona: Sequence[ServerDef] = ()
) -> tuple[list[ServerDef], list[ServerDef], list[str]]:
    """(the user's and editor's servers, the workspace's servers, problems), each in source order."""
    problems: list[str] = []
    mine, theirs = _layer_servers(workspace, problems)
    project: list[ServerDef] = []
    for reader in (claude_servers, opencode_servers):
        try:
            project += reader(workspace)
        except ConfigError as exc:
            problems.append(str(exc))
    trusted_persona = [s for s in persona if s.scope != "workspace"]
    workspace_persona = [s for s in persona if s.scope == "workspace"]
    return [*mine, *trusted_persona, *editor], [*project, *theirs, *workspace_persona], problems


def plan_servers(
    workspace: Path,
    *,
    trusted: bool,
    editor: Sequence[ServerDef] = (),
    persona: Sequence[ServerDef] = (),
) -> ServerPlan:
    """Which configured servers may start in `workspace` (trusted or not), and which not and why."""
    mine, theirs, problems = configured(workspace, editor=editor, persona=persona)
    plan = ServerPlan(workspace=workspace, problems=problems)
    chosen: dict[str, ServerDef] = {s.name: s for s in mine}
    for server in theirs:
        if server.name in chosen and chosen[server.name].scope != "workspace":
            winner = chosen[server.name]
            plan.skipped.append(Skipped(server, f"the server of the same name in {winner.source} is used"))
            continue
        chosen[server.name] = server
    gated = gate_servers(workspace, list(chosen.values()), trusted=trusted)
    plan.usable, plan.skipped = gated.usable, [*plan.skipped, *gated.skipped]
    return plan


def gate_servers(workspace: Path, servers: Sequence[ServerDef], *, trusted: bool) -> ServerPlan:
    """Which of `servers` may start (a subagent persona's own, or every configured one): the
    user's and the editor's; the workspace's in a trusted folder or once approved."""
    plan = ServerPlan(workspace=workspace)
    for server in servers:
        reason = None if server.scope != "workspace" or trusted else _untrusted_reason(workspace, server)
        if reason is None:
            plan.usable.append(server)
        else:
            plan.skipped.append(Skipped(server, reason))
    return plan


def persona_servers(spec: Any, workspace: Path) -> list[ServerDef]:
    """The servers an agent's persona defines (`mcpServers`): the workspace's when its file is in
    the workspace, else the user's.

    Raises:
        ConfigError: a malformed definition (the persona's file named).
    """
    block = getattr(spec, "mcp_servers", None)
    if not block:
        return []
    source: Path | None = getattr(spec, "source", None)
    mine = source is None or not source.resolve().is_relative_to(workspace.resolve())
    return servers_from_claude(block, source=str(source or spec.name), scope="user" if mine else "workspace")


def all_persona_servers(workspace: Path) -> list[ServerDef]:
    """The servers of every persona this workspace can run (for `subagent mcp-servers`)."""
    from agent.registry.discovery import load_registry_for

    found: list[ServerDef] = []
    for spec in load_registry_for(workspace).agents.values():
        found += persona_servers(spec, workspace)
    return found


def _untrusted_reason(workspace: Path, server: ServerDef) -> str | None:
    """None when the user approved this definition, else why it does not start and what to do."""
    state = approval_of(workspace, server)
    if state == "approved":
        return None
    how = (
        f"run `subagent mcp-servers approve {server.name}` in {workspace} to start it, "
        "or trust the folder (`subagent trust`)"
    )
    if state == "changed":
        return f"its definition changed since you approved it; {how}"
    return f"the workspace is not trusted and you have not approved this server; {how}"
