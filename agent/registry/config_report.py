"""Which config files a run here reads, and what of them it does not apply: `subagent doctor`.

Every layer file that exists (ours and the peers', `agent.registry.layers`) is listed with its
scope; under it, each part not applied (`key: why`) and each key refused because the folder is
not trusted; then the skills and custom commands found (and those left out), and peer files
this runtime does not read at all, with the reason.
"""

from __future__ import annotations

from pathlib import Path

from agent.registry.discovery import AgentRegistry

_NOT_READ: tuple[tuple[str, str], ...] = (
    ("opencode.jsonc", "only opencode.json is read: rename it, without the comments"),
    (".opencode/plugin", "opencode's JavaScript plugins are not run; hooks are (docs/hooks.md)"),
    (".opencode/plugins", "opencode's JavaScript plugins are not run; hooks are (docs/hooks.md)"),
    (".opencode/tool", "opencode's custom tools (TypeScript) are not loaded; an MCP server can bring tools"),
    (".opencode/tools", "opencode's custom tools (TypeScript) are not loaded; an MCP server can bring tools"),
    (".claude/output-styles", "Claude Code's output styles are not read by subagent"),
)
_MCP_FILES = (".mcp.json",)
"""Read by the MCP client (agent.mcpclient); its servers are doctor's `mcp` checks."""


def _unread(workspace: Path) -> list[str]:
    lines = [f"read (mcp servers): {workspace / rel}" for rel in _MCP_FILES if (workspace / rel).exists()]
    found = [(workspace / rel, why) for rel, why in _NOT_READ]
    return lines + [f"found, not applied: {path} ({why})" for path, why in found if path.exists()]


def _prompts(workspace: Path) -> list[str]:
    """The skills and custom commands found, and each file of them that was left out."""
    from agent.prompt.custom_commands import find_commands
    from agent.skills.discovery import find_skills

    skills, skill_errors = find_skills(workspace)
    commands, command_errors = find_commands(workspace)
    lines = [f"skills: {', '.join(s.name for s in skills)}"] if skills else []
    lines += [f"custom commands: {', '.join('/' + n for n in commands)}"] if commands else []
    lines += [f"  not applied: {c.source}: {note}" for c in commands.values() for note in c.unapplied]
    return lines + [f"left out: {e}" for e in (*skill_errors, *command_errors)]


def config_report(registry: AgentRegistry) -> list[str]:
    """One line per file read, per part not applied, per refusal and per file not read."""
    lines: list[str] = []
    for file in registry.files:
        lines.append(f"read ({file.scope}): {file.path}")
        lines += [f"  not applied: {note}" for note in file.unapplied]
        lines += [f"  refused: {r.key} ({r.why})" for r in registry.refusals if r.path == file.path]
    if not registry.trusted and registry.workspace is not None:
        lines.append(
            "workspace not trusted: only its denies and tighter keys apply "
            f"(`subagent trust {registry.workspace}`)"
        )
    lines += [f"error: {error}" for error in registry.errors]
    if registry.workspace is not None:
        lines += _prompts(registry.workspace) + _unread(registry.workspace)
    return lines or ["no config file here besides the built-in one"]
