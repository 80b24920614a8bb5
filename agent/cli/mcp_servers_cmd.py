"""`subagent mcp-servers list|approve`: the MCP servers a workspace's runs use, and approving the
ones the workspace itself defines.

`list` says where each server comes from, whether it starts (or why not) and, for those that
start, their tools (it starts them to ask, and stops them). `approve NAME` records the user's
approval of a workspace server's exact definition (`agent.mcpclient.approvals`): a later change
to it needs approving again. Nothing here imports anthropic.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import typer

from agent.cli.app import app

mcp_servers_app = typer.Typer(
    name="mcp-servers", help="The MCP servers runs here use; approve the ones the workspace defines.",
    no_args_is_help=True,
)  # fmt: skip
app.add_typer(mcp_servers_app, name="mcp-servers")

_CWD = typer.Option(None, "--cwd", help="A folder in the workspace (default: the current one).")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _workspace(cwd: Path | None) -> tuple[Path, bool]:
    from agent.errors import ConfigError
    from agent.registry.discovery import find_workspace
    from agent.trust.store import is_trusted

    folder = (cwd or Path.cwd()).expanduser()
    if not folder.is_dir():
        raise _fail(f"{folder} is not a folder")
    workspace = find_workspace(folder)
    try:
        return workspace, is_trusted(workspace)
    except ConfigError as exc:
        raise _fail(str(exc)) from None


@mcp_servers_app.command("approve")
def approve_command(
    name: str = typer.Argument(..., help="The server's name."), cwd: Path | None = _CWD
) -> None:
    """Let this workspace start its server NAME, exactly as it is defined now."""
    from agent.errors import ConfigError
    from agent.mcpclient.approvals import approve
    from agent.mcpclient.sources import all_persona_servers, configured

    workspace, _ = _workspace(cwd)
    try:
        mine, theirs, _problems = configured(workspace, persona=all_persona_servers(workspace))
        found = [s for s in theirs if s.name == name]
        if not found:
            if any(s.name == name for s in mine):
                typer.echo(f"`{name}` is defined in your own config: it needs no approval")
                return
            known = ", ".join(sorted({s.name for s in theirs})) or "none"
            raise _fail(f"this workspace ({workspace}) defines no MCP server `{name}`; its servers: {known}")
        server = found[-1]
        approve(workspace, server)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"approved `{name}` for {workspace} ({server.source}):")
    typer.echo("  " + json.dumps(server.transport.model_dump(exclude_defaults=True)))
    typer.echo("a change to this definition needs approving again")


@mcp_servers_app.command("list")
def list_command(
    cwd: Path | None = _CWD,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    tools: bool = typer.Option(
        True, "--tools/--no-tools", help="Start the servers that may start, to list their tools."
    ),
) -> None:
    """Every MCP server of this workspace: where it comes from, whether it starts, its tools."""
    from agent.errors import ConfigError
    from agent.mcpclient.sources import all_persona_servers, plan_servers

    workspace, trusted = _workspace(cwd)
    try:
        plan = plan_servers(workspace, trusted=trusted, persona=all_persona_servers(workspace))
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    rows: list[dict[str, Any]] = [{**_row(s), "status": "starts", "tools": []} for s in plan.usable]
    rows += [{**_row(s.server), "status": "skipped", "why": s.reason} for s in plan.skipped]
    if tools and plan.usable:
        _add_tools(plan, rows)
    if as_json:
        typer.echo(json.dumps({"workspace": str(workspace), "trusted": trusted, "servers": rows,
                               "problems": plan.problems}, indent=2))  # fmt: skip
        return
    _print(workspace, trusted, rows, plan.problems)


def _row(server: Any) -> dict[str, Any]:
    return {
        "name": server.name,
        "scope": server.scope,
        "source": server.source,
        "transport": server.transport.model_dump(exclude_defaults=True) | {"type": server.transport.type},
    }


def _add_tools(plan: Any, rows: list[dict[str, Any]]) -> None:
    import tempfile

    from agent.mcpclient.hub import McpHub

    async def collect() -> McpHub:
        with tempfile.TemporaryDirectory() as logs:
            hub = McpHub(plan, log_dir=Path(logs))
            try:
                return await hub.open()
            finally:
                await hub.close()

    hub = asyncio.run(collect())
    for row in rows:
        if row["status"] != "starts":
            continue
        if row["name"] in hub.failed:
            row.update(status="failed", why=hub.failed[row["name"]])
        row["tools"] = [t.name for t in hub.tools if t.connection.name == row["name"]]


def _print(workspace: Path, trusted: bool, rows: list[dict[str, Any]], problems: list[str]) -> None:
    typer.echo(f"workspace: {workspace} ({'trusted' if trusted else 'not trusted'})")
    if not rows:
        typer.echo("no MCP servers configured (.mcp.json, opencode.json, mcp_servers in your config)")
    for row in rows:
        typer.echo(f"{row['name']}  [{row['scope']}]  {row['source']}  {row['status']}")
        if row.get("why"):
            typer.echo(f"    {row['why']}")
        for name in row.get("tools", []):
            typer.echo(f"    {name}")
    for problem in problems:
        typer.echo(f"problem: {problem}")
