"""Turn a persona's `tools` and `permission` blocks into ordered permission rules (opencode semantics).

Decisions, so that opencode and Claude Code files load unchanged:
- `tools: {x: false}` is a deny rule for x's permission and takes x off the enabled list;
  `x: true` only enables x: it adds no allow rule, so the session's defaults (asks) still apply.
- `write`, `edit`, `patch` (and Claude's `MultiEdit`) share the `edit` permission: switching one
  off switches all three off.
- Names are case-insensitive (`Read` is `read`). `*` and `?` are globs over tool names; names
  starting with `mcp` (`mcp_*`, `mcp__server__tool`) are kept as rules for MCP tools.
- A tool other runtimes have and this one does not (`WebFetch`, `TodoWrite`, ...) is dropped when
  switched on, with one warning line naming the file, the tool and what to use instead
  (`ToolSelection.dropped`): published agent files list such tools as a rule, and the agent must
  still load. A name no runtime knows is an error.
- A list (Claude Code's `tools: Read, Grep`) enables exactly those tools and denies the rest.
- `task` is not one of the seven tools: enabling it means the agent may delegate.
- `Skill` names no tool to switch: the `skill` tool comes with the skills found (agent.skills),
  so naming it is accepted without a word.
"""

import fnmatch
from typing import Any

from pydantic import BaseModel, ConfigDict

from agent.errors import ConfigError
from agent.permissions.models import Decision, PermissionRule
from agent.registry.spec import TOOL_NAMES

KNOWN_TOOLS = (*TOOL_NAMES, "task", "webfetch")
"""Every tool name a persona may switch on."""
OPT_IN = ("task", "webfetch")
"""Tools an agent has only when its `tools` names them (or, for `task`, when it is primary)."""

_SYNONYMS = {"multiedit": "edit", "ls": "glob", "list": "glob"}
_FOREIGN = {
    "websearch": "webfetch on a search engine's URL, or bash with `network: true`",
    "codesearch": "grep and glob",
    "todowrite": "a plan kept in the conversation",
    "todoread": "a plan kept in the conversation",
    "notebookedit": "edit on the .ipynb file",
    "notebookread": "read on the .ipynb file",
    "lsp": "grep and glob",
    "killshell": "bash (a call waits for its command; `timeout_ms` bounds it)",
    "killbash": "bash (a call waits for its command; `timeout_ms` bounds it)",
    "bashoutput": "bash (a call waits for its command and returns its output)",
    "exitplanmode": "--permission-mode plan",
    "slashcommand": "the prompt itself",
}
"""Tools other runtimes have, and what to use here instead."""
_DECISIONS: tuple[Decision, ...] = ("allow", "ask", "deny")


class ToolSelection(BaseModel):
    """What a `tools` block means: the enabled tools, the rules it implies, and delegation."""

    model_config = ConfigDict(defer_build=True)

    enabled: list[str]
    """Enabled tools among the seven, in their canonical order."""
    rules: list[PermissionRule]
    can_delegate: bool | None = None
    """True or False when the block named `task`; None when it did not say."""
    dropped: list[str] = []
    """One line per foreign tool switched on and dropped: `tool X is not in subagent; use Y`."""


def permission_of(tool: str) -> str:
    """The permission a tool call is checked against: `write` and `patch` share `edit`."""
    return "edit" if tool in ("write", "patch", "edit") else tool


def _is_pattern(name: str) -> bool:
    return "*" in name or "?" in name or "[" in name


def _canonical(raw: str, enabling: bool, dropped: list[str]) -> list[str] | None:
    """Built-in tools a name stands for; None for a foreign tool (noted in `dropped` when on)."""
    written = raw.strip()
    name = _SYNONYMS.get(written.lower(), written.lower())
    if _is_pattern(name):
        return [t for t in KNOWN_TOOLS if fnmatch.fnmatchcase(t, name)]
    if name in KNOWN_TOOLS:
        return [name]
    if name == "skill":
        return []
    if name in _FOREIGN:
        if enabling:
            dropped.append(f"tool {written!r} is not in subagent, so it is left out; use {_FOREIGN[name]}")
        return None
    raise ConfigError(f"unknown tool {written!r}; tools are {', '.join(KNOWN_TOOLS)} (or mcp_* patterns)")


