"""`subagent agents list|show`: the agents a workspace can use, where each came from, and why not.

A workspace agent that replaces a built-in or user agent says which one it shadows; in an
untrusted workspace, the keys its files set that were refused are listed (docs/security.md).

The registry is imported inside the commands so that `subagent --version` stays cheap; nothing
here imports anthropic. A workspace's personas are written by whoever wrote the repository: every
field is shown through `for_terminal`, as `Text` (never markup).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from agent.cli.app import app
from agent.terminal.safe_text import for_terminal

if TYPE_CHECKING:
    from agent.registry.discovery import AgentRegistry
    from agent.registry.spec import AgentSpec

agents_app = typer.Typer(
    help="List the agents this workspace can use, or show one in full.", no_args_is_help=True
)
app.add_typer(agents_app, name="agents")

_CWD = typer.Option(None, "--cwd", help="The workspace folder (default: the current folder).")
_JSON = typer.Option(False, "--json", help="Print JSON for programs instead of a table.")


def _registry(cwd: Path | None) -> AgentRegistry:
    from agent.registry.discovery import load_registry_for

    return load_registry_for(cwd or Path.cwd())


def _error_rows(registry: AgentRegistry) -> list[dict[str, Any]]:
    return [
        {
            "path": str(e.path),
            "line": getattr(e, "line", None),
            "key": getattr(e, "key", None),
            "reason": e.reason,
        }
        for e in registry.errors
    ]


def _resolved_model(spec: AgentSpec, registry: AgentRegistry) -> str:
    """The model id a run of this agent on its own would use (`inherit`: the default model)."""
    from agent.model.resolve import resolve_model_id

    return resolve_model_id(registry.config, spec.model, None)


def _short_source(source: Path | None, registry: AgentRegistry) -> str:
    """A source path people can read in a table: relative to the workspace or the built-ins."""
    from agent.paths import builtin_dir

    if source is None:
        return ""
    for root, label in ((registry.workspace, ""), (builtin_dir(), "(built-in) ")):
        if root is not None and source.resolve().is_relative_to(root.resolve()):
            return label + source.resolve().relative_to(root.resolve()).as_posix()
    return str(source)


def _shadows(name: str, registry: AgentRegistry) -> str | None:
    """The file of the built-in or user agent a workspace agent replaces, or None."""
    if name not in registry.shadows:
        return None
    return str(registry.shadows[name] or "(built-in)")


def _source_cell(spec: AgentSpec, registry: AgentRegistry) -> str:
    cell = _short_source(spec.source, registry)
    if spec.name in registry.shadows:
        cell += f"\n(shadows {_short_source(registry.shadows[spec.name], registry) or 'a built-in agent'})"
    return cell


def _print_refusals(registry: AgentRegistry, name: str | None, echo: Any) -> None:
    refusals = registry.refusals if name is None else registry.refusals_for(name)
    for refusal in refusals:
        echo(f"refused: {refusal}")


@agents_app.command("list")
def list_agents(cwd: Path | None = _CWD, as_json: bool = _JSON) -> None:
    """List every agent: name, mode, model, description, the file it came from and what it shadows."""
    registry = _registry(cwd)
    rows = [
        {
            "name": a.name,
            "mode": a.mode,
            "model": a.model or registry.config.defaults.model,
            "description": a.description,
            "source": str(a.source) if a.source else None,
            "dialect": a.dialect,
            "shadows": _shadows(a.name, registry),
        }
        for a in sorted(registry.agents.values(), key=lambda a: a.name)
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        for err in registry.errors:
            typer.echo(f"error: {for_terminal(str(err))}", err=True)
        _print_refusals(registry, None, lambda line: typer.echo(for_terminal(line), err=True))
        return
    from rich.table import Table
    from rich.text import Text

    from agent.terminal.console import terminal_console

    console = terminal_console()
    trust = "trusted" if registry.trusted else "not trusted: its files may only tighten your config"
    where = for_terminal(str(registry.workspace), name=True, one_line=True)
    table = Table(title=Text(f"Agents for {where} ({trust})"))
    for column in ("name", "mode", "model"):
        table.add_column(column, no_wrap=True)
    table.add_column("description", overflow="fold", ratio=2)
    table.add_column("source", overflow="fold", ratio=1)
    for row, spec in zip(rows, sorted(registry.agents.values(), key=lambda a: a.name), strict=True):
        names = (row["name"], row["mode"], row["model"])
        table.add_row(
            *(Text(for_terminal(str(cell), name=True)) for cell in names),
            Text(for_terminal(row["description"] or "")),
            Text(for_terminal(_source_cell(spec, registry), name=True)),
        )
    console.print(table)
    for err in registry.errors:
        console.print(Text.assemble(("error", "red"), " ", for_terminal(str(err))))
    _print_refusals(registry, None, lambda line: console.print(Text(for_terminal(line), style="yellow")))


@agents_app.command("show")
def show_agent(
    name: str = typer.Argument(..., help="The agent's name."),
    cwd: Path | None = _CWD,
    as_json: bool = _JSON,
    prompt_stats: bool = typer.Option(
        False, "--prompt-stats", help="Bytes of each part of the agent's first request."
    ),
    rules: bool = typer.Option(
        False, "--rules", help="The effective permission rules, in order, with the file and line of each."
    ),
) -> None:
    """Show one agent as a run would use it: model, temperature, tools, permission rules, prompt."""
    from agent.errors import ConfigError

    registry = _registry(cwd)
    try:
        spec = registry.get(name)
        resolved = _resolved_model(spec, registry)  # another provider than Anthropic is refused
    except ConfigError as exc:
        typer.echo(f"error: {for_terminal(str(exc))}", err=True)
        raise typer.Exit(2) from None
    if prompt_stats:
        _print_prompt_stats(spec, cwd or Path.cwd(), as_json)
        return
    if rules:
        _print_rules(spec, as_json)
        if not as_json:
            _print_refusals(registry, spec.name, lambda line: typer.echo(for_terminal(line), err=True))
        return
    data = spec.model_dump(mode="json")
    data["resolved_model"] = resolved
    data["prompt_length"] = len(spec.prompt)
    data["shadows"] = _shadows(spec.name, registry)
    data["refused"] = [str(r) for r in registry.refusals_for(spec.name)]
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    from rich.table import Table
    from rich.text import Text

    from agent.terminal.console import terminal_console

    table = Table(show_header=False, title=Text(f"Agent {for_terminal(spec.name, name=True, one_line=True)}"))
    table.add_column("key", style="bold")
    table.add_column("value", overflow="fold")
    for key in (
        "description",
        "mode",
        "model",
        "resolved_model",
        "temperature",
        "top_p",
        "max_turns",
        "max_output_tokens",
        "can_delegate",
        "verify",
        "network",
        "dialect",
        "source",
        "shadows",
    ):
        value = "" if data[key] is None else str(data[key])
        table.add_row(key, Text(for_terminal(value, name=key != "description")))
    table.add_row("tools", Text(for_terminal(", ".join(spec.tools), name=True)))
    listed = "\n".join(f"{r.permission} {r.pattern} -> {r.decision}  ({r.source})" for r in spec.permission)
    table.add_row("permission", Text(for_terminal(listed, name=True) or "(defaults)"))
    table.add_row("prompt", f"{data['prompt_length']} characters")
    console = terminal_console()
    console.print(table)
    _print_refusals(registry, spec.name, lambda line: console.print(Text(for_terminal(line), style="yellow")))


def _print_rules(spec: AgentSpec, as_json: bool) -> None:
    """Every rule a run of `spec` starts with (the defaults, then the config's and the agent's),
    each with where it came from."""
    from agent.permissions.rules import DEFAULT_RULES
    from agent.registry.rule_origin import rule_origin

    effective = [*DEFAULT_RULES, *spec.permission]
    rows = [
        {"permission": r.permission, "pattern": r.pattern, "decision": r.decision, "from": rule_origin(r)}
        for r in effective
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    typer.echo(
        "# in order; the last matching rule decides, except that a deny from any file holds "
        "(docs/permissions.md)"
    )
    for row in rows:
        line = f"{row['decision']:<5}  {row['permission']}  {row['pattern']}  ({row['from']})"
        typer.echo(for_terminal(line, name=True))


def _print_prompt_stats(spec: AgentSpec, cwd: Path, as_json: bool) -> None:
    import asyncio

    from agent.context.prompt_stats import prompt_stats
    from agent.prompt.instructions import load_project_instructions
    from agent.prompt.request import environment_block
    from agent.runtime.parts import default_parts

    tools = default_parts().load_tools([t for t in spec.tools if t != "webfetch"])
    workspace = cwd.resolve()
    instructions = load_project_instructions(workspace).text
    stats = prompt_stats(spec, tools, asyncio.run(environment_block(workspace)), instructions=instructions)
    if as_json:
        typer.echo(stats.model_dump_json(indent=2))
        return
    rows = [
        ("persona", stats.persona_bytes),
        ("instructions", stats.instructions_bytes),
        ("environment", stats.env_bytes),
        ("system (as sent)", stats.system_bytes),
        *((f"tool {n}", b) for n, b in stats.tool_bytes.items()),
        ("tools (as sent)", stats.tools_bytes),
        ("first request", stats.total_bytes),
    ]
    for label, size in rows:
        typer.echo(f"{label:<20} {size:>8,} bytes")
    typer.echo(f"{'':<20} ~{stats.total_tokens:,} tokens at 4 bytes each")
