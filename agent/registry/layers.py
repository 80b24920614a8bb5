"""Where config comes from, in order: built-in < user < workspace; a later layer wins key by key.

- built-in: the shipped `agents.yaml`;
- user: `$XDG_CONFIG_HOME/subagent/config.yaml` (`agent.paths.user_config_file()`), the same
  schema; trusted, since only the user writes there;
- workspace: `.subagent/config.yaml` in the workspace; trusted only when the user trusts the
  folder (`agent.trust`). A later settings hierarchy adds its files here as more layers
  (`.subagent/config.local.yaml` is a workspace layer too: the repository's code can write it).

Each layer is read as the keys its file sets (`exclude_unset`), with every `prompt` path made
absolute against the file's own folder, then merged with `deep_merge`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from agent.errors import PersonaError, RegistryError
from agent.paths import builtin_dir, user_config_file
from agent.registry.schema import load_registry
from agent.trust.confine import not_regular

WORKSPACE_CONFIG = ".subagent/config.yaml"
Scope = Literal["built-in", "user", "workspace"]


@dataclass(frozen=True)
class ConfigLayer:
    """One config file and whose it is."""

    path: Path
    scope: Scope

    @property
    def trusted_always(self) -> bool:
        """Built-in and user layers are the user's own; a workspace layer is trusted only with the folder."""
        return self.scope != "workspace"


def trusted_layers() -> list[ConfigLayer]:
    """The layers that are always trusted, in merge order."""
    return [ConfigLayer(builtin_dir() / "agents.yaml", "built-in"), ConfigLayer(user_config_file(), "user")]


def workspace_layers(workspace: Path) -> list[ConfigLayer]:
    """The workspace's layers, in merge order."""
    return [ConfigLayer(workspace / WORKSPACE_CONFIG, "workspace")]


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` on top of `base`: mappings merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_layer(layer: ConfigLayer, errors: list[PersonaError | RegistryError]) -> dict[str, Any]:
    """The keys the layer's file sets (nothing when there is no file); a file that does not load
    is recorded in `errors` and contributes nothing."""
    if not layer.path.exists() and not layer.path.is_symlink():
        return {}
    if problem := not_regular(layer.path):
        errors.append(RegistryError(layer.path, problem))
        return {}
    try:
        config = load_registry(layer.path)
    except RegistryError as exc:
        errors.append(exc)
        return {}
    raw = config.model_dump(exclude_unset=True, by_alias=True)
    for entry in raw.get("agents", {}).values():
        if entry.get("prompt") is not None:
            entry["prompt"] = str((layer.path.parent / entry["prompt"]).resolve())
    return raw
