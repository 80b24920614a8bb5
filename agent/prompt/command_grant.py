"""A custom command's `allowed-tools`: tools allowed without asking while that command runs.

Claude Code's meaning: `/commit` with `allowed-tools: Bash(git add:*), Bash(git commit:*)` runs
those commands without a question, for the run of the command only. Each entry is a Claude Code
permission rule, translated by the peers' translator (`agent.peers.claude_rules`) into allow
rules of their own source (`FILE (allowed-tools of /NAME)`), which the run's gate evaluates after
every configured rule, as it does the session's `always` answers. So the grant answers what would
be asked, and no more:

- a deny rule of any file still decides (`agent.permissions.rules.evaluate`), as does the deny a
  persona's `tools` implies for a tool the agent does not have;
- the mode still applies (`plan` still refuses what changes files);
- a workspace's command grants nothing unless the workspace is trusted (a repository would
  otherwise choose what runs on your machine without asking); that is one refusal line, shown
  at the run's start like every other.

An entry that names no tool of this runtime (`WebSearch`) or is not a rule at all is a warning
line, once per file and entry.
"""

import logging
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from agent.errors import ConfigError
from agent.permissions.models import PermissionRule
from agent.trust.refusal import Refusal

_log = logging.getLogger(__name__)
_WARNED: set[str] = set()


class ToolGrant(BaseModel):
    """What one custom command's `allowed-tools` asks to allow while it runs."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    command: str
    """The command's name (`review`, `frontend:lint`)."""
    source: Path
    """The command's file."""
    entries: tuple[str, ...]
    """The rules as written (`Bash(git add:*)`, `Read`, `mcp__github`)."""
    from_workspace: bool
    """A workspace's command (granted only in a trusted workspace); else the user's own."""


def split_allowed_tools(value: object) -> tuple[str, ...]:
    """The entries of an `allowed-tools` value: a YAML list, or one string separated by commas or
    spaces outside parentheses (`Bash(git add:*), Read` and `Read Grep` alike)."""
    from agent.peers.claude_rules import split_rules

    if isinstance(value, list):
        return tuple(str(item).strip() for item in value if str(item).strip())
    return tuple(split_rules([str(value)] if value else []))


def grant_rules(
    grant: ToolGrant, *, workspace: Path, trusted: bool
) -> tuple[list[PermissionRule], Refusal | None]:
    """The allow rules `grant` adds to its run, or the refusal of a workspace's grant when the
    workspace is not trusted."""
    if grant.from_workspace and not trusted:
        why = "a command of the repository would run these tools without asking"
        return [], Refusal(grant.source, f"allowed-tools of /{grant.command}", why, workspace)
    from agent.peers.claude_rules import translate_rule

    source = f"{grant.source} (allowed-tools of /{grant.command})"
    root = workspace if grant.from_workspace else Path.home()
    rules: list[PermissionRule] = []
    for entry in grant.entries:
        try:
            pairs, why = translate_rule(entry, root=root, workspace=workspace)
        except ConfigError as exc:
            pairs, why = [], str(exc)
        if not pairs:
            _warn(f"{grant.source}: allowed-tools: {entry} is not applied: {why}")
        rules += [
            PermissionRule(permission=p, pattern=pattern, decision="allow", source=source)
            for p, pattern in pairs
        ]
    return rules, None


def rules_for_run(
    grant: ToolGrant | None, registry: Any, cwd: Path
) -> tuple[list[PermissionRule], list[str]]:
    """The allow rules a run's grant adds to its gate, and the refusal line when its workspace
    (the registry's) is not trusted; nothing without a grant."""
    if grant is None:
        return [], []
    workspace = getattr(registry, "workspace", None) or cwd
    rules, refusal = grant_rules(grant, workspace=workspace, trusted=getattr(registry, "trusted", True))
    return rules, [str(refusal)] if refusal is not None else []


def _warn(line: str) -> None:
    if line not in _WARNED:
        _WARNED.add(line)
        _log.warning("%s", line)
