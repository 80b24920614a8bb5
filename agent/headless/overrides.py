"""What Claude Code's flags change about the run's agent, applied through the runtime's parts seam.

`--system-prompt`, `--append-system-prompt`, `--tools`, `--allowedTools` and `--disallowedTools`
reshape the root agent's spec as the registry hands it out; `--setting-sources` and `--settings`
pick the config layers it is read from, and `--add-dir` adds to its `sandbox.extra_roots` (the
one list the sandbox's policy and the file tools' roots both come from); the gate the runtime builds is kept,
so `set_permission_mode` reaches a run in progress. Nothing here changes a subagent's spec: its
rules come from its persona and, as always, the parent's gate.
"""

import dataclasses
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from agent.errors import ConfigError
from agent.headless.flags import HeadlessOptions
from agent.peers.claude_rules import translate_rule
from agent.permissions.from_config import KNOWN_TOOLS, tools_to_selection
from agent.permissions.models import Decision, PermissionRule
from agent.registry.spec import AgentSpec
from agent.runtime.parts import RuntimeParts

_NOT_HERE = frozenset(
    {
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


def rules_for(entries: list[str], decision: Decision, flag: str, workspace: Path) -> list[PermissionRule]:
    """Claude Code's rules as ours, by the one translator of its rule syntax
    (`agent.peers.claude_rules`, as `.claude/settings.json` is read): `Bash(git log:*)` -> bash
    `git log *`, `Read(./.env)` -> read `.env`, `WebFetch(domain:x)` -> webfetch `x`, `mcp__s__t`
    kept for MCP tools.

    Raises:
        ConfigError: not a rule, or a tool name no runtime knows (a typo must not drop a deny
            rule silently).
    """
    rules = []
    for entry in entries:
        try:
            pairs, _ = translate_rule(entry, root=workspace, workspace=workspace)
        except ConfigError as exc:
            raise ConfigError(f"{flag}: {exc}") from exc
        name = entry.partition("(")[0].strip()
        if not pairs and name.lower() not in _NOT_HERE:
            raise ConfigError(f"{flag}: unknown tool {name!r}; tools are {', '.join(KNOWN_TOOLS)}")
        rules += [
            PermissionRule(permission=p, pattern=pat, decision=decision, source=flag) for p, pat in pairs
        ]
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
    from agent.registry.discovery import find_workspace

    workspace = find_workspace(opts.cwd)
    rules += rules_for(opts.allowed, "allow", "--allowedTools", workspace)
    rules += rules_for(opts.disallowed, "deny", "--disallowedTools", workspace)
    update["permission"] = rules
    return spec.model_copy(update=update)


class ClaudeAgent(BaseModel):
    """One Claude Code agent definition (`--agents`, the SDK's `AgentDefinition`)."""

    model_config = ConfigDict(extra="ignore")

    description: str
    prompt: str
    tools: list[str] | None = None
    model: str | None = None


def agent_specs(definitions: dict[str, Any]) -> list[AgentSpec]:
    """Subagents from Claude Code agent definitions: `tools` as a persona's list (Claude names
    or ours), `model` an alias or id (`inherit` takes the parent's).

    Raises:
        ConfigError: a definition without a description or prompt, or an unknown tool.
    """
    specs = []
    for name, raw in definitions.items():
        try:
            agent = ClaudeAgent.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "the definition"
            raise ConfigError(f"agent {name!r}: {where}: {first['msg']}") from None
        update: dict[str, Any] = {}
        if agent.tools is not None:
            selection = tools_to_selection(agent.tools, f"agent {name}")
            update = {
                "tools": selection.enabled,
                "permission": selection.rules,
                "can_delegate": selection.can_delegate,
            }
        fields = {"description": agent.description, "prompt": agent.prompt, "model": agent.model}
        specs.append(AgentSpec(name=name, mode="subagent", dialect="claude", **fields, **update))
    return specs


@dataclasses.dataclass(eq=False, repr=False)
class RunHandles:
    """What the front end keeps of a run the runtime assembled: the agents, the root's gate."""

    agents: list[str] = dataclasses.field(default_factory=list)
    gate: Any = None


def headless_parts(
    base: RuntimeParts, opts: HeadlessOptions, agent: str, handles: RunHandles
) -> RuntimeParts:
    """`base` with the registry reshaping `agent` and the root gate kept in `handles`."""

    def load_registry(cwd: Path, trust: bool) -> Any:
        if opts.setting_sources is None and opts.settings is None:
            registry = base.load_registry(cwd, trust)
        else:
            from agent.registry.discovery import find_workspace, load_registry_for
            from agent.registry.layers import SETTING_SOURCES

            settings = opts.settings.layer(find_workspace(cwd)) if opts.settings else None
            sources = opts.setting_sources if opts.setting_sources is not None else SETTING_SOURCES
            registry = load_registry_for(cwd, trust=trust, setting_sources=sources, settings=settings)
        if opts.add_dirs:
            sandbox = registry.config.defaults.sandbox
            roots = [*sandbox.extra_roots, *(str(d) for d in opts.add_dirs)]
            registry.config.defaults.sandbox = sandbox.model_copy(update={"extra_roots": roots})
        for spec in agent_specs(opts.agents):
            registry.agents[spec.name] = spec
        registry.agents[agent] = reshape(registry.get(agent), opts)
        handles.agents = sorted(registry.agents)
        return registry

    def make_gate(*args: Any) -> Any:  # (rules, mode, approver, ask timeout, always memory)
        handles.gate = base.make_gate(*args)
        return handles.gate

    return dataclasses.replace(base, load_registry=load_registry, make_gate=make_gate)
