"""Find every agent a workspace can use, in DESIGN.md's order; a later source wins a name clash.

Config comes in layers (`agent.registry.layers`): the built-in `agents.yaml` < the user's
`config.yaml` < the workspace's `.subagent/config.yaml`. Personas come from:

1. built-in `prompts/*.md` (next to the shipped `agents.yaml`);
2. `agents` entries with a `prompt` in the built-in or user config;
3. the user's `$XDG_CONFIG_HOME/subagent/agents/`;
4. `agents` entries with a `prompt` in the workspace config, then the workspace's
   `.subagent/agents/`, `.opencode/agent/`, `.opencode/agents/`, `.claude/agents/`.

Then each agent's registry entries (model, tools, permission, verify, ...) apply to whichever file
won its name, and the registry-wide `permission` rules of every layer go before each agent's own.
The workspace is the nearest folder holding `.git` at or above the given cwd, else the cwd itself.

Unless the user trusts the workspace (`agent.trust`), its config and personas may only tighten:
a key that would widen what the trusted layers grant is left out and listed in `refusals`; a
workspace persona that replaces a built-in or user agent keeps that agent's rules and may add
only tightening ones. A file that fails to load is kept as an error (path and reason); the
others still load.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.errors import ConfigError, PersonaError, RegistryError, UnknownAgentError
from agent.hooks.config import Hook, hooks_of
from agent.paths import builtin_dir, config_home
from agent.peers.layer_content import LayerContent
from agent.permissions.from_config import permission_to_rules, tools_to_selection
from agent.permissions.models import PermissionRule
from agent.registry.layers import (
    SETTING_SOURCES,
    WORKSPACE_CONFIG,
    ConfigLayer,
    deep_merge,
    read_layer,
    trusted_layers,
    workspace_layers,
)
from agent.registry.persona import load_persona, warn_dropped
from agent.registry.schema import AgentEntry, RegistryConfig
from agent.registry.spec import AgentSpec
from agent.trust.agent_limits import AgentOrigin, limit_agent
from agent.trust.config_filter import filter_config
from agent.trust.confine import confine_persona, confine_prompts
from agent.trust.refusal import Refusal
from agent.trust.rule_limits import denies

__all__ = ["WORKSPACE_AGENT_DIRS", "WORKSPACE_CONFIG", "AgentRegistry", "find_workspace", "load_registry_for"]

WORKSPACE_AGENT_DIRS = (".subagent/agents", ".opencode/agent", ".opencode/agents", ".claude/agents")
Errors = list[PersonaError | RegistryError]


@dataclass(frozen=True, eq=False, repr=False)
class LayerFile:
    """One config file that exists, for `subagent doctor`."""

    path: Path
    scope: str
    unapplied: list[str]
    """`key: why` for each part of the file that does not apply (refusals are listed apart)."""


@dataclass(eq=False, repr=False)
class AgentRegistry:
    """The agents one workspace can use, the merged config, and what failed to load."""

    config: RegistryConfig
    agents: dict[str, AgentSpec] = field(default_factory=dict)
    errors: Errors = field(default_factory=list)
    workspace: Path | None = None
    trusted: bool = True
    """Whether the workspace's own config and personas were taken as they are."""
    refusals: list[Refusal] = field(default_factory=list)
    """Workspace keys left out because they would widen what the trusted config grants."""
    shadows: dict[str, Path | None] = field(default_factory=dict)
    """Workspace agents that replace a built-in or user agent: name -> the file of the one replaced."""
    files: list[LayerFile] = field(default_factory=list)
    """Every config file found, in merge order, with what of it does not apply."""
    hooks: list[Hook] = field(default_factory=list)
    """Every hook of the trusted files (an untrusted workspace's are refused), in layer order."""

    def get(self, name: str) -> AgentSpec:
        """The agent called `name`, for a run: strict where listing is lenient.

        Raises:
            RegistryError: agents.yaml or a config file is wrong; a run must not go on without
                rules it was given (a typo must never drop a deny rule silently).
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

    def refusals_for(self, name: str) -> list[Refusal]:
        """What a run of `name` goes without: refusals of shared keys and of that agent."""
        return [r for r in self.refusals if r.agent in (None, name)]


def find_workspace(cwd: Path) -> Path:
    """The nearest folder at or above `cwd` holding `.git`, else `cwd`."""
    cwd = cwd.resolve()
    for folder in (cwd, *cwd.parents):
        if (folder / ".git").exists():
            return folder
    return cwd


def _scan(
    folder: Path,
    specs: dict[str, AgentSpec],
    errors: Errors,
    confine: tuple[Path, list[Refusal]] | None = None,
) -> None:
    """Load every `*.md` under `folder`; opencode names come from the relative path. With
    `confine` (workspace, refusals), a file that leads outside the workspace is refused."""
    if not folder.is_dir():
        return
    claude = folder.parts[-2:] == (".claude", "agents")
    for path in sorted(folder.rglob("*.md")):
        if confine is not None and (refusal := confine_persona(path, confine[0])) is not None:
            confine[1].append(refusal)
            continue
        name = None if claude else path.relative_to(folder).with_suffix("").as_posix()
        try:
            spec = load_persona(path, name=name)
        except PersonaError as exc:
            errors.append(exc)
            continue
        specs[spec.name] = spec


def _entry_personas(raw: dict[str, Any], specs: dict[str, AgentSpec], errors: Errors) -> None:
    for name, entry in raw.get("agents", {}).items():
        if entry.get("prompt") is None:
            continue
        try:
            specs[name] = load_persona(Path(entry["prompt"]), name=name)
        except PersonaError as exc:
            errors.append(exc)


def apply_entry(spec: AgentSpec, entry: AgentEntry, source: Path) -> AgentSpec:
    """Put a registry entry's overrides on top of a persona.

    Raises:
        ConfigError: the entry's `tools` or `permission` block is malformed.
    """
    changes: dict[str, Any] = {
        key: value
        for key, value in entry.model_dump(exclude_none=True, exclude={"prompt_file"}).items()
        if key not in ("tools", "permission")
    }
    if "thinking" in changes:
        changes["thinking"] = entry.thinking
    rules = list(spec.permission)
    if entry.tools is not None:
        selection = tools_to_selection(entry.tools, source=str(source))
        warn_dropped(source, selection.dropped)
        changes["tools"] = selection.enabled
        rules += selection.rules
        if entry.can_delegate is None and selection.can_delegate is not None:
            changes["can_delegate"] = selection.can_delegate
    rules += permission_to_rules(entry.permission, source=str(source))
    changes["permission"] = rules
    return spec.model_copy(update=changes)


@dataclass(eq=False, repr=False)
class _Layers:
    """The config layers of one workspace, read, and what the untrusted ones may keep."""

    workspace: Path
    trusted: bool
    errors: Errors
    sources: Collection[str] = SETTING_SOURCES
    settings: ConfigLayer | None = None
    files: list[LayerFile] = field(default_factory=list)
    hooks: list[Hook] = field(default_factory=list)
    peer_agents: set[str] = field(default_factory=set)
    """Agents named only to give them rules by a peer file (`opencode.json`'s `agent` block)."""
    refusals: list[Refusal] = field(default_factory=list)
    trusted_raw: dict[str, Any] = field(default_factory=dict)
    workspace_raw: dict[str, Any] = field(default_factory=dict)
    shared: list[PermissionRule] = field(default_factory=list)
    """Registry-wide rules, every layer's in order."""
    entry_files: dict[str, tuple[Path | None, Path | None]] = field(default_factory=dict)
    """name -> (trusted file, workspace file) of the last layer with an entry for it."""
    gone: set[str] = field(default_factory=set)
    """Agents whose only definition was a refused prompt file."""

    def read(self) -> RegistryConfig:
        for layer in trusted_layers():
            content = read_layer(layer, self.errors, self.workspace, self.sources)
            raw = content.raw
            self._note(layer, content, raw, 0)
            self.trusted_raw = deep_merge(self.trusted_raw, raw)
        trusted_config = RegistryConfig.model_validate(self.trusted_raw)
        for layer in workspace_layers(self.workspace, self.settings):
            content = read_layer(layer, self.errors, self.workspace, self.sources)
            raw = content.raw
            refused = confine_prompts(raw, layer.path, self.workspace, trusted=self.trusted)
            self.gone |= {r.agent for r in refused if r.agent}
            self.refusals += refused
            if not self.trusted and not layer.trusted_always:
                raw, refused = filter_config(
                    raw,
                    trusted_config,
                    path=layer.path,
                    workspace=self.workspace,
                    trusted_denies=denies(self.shared),
                )
                self.refusals += refused
            self._note(layer, content, raw, 1)
            self.workspace_raw = deep_merge(self.workspace_raw, raw)
        return RegistryConfig.model_validate(deep_merge(self.trusted_raw, self.workspace_raw))

    def _note(self, layer: ConfigLayer, content: LayerContent, raw: dict[str, Any], slot: int) -> None:
        """Record what a layer gives: its entries' files, its shared rules (with their lines)."""
        if layer.path.is_file():
            self.files.append(LayerFile(layer.path, layer.scope, content.unapplied))
        if layer.form != "subagent":
            self.peer_agents |= set(raw.get("agents", {}))
        if raw.get("hooks"):
            try:
                self.hooks += hooks_of(raw["hooks"], str(layer.path))
            except ConfigError as exc:
                self.errors.append(RegistryError(layer.path, str(exc)))
        for name in raw.get("agents", {}):
            files = list(self.entry_files.get(name, (None, None)))
            files[slot] = layer.path
            self.entry_files[name] = (files[0], files[1])
        if "permission" in raw:
            try:
                rules = permission_to_rules(raw["permission"], source=str(layer.path))
                self.shared += [
                    r.model_copy(update={"line": content.line_of(r.permission, r.pattern)}) for r in rules
                ]
            except ConfigError as exc:
                self.errors.append(RegistryError(layer.path, str(exc), key="permission"))

    def entries(self, name: str) -> tuple[AgentEntry | None, AgentEntry | None]:
        """The (trusted, workspace) registry entries of `name`."""
        trusted = self.trusted_raw.get("agents", {}).get(name)
        mine = self.workspace_raw.get("agents", {}).get(name)
        return (
            AgentEntry.model_validate(trusted) if trusted is not None else None,
            AgentEntry.model_validate(mine) if mine is not None else None,
        )


class _Assembly:
    """Builds each agent from its persona and entries, limited when the workspace is untrusted."""

    def __init__(self, layers: _Layers, config: RegistryConfig) -> None:
        self.layers, self.config = layers, config
        self.trusted_specs: dict[str, AgentSpec] = {}
        self.workspace_specs: dict[str, AgentSpec] = {}

    def load_personas(self) -> None:
        layers, errors = self.layers, self.layers.errors
        _scan(builtin_dir() / "prompts", self.trusted_specs, errors)
        _entry_personas(layers.trusted_raw, self.trusted_specs, errors)
        _scan(config_home() / "agents", self.trusted_specs, errors)
        _entry_personas(layers.workspace_raw, self.workspace_specs, errors)
        for sub in WORKSPACE_AGENT_DIRS:
            _scan(layers.workspace / sub, self.workspace_specs, errors, (layers.workspace, layers.refusals))

    def _entries_on(self, spec: AgentSpec, name: str) -> AgentSpec:
        """`spec` with the trusted entry, then the workspace entry (its rules named by their file)."""
        trusted, mine = self.layers.entries(name)
        trusted_file, workspace_file = self.layers.entry_files.get(name, (None, None))
        for entry, source in ((trusted, trusted_file), (mine, workspace_file)):
            if entry is not None and source is not None:
                try:
                    spec = apply_entry(spec, entry, source)
                except ConfigError as exc:
                    raise RegistryError(source, str(exc), key=f"agents.{name}") from exc
        return spec

    def build(self, name: str) -> AgentSpec:
        """The agent as a run uses it, before the registry-wide rules.

        Raises:
            RegistryError: an entry's `tools` or `permission` is malformed.
        """
        trusted_spec = self.trusted_specs.get(name)
        spec = self.workspace_specs.get(name) or trusted_spec
        assert spec is not None
        mine = name in self.workspace_specs
        if not self.layers.trusted and mine and trusted_spec is not None:
            spec = spec.model_copy(update={"permission": [*trusted_spec.permission, *spec.permission]})
        spec = self._entries_on(spec, name)
        workspace_entry = self.layers.entries(name)[1]
        if self.layers.trusted or not (mine or workspace_entry is not None):
            return spec
        baseline = self._entries_trusted(trusted_spec or AgentSpec(name=name, prompt=""), name)
        config_file = self.layers.entry_files.get(name, (None, None))[1]
        persona = self.workspace_specs[name].source if mine else None
        origin = AgentOrigin(
            workspace=self.layers.workspace,
            persona=persona,
            config=config_file,
            untrusted_files=frozenset(str(p) for p in (config_file, persona) if p is not None),
            entry_keys=frozenset(workspace_entry.model_dump(exclude_unset=True) if workspace_entry else ()),
        )
        limited, refused = limit_agent(
            spec, baseline, self.config.defaults, origin, denies([*self.layers.shared, *baseline.permission])
        )
        self.layers.refusals += refused
        return limited

    def _entries_trusted(self, spec: AgentSpec, name: str) -> AgentSpec:
        trusted, _ = self.layers.entries(name)
        source = self.layers.entry_files.get(name, (None, None))[0]
        return apply_entry(spec, trusted, source) if trusted is not None and source is not None else spec


def load_registry_for(
    cwd: Path, *, trust: bool = False, setting_sources: Collection[str] = SETTING_SOURCES,
    settings: ConfigLayer | None = None,
) -> AgentRegistry:  # fmt: skip
    """Discover the agents for a workspace at or above `cwd` (see the module docstring).

    `trust` trusts the workspace for this load (the `--trust` flag) whether or not the user's
    trusted folders list it. `setting_sources` picks the config layers read (`user`, `project`,
    `local`: Claude Code's `--setting-sources`); the built-in layer is always read, and
    `settings` (a cli layer, `--settings`) last.
    """
    from agent.trust.store import is_trusted

    errors: Errors = []
    workspace = find_workspace(cwd)
    try:
        trusted = trust or is_trusted(workspace)
    except RegistryError as exc:
        errors.append(exc)
        trusted = False
    layers = _Layers(workspace, trusted, errors, setting_sources, settings)
    config = layers.read()
    assembly = _Assembly(layers, config)
    assembly.load_personas()
    agents: dict[str, AgentSpec] = {}
    shadows: dict[str, Path | None] = {}
    for name in {**assembly.trusted_specs, **assembly.workspace_specs}:
        if name in assembly.workspace_specs and name in assembly.trusted_specs:
            shadows[name] = assembly.trusted_specs[name].source
        try:
            spec = assembly.build(name)
        except RegistryError as exc:
            errors.append(exc)
            continue
        if not spec.disable:
            agents[name] = spec.model_copy(update={"permission": [*layers.shared, *spec.permission]})
    known = {**assembly.trusted_specs, **assembly.workspace_specs}
    for name in config.agents:
        if name not in known and name not in layers.gone and name not in layers.peer_agents:
            trusted_file, workspace_file = layers.entry_files.get(name, (None, None))
            errors.append(
                RegistryError(
                    workspace_file or trusted_file or workspace / WORKSPACE_CONFIG,
                    "no persona file defines this agent; set `prompt`",
                    key=f"agents.{name}",
                )
            )
    unique = list({(str(e), type(e)): e for e in errors}.values())
    return AgentRegistry(
        config=config,
        agents=agents,
        errors=unique,
        workspace=workspace,
        trusted=trusted,
        refusals=layers.refusals,
        shadows=shadows,
        files=layers.files,
        hooks=layers.hooks,
    )
