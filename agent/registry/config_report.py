"""Which config files a run here reads, and what of them it does not apply: `subagent doctor`.

Every layer file that exists (ours and the peers', `agent.registry.layers`) is listed with its
scope; under it, each part not applied (`key: why`) and each key refused because the folder is
not trusted. Peer files and folders this runtime does not read at all are listed with the reason.
"""

from __future__ import annotations

from pathlib import Path

from agent.paths import claude_home
from agent.registry.discovery import AgentRegistry

_NOT_READ: tuple[tuple[str, str], ...] = (
    (".claude/commands", "custom slash commands are not read by subagent yet"),
    (".opencode/command", "custom slash commands are not read by subagent yet"),
    (".opencode/commands", "custom slash commands are not read by subagent yet"),
    (".mcp.json", "MCP servers are not read by subagent yet"),
)
_USER_NOT_READ: tuple[tuple[str, str], ...] = (
    ("commands", "custom slash commands are not read by subagent yet"),
)


def _unread(workspace: Path) -> list[str]:
    found = [(workspace / rel, why) for rel, why in _NOT_READ]
    found += [(claude_home() / rel, why) for rel, why in _USER_NOT_READ]
    return [f"found, not applied: {path} ({why})" for path, why in found if path.exists()]


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
        lines += _unread(registry.workspace)
    return lines or ["no config file here besides the built-in one"]
