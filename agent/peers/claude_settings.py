"""Claude Code's `settings.json` (`~/.claude/`, `.claude/settings.json`, `.claude/settings.local.json`)
as a config layer: `permissions` become our rules and `defaultMode` our mode; `hooks` are kept.

Precedence inside one file follows Claude Code: deny, then ask, then allow, whatever the order
written. Our rules are last-match-wins, so the file's rules are laid out allow, ask, deny. Across
files a deny always holds (`agent.permissions.rules.evaluate`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.errors import ConfigError, RegistryError
from agent.peers.claude_rules import translate_rule
from agent.peers.layer_content import LayerContent, read_json_object

_MODES = {"default": "default", "acceptEdits": "accept-edits", "plan": "plan", "bypassPermissions": "bypass"}
_DECISIONS = ("allow", "ask", "deny")
_OURS = {"permissions", "hooks", "$schema"}


def _rules(permissions: dict[str, Any], path: Path, root: Path, workspace: Path, out: LayerContent) -> None:
    block: dict[str, dict[str, str]] = {}
    for decision in _DECISIONS:
        written = permissions.get(decision) or []
        if not isinstance(written, list) or not all(isinstance(r, str) for r in written):
            raise RegistryError(path, "must be a list of rule strings", key=f"permissions.{decision}")
        for rule in written:
            try:
                pairs, why = translate_rule(rule, root=root, workspace=workspace)
            except ConfigError as exc:
                raise RegistryError(path, str(exc), key=f"permissions.{decision}") from exc
            if not pairs:
                out.unapplied.append(f"permissions.{decision}: {rule}: {why}")
            for permission, pattern in pairs:
                patterns = block.setdefault(permission, {})
                patterns.pop(pattern, None)  # a stronger list's rule moves to the end: it decides
                patterns[pattern] = decision
                out.spelled[(permission, pattern)] = rule
    if block:
        out.raw["permission"] = block


def _mode(permissions: dict[str, Any], path: Path, out: LayerContent) -> None:
    mode = permissions.get("defaultMode")
    if mode is None:
        return
    if mode in _MODES:
        out.raw["defaults"] = {"permission_mode": _MODES[mode]}
    else:
        known = ", ".join(_MODES)
        out.unapplied.append(f"permissions.defaultMode: {mode!r} has no equivalent here (known: {known})")


def read_claude_settings(path: Path, *, root: Path, workspace: Path) -> LayerContent:
    """Translate one settings file.

    Args:
        path: The settings file.
        root: What a rule's `/path` is relative to: the project for a project file, HOME for the
            user's.
        workspace: Where read and edit patterns are made relative.

    Raises:
        RegistryError: the file is not JSON, or a rule or list is malformed (with the key).
    """
    data, text = read_json_object(path)
    out = LayerContent(text=text)
    permissions = data.get("permissions", {})
    if not isinstance(permissions, dict):
        raise RegistryError(path, "must be an object", key="permissions")
    _rules(permissions, path, root, workspace, out)
    _mode(permissions, path, out)
    for key in permissions:
        if key not in (*_DECISIONS, "defaultMode"):
            out.unapplied.append(f"permissions.{key}: not read by subagent")
    hooks = data.get("hooks")
    if hooks is not None:
        if not isinstance(hooks, dict):
            raise RegistryError(path, "must be an object of event names", key="hooks")
        out.hooks = hooks
        out.unapplied.append("hooks: subagent does not run Claude Code hooks yet")
    out.unapplied += [f"{key}: not read by subagent" for key in data if key not in _OURS]
    return out