def _from_map(tools: dict[str, bool], source: str) -> ToolSelection:
    """A map: each entry sets its permission on or off; a later entry wins (opencode)."""
    state: dict[str, bool] = {}
    mcp_rules: list[PermissionRule] = []
    dropped: list[str] = []
    for raw, on in tools.items():
        if not isinstance(on, bool):
            raise ConfigError(f"tools.{raw} must be true or false, not {on!r}")
        if raw.lower().startswith("mcp"):
            if not on:
                mcp_rules.append(PermissionRule(permission=raw, decision="deny", source=source))
            continue
        for tool in _canonical(raw, on, dropped) or []:
            state[permission_of(tool)] = on
    enabled = [t for t in KNOWN_TOOLS if state.get(permission_of(t), t not in OPT_IN)]
    selection = _selection(enabled, {t: state.get(t) for t in OPT_IN}, mcp_rules, source)
    return selection.model_copy(update={"dropped": dropped})


def _from_list(tools: list[str], source: str) -> ToolSelection:
    """A list (Claude Code): exactly the tools named; `Edit` without `Write` gives no write."""
    named: set[str] = set()
    dropped: list[str] = []
    for raw in tools:
        if raw.strip().lower().startswith("mcp"):
            continue
        named.update(_canonical(raw, True, dropped) or [])
    enabled = [t for t in KNOWN_TOOLS if t in named]
    selection = _selection(
        enabled, {"task": "task" in named, "webfetch": "webfetch" in named or None}, [], source
    )
    return selection.model_copy(update={"dropped": dropped})


def _selection(
    enabled: list[str], opted: dict[str, bool | None], extra: list[PermissionRule], source: str
) -> ToolSelection:
    """Deny rules for every permission none of whose tools is enabled; an opt-in tool (`task`,
    `webfetch`) is denied only when the block switched it off (`opted[tool] is False`)."""
    denied: list[str] = []
    for tool in KNOWN_TOOLS:
        perm = permission_of(tool)
        siblings = [t for t in KNOWN_TOOLS if permission_of(t) == perm]
        if perm not in denied and not any(t in enabled for t in siblings):
            if perm not in OPT_IN or opted.get(perm) is False:
                denied.append(perm)
    rules = [PermissionRule(permission=p, decision="deny", source=source) for p in denied] + extra
    kept = [t for t in enabled if t in TOOL_NAMES or t == "webfetch"]
    return ToolSelection(enabled=kept, rules=rules, can_delegate=opted.get("task"))


def tools_to_selection(tools: dict[str, bool] | list[str] | str | None, source: str = "") -> ToolSelection:
    """Read a `tools` block: a map of name to bool, a list, or a comma string (Claude Code).

    Raises:
        ConfigError: a tool name that does not exist, or a value that is not a bool.
    """
    if tools is None:
        return ToolSelection(enabled=list(TOOL_NAMES), rules=[])
    if isinstance(tools, str):
        tools = [part for part in tools.split(",") if part.strip()]
    if isinstance(tools, list):
        if not all(isinstance(t, str) for t in tools):
            raise ConfigError("tools must be a list of tool names")
        return _from_list(tools, source)
    return _from_map(tools, source)


def _decision(value: Any, where: str) -> Decision:
    if value not in _DECISIONS:
        raise ConfigError(f"{where}: {value!r} is not a decision; use allow, ask or deny")
    return value  # type: ignore[no-any-return]


def permission_to_rules(block: dict[str, Any] | str | None, source: str = "") -> list[PermissionRule]:
    """Read an opencode `permission` block into rules, in the order written (last match wins).

    `"ask"` alone applies to every permission; `{bash: {"git push *": ask, "*": allow}}` gives
    one rule per pattern. `write` and `patch` are spelled `edit` here too.

    Raises:
        ConfigError: a decision other than allow, ask or deny, or a malformed block.
    """
    if block is None:
        return []
    if isinstance(block, str):
        return [PermissionRule(permission="*", decision=_decision(block, "permission"), source=source)]
    if not isinstance(block, dict):
        raise ConfigError("permission must be allow, ask, deny or a map")
    rules: list[PermissionRule] = []
    for key, value in block.items():
        perm = permission_of(_SYNONYMS.get(str(key).lower(), str(key).lower()))
        if isinstance(value, dict):
            for pattern, decision in value.items():
                where = f"permission.{key}.{pattern}"
                rules.append(
                    PermissionRule(
                        permission=perm,
                        pattern=str(pattern),
                        decision=_decision(decision, where),
                        source=source,
                    )
                )
        else:
            rules.append(
                PermissionRule(permission=perm, decision=_decision(value, f"permission.{key}"), source=source)
            )
    return rules
