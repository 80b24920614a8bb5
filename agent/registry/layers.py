"""Where config comes from, in order; a later layer wins key by key, and a deny rule from any
layer holds (`agent.permissions.rules.evaluate`).

1. built-in: the shipped `agents.yaml`;
2. user: Claude Code's `~/.claude/settings.json`, then our `$XDG_CONFIG_HOME/subagent/config.yaml`
   (`agent.paths.user_config_file()`); trusted, since only the user writes there;
3. project: `opencode.json`, `.claude/settings.json`, then `.subagent/config.yaml`;
4. local: `.claude/settings.local.json`, then `.subagent/config.local.yaml` (gitignored, but the
   repository's code can write them: they are workspace layers like the project's);
5. cli: Claude settings given on the command line (`subagent -p --settings FILE|JSON`): read last,
   so they win, and trusted, since the caller passed them.

Project and local layers are trusted only when the user trusts the folder (`agent.trust`).
A peer file is translated into our keys (`agent.peers`); each layer is read as the keys its file
sets (`exclude_unset`), with every `prompt` path made absolute against the file's own folder,
then merged with `deep_merge`. `sources` (Claude Code's `--setting-sources user,project,local`)
picks the layers a run takes; built-in and cli are always taken. Of a layer left out, only its
deny rules (its top-level `permission` denies) are read: a deny from any file holds (issue 20),
and one never gives a run more than the caller asked for.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from agent.errors import PersonaError, RegistryError
from agent.paths import builtin_dir, claude_home, user_config_file
from agent.peers.claude_settings import read_claude_settings
from agent.peers.layer_content import LayerContent
from agent.peers.opencode_json import OPENCODE_JSON, opencode_config
from agent.registry.schema import load_registry
from agent.sandbox._placeholder import is_placeholder
from agent.trust.confine import not_regular

WORKSPACE_CONFIG = ".subagent/config.yaml"
LOCAL_CONFIG = ".subagent/config.local.yaml"
Scope = Literal["built-in", "user", "project", "local", "cli"]
SETTING_SOURCES: tuple[Scope, ...] = ("user", "project", "local")
Form = Literal["subagent", "claude", "opencode"]


@dataclass(frozen=True, eq=False, repr=False)
class ConfigLayer:
    """One config file, whose it is, and in which format."""

    path: Path
    scope: Scope
    form: Form = "subagent"
    root: Path | None = None
    """For a Claude Code file: what its rules' `/path` is relative to."""
    text: str | None = None
    """A layer given as text (`--settings '{...}'`), read instead of `path` (which names it)."""

    @property
    def trusted_always(self) -> bool:
        """Built-in, user and cli layers are the user's own; a workspace layer is trusted only
        with the folder."""
        return self.scope in ("built-in", "user", "cli")


def trusted_layers() -> list[ConfigLayer]:
    """The layers that are always trusted, in merge order."""
    return [
        ConfigLayer(builtin_dir() / "agents.yaml", "built-in"),
        ConfigLayer(claude_home() / "settings.json", "user", "claude", Path.home()),
        ConfigLayer(user_config_file(), "user"),
    ]


def workspace_layers(workspace: Path, settings: ConfigLayer | None = None) -> list[ConfigLayer]:
    """The workspace's layers, in merge order; `settings` (a cli layer) last."""
    layers = [
        ConfigLayer(workspace / OPENCODE_JSON, "project", "opencode"),
        ConfigLayer(workspace / ".claude/settings.json", "project", "claude", workspace),
        ConfigLayer(workspace / WORKSPACE_CONFIG, "project"),
        ConfigLayer(workspace / ".claude/settings.local.json", "local", "claude", workspace),
        ConfigLayer(workspace / LOCAL_CONFIG, "local"),
    ]
    return layers if settings is None else [*layers, settings]


def _denies(block: Any) -> Any:
    """The deny decisions of a `permission` block, in its shape (None when there are none)."""
    if block == "deny":
        return block
    if not isinstance(block, dict):
        return None
    kept = {key: denied for key, value in block.items() if (denied := _denies(value)) is not None}
    return kept or None


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` on top of `base`: mappings merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _content(layer: ConfigLayer, workspace: Path) -> LayerContent:
    if layer.form == "claude":
        return read_claude_settings(
            layer.path, root=layer.root or workspace, workspace=workspace, text=layer.text
        )
    if layer.form == "opencode":
        return opencode_config(layer.path)
    raw = load_registry(layer.path).model_dump(exclude_unset=True, by_alias=True)
    return LayerContent(raw=raw, text=layer.path.read_text(encoding="utf-8"))


def read_layer(
    layer: ConfigLayer,
    errors: list[PersonaError | RegistryError],
    workspace: Path,
    sources: Collection[str] = SETTING_SOURCES,
) -> LayerContent:
    """What the layer's file sets (nothing when there is no file; only its deny rules when
    `sources` leaves its scope out); a file that does not load is recorded in `errors` and
    contributes nothing."""
    if layer.text is None and not layer.path.exists() and not layer.path.is_symlink():
        return LayerContent()
    if layer.text is None and is_placeholder(layer.path):  # the sandbox's stand-in while bash runs
        return LayerContent()
    if layer.text is None and (problem := not_regular(layer.path)):
        errors.append(RegistryError(layer.path, problem))
        return LayerContent()
    try:
        content = _content(layer, workspace)
    except RegistryError as exc:
        errors.append(exc)
        return LayerContent()
    if layer.scope in SETTING_SOURCES and layer.scope not in sources:
        denied = _denies(content.raw.get("permission"))
        content.raw = {"permission": denied} if denied is not None else {}
    for entry in content.raw.get("agents", {}).values():
        if entry.get("prompt") is not None:
            entry["prompt"] = str((layer.path.parent / entry["prompt"]).resolve())
    return content
