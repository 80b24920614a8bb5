"""What Claude Code's flags change about the run's agent, applied through the runtime's parts seam.

`--system-prompt`, `--append-system-prompt`, `--tools`, `--allowedTools` and `--disallowedTools`
reshape the root agent's spec as the registry hands it out; the gate the runtime builds is kept,
so `set_permission_mode` reaches a run in progress. Nothing here changes a subagent's spec: its
rules come from its persona and, as always, the parent's gate.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from agent.errors import ConfigError
from agent.headless.flags import HeadlessOptions
from agent.permissions.from_config import KNOWN_TOOLS, permission_of, tools_to_selection
from agent.permissions.models import Decision, PermissionRule
from agent.registry.spec import AgentSpec
from agent.runtime.parts import RuntimeParts

_CLAUDE_NAMES = {"multiedit": "edit", "ls": "glob", "agent": "task"}
_NOT_HERE = frozenset(
    {
        "webfetch",
        "websearch",
        "todowrite",
        "notebookedit",
        "skill",
        "killshell",
        "bashoutput",
        "exitplanmode",
        "slashcommand",
        "toolsearch",
    }
)
"""Claude Code tools subagent has not: a rule for one has nothing to apply to."""


def rules_for(entries: list[str], decision: Decision, flag: str) -> list[PermissionRule]:
    """`Bash(git log:*)` -> bash `git log*`; `Read` -> read `*`; `mcp__s__t` kept for MCP tools.

    Raises:
        ConfigError: a tool name no runtime knows (a typo must not drop a deny rule silently).
    """
    rules = []
    for entry in entries:
        name, _, rest = entry.partition("(")
        pattern = rest[:-1] if rest.endswith(")") else "*"
        pattern = pattern[:-2] + "*" if pattern.endswith(":*") else pattern
        key = _CLAUDE_NAMES.get(name.strip().lower(), name.strip().lower())
        if key.startswith("mcp"):
            rules.append(
                PermissionRule(permission=name.strip(), pattern=pattern, decision=decision, source=flag)
            )
        elif key in KNOWN_TOOLS:
            rules.append(
                PermissionRule(
                    permission=permission_of(key), pattern=pattern or "*", decision=decision, source=flag
                )
            )
        elif key not in _NOT_HERE:
            raise ConfigError(f"{flag}: unknown tool {name!r}; tools are {', '.join(KNOWN_TOOLS)}")
    return rules


def reshape(spec: AgentSpec, opts: HeadlessOptions) -> AgentSpec:
    """The root agent as the flags describe it (rules appended: the last match wins, deny last)."""
    prompt = opts.system_prompt if opts.system_prompt is not None else spec.prompt
    if opts.append_system_prompt:
        prompt = f"{prompt}\n\n{opts.append_system_prompt}"
    update: dict[str, Any] = {"prompt": prompt}
    rules = list(spec.permission)
    if opts.tools is not None:
        selection = tools_to_selection(opts.tools or [], "--tools")
        update["tools"] = [t for t in selection.enabled if t in spec.tools]
        rules += selection.rules
        if selection.can_delegate is not None:
            update["can_delegate"] = selection.can_delegate and spec.can_delegate is not False
    rules += rules_for(opts.allowed, "allow", "--allowedTools")
    rules += rules_for(opts.disallowed, "deny", "--disallowedTools")
    update["permission"] = rules
    return spec.model_copy(update=update)


@dataclasses.dataclass
class RunHandles:
    """What the front end keeps of a run the runtime assembled: the agents, the root's gate."""

    agents: list[str] = dataclasses.field(default_factory=list)
    gate: Any = None


def headless_parts(
    base: RuntimeParts, opts: HeadlessOptions, agent: str, handles: RunHandles
) -> RuntimeParts:
    """`base` with the registry reshaping `agent` and the root gate kept in `handles`."""

    def load_registry(cwd: Path, trust: bool) -> Any:
        registry = base.load_registry(cwd, trust)
        registry.agents[agent] = reshape(registry.get(agent), opts)
        handles.agents = sorted(registry.agents)
        return registry

    def make_gate(*args: Any) -> Any:  # whatever the factory takes (spine adds the always memory)
        handles.gate = base.make_gate(*args)
        return handles.gate

    return dataclasses.replace(base, load_registry=load_registry, make_gate=make_gate)
