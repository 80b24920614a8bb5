"""Find every agent a workspace can use, in DESIGN.md's order; a later source wins a name clash.

1. built-in `prompts/*.md` (next to the shipped `agents.yaml`);
2. `agents` entries with a `prompt` in `agents.yaml`, merged with the workspace's
   `.subagent/config.yaml` (same schema; the workspace wins key by key);
3. the user's `$XDG_CONFIG_HOME/subagent/agents/`;
4. the workspace's `.subagent/agents/`, `.opencode/agent/`, `.opencode/agents/`, `.claude/agents/`.

Then each registry entry's overrides (model, tools, permission, verify, ...) apply to whichever
file won its name, and the registry-wide `permission` block is put before every agent's own rules.
The workspace is the nearest folder holding `.git` at or above the given cwd, else the cwd itself.
A file that fails to load is kept as an error (path and reason); the others still load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.config import AgentEntry, RegistryConfig, load_registry
from agent.errors import ConfigError, PersonaError, RegistryError, UnknownAgentError
from agent.paths import builtin_dir, config_home
from agent.permissions.from_config import permission_to_rules, tools_to_selection
from agent.persona import load_persona
from agent.spec import AgentSpec

WORKSPACE_AGENT_DIRS = (".subagent/agents", ".opencode/agent", ".opencode/agents", ".claude/agents")
WORKSPACE_CONFIG = ".subagent/config.yaml"


@dataclass
class AgentRegistry:
    """The agents one workspace can use, the merged config, and what failed to load."""

    config: RegistryConfig
    agents: dict[str, AgentSpec] = field(default_factory=dict)
    errors: list[PersonaError | RegistryError] = field(default_factory=list)
    workspace: Path | None = None

    def get(self, name: str) -> AgentSpec:
        """The agent called `name`, for a run: strict where listing is lenient.

        Raises:
            RegistryError: agents.yaml or the workspace config is wrong; a run must not go on
                without rules it was given (a typo must never drop a deny rule silently).
            PersonaError: the file that would define `name` does not load (its file and line).
            UnknownAgentError: no such agent, listing the known names.
        """
        for error in self.errors:
            if isinstance(error, RegistryError):
                raise error
        if name in self.agents:
            return self.agents[name]
        for error in self.errors:
            if isinstance(error, PersonaError) and error.path.stem == name.rsplit("/", 1)[-1]:
                raise error
        raise UnknownAgentError(name, list(self.agents))

    def primary_agents(self) -> list[AgentSpec]:
        """Agents a person can run directly (mode primary or all)."""
        return [a for a in self.agents.values() if a.mode in ("primary", "all")]

    def subagents(self) -> list[AgentSpec]:
        """Agents the `task` tool may start (mode subagent or all)."""
        return [a for a in self.agents.values() if a.mode in ("subagent", "all")]


def find_workspace(cwd: Path) -> Path:
    """The nearest folder at or above `cwd` holding `.git`, else `cwd`."""
    cwd = cwd.resolve()
    for folder in (cwd, *cwd.parents):
        if (folder / ".git").exists():
            return folder
    return cwd


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _load_config(path: Path, errors: list[PersonaError | RegistryError]) -> tuple[dict[str, Any], set[str]]:
    """One registry file as a dict of the keys it set, with `prompt` paths made absolute."""
    if not path.is_file():
        return {}, set()
    try:
        config = load_registry(path)
    except RegistryError as exc:
        errors.append(exc)
        return {}, set()
    raw = config.model_dump(exclude_unset=True, by_alias=True)
    for entry in raw.get("agents", {}).values():
        if entry.get("prompt") is not None:
            entry["prompt"] = str((path.parent / entry["prompt"]).resolve())
    return raw, set(raw.get("agents", {}))


def _scan(folder: Path, specs: dict[str, AgentSpec], errors: list[PersonaError | RegistryError]) -> None:
    """Load every `*.md` under `folder`; opencode names come from the relative path."""
    if not folder.is_dir():
        return
    claude = folder.parts[-2:] == (".claude", "agents")
    for path in sorted(folder.rglob("*.md")):
        name = None if claude else path.relative_to(folder).with_suffix("").as_posix()
        try:
            spec = load_persona(path, name=name)
        except PersonaError as exc:
            errors.append(exc)
            continue
        specs[spec.name] = spec


def apply_entry(spec: AgentSpec, entry: AgentEntry, source: Path) -> AgentSpec:
    """Put a registry entry's overrides on top of a persona.

    Raises:
        ConfigError: the entry's `tools` or `permission` block is malformed.
    """
    changes: dict[str, Any] = {
        key: value for key, value in entry.model_dump(exclude_none=True, exclude={"prompt_file"}).items()
        if key not in ("tools", "permission")
    }
    if "thinking" in changes:
        changes["thinking"] = entry.thinking
    rules = list(spec.permission)
    if entry.tools is not None:
        selection = tools_to_selection(entry.tools, source=str(source))
        changes["tools"] = selection.enabled
        rules += selection.rules
        if entry.can_delegate is None and selection.can_delegate is not None:
            changes["can_delegate"] = selection.can_delegate
    rules += permission_to_rules(entry.permission, source=str(source))
    changes["permission"] = rules
    return spec.model_copy(update=changes)


def load_registry_for(cwd: Path) -> AgentRegistry:
    """Discover the agents for a workspace at or above `cwd` (see the module docstring)."""
    errors: list[PersonaError | RegistryError] = []
    workspace = find_workspace(cwd)
    base_file = builtin_dir() / "agents.yaml"
    local_file = workspace / WORKSPACE_CONFIG
    base, _ = _load_config(base_file, errors)
    local, local_names = _load_config(local_file, errors)
    config = RegistryConfig.model_validate(_deep_merge(base, local))

    specs: dict[str, AgentSpec] = {}
    _scan(builtin_dir() / "prompts", specs, errors)
    for name, entry in config.agents.items():
        if entry.prompt_file is None:
            continue
        try:
            specs[name] = load_persona(Path(entry.prompt_file), name=name)
        except PersonaError as exc:
            errors.append(exc)
    _scan(config_home() / "agents", specs, errors)
    for sub in WORKSPACE_AGENT_DIRS:
        _scan(workspace / sub, specs, errors)

    try:
        shared = permission_to_rules(config.permission, source="registry permission")
    except ConfigError as exc:
        errors.append(RegistryError(local_file if "permission" in local else base_file, str(exc),
                                    key="permission"))
        shared = []
    agents: dict[str, AgentSpec] = {}
    for name, spec in specs.items():
        entry = config.agents.get(name)
        if entry is not None:
            entry_file = local_file if name in local_names else base_file
            try:
                spec = apply_entry(spec, entry, entry_file)
            except ConfigError as exc:
                errors.append(RegistryError(entry_file, str(exc), key=f"agents.{name}"))
                continue
        if not spec.disable:
            agents[name] = spec.model_copy(update={"permission": shared + spec.permission})
    for name, entry in config.agents.items():
        if name not in specs and entry.prompt_file is None:
            where = local_file if name in local_names else base_file
            errors.append(RegistryError(where, "no persona file defines this agent; set `prompt`",
                                        key=f"agents.{name}"))
    unique = list({(str(e), type(e)): e for e in errors}.values())
    return AgentRegistry(config=config, agents=agents, errors=unique, workspace=workspace)
