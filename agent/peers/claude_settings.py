"""Claude Code's `settings.json` (`~/.claude/`, `.claude/settings.json`, `.claude/settings.local.json`)
as a config layer: `permissions` become our rules, `defaultMode` our mode, `hooks` our hooks.

Precedence inside one file follows Claude Code: deny, then ask, then allow, whatever the order
written. Our rules are last-match-wins, so the file's rules are laid out allow, ask, deny. Across
files a deny always holds (`agent.permissions.rules.evaluate`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

from agent.errors import ConfigError, RegistryError
from agent.hooks.config import HookEventName, parse_hooks
from agent.peers.claude_rules import translate_rule
from agent.peers.layer_content import LayerContent, read_json_object
from agent.permissions.models import PermissionMode

CLAUDE_MODES: dict[str, PermissionMode] = {
    "default": "default",
    "acceptEdits": "accept-edits",
    "plan": "plan",
    "bypassPermissions": "bypass",
}
"""Claude Code's permission modes (`defaultMode`, `--permission-mode`) -> ours."""
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
    if mode in CLAUDE_MODES:
        out.raw["defaults"] = {"permission_mode": CLAUDE_MODES[mode]}
    else:
        known = ", ".join(CLAUDE_MODES)
        out.unapplied.append(f"permissions.defaultMode: {mode!r} has no equivalent here (known: {known})")


def read_claude_settings(path: Path, *, root: Path, workspace: Path, text: str | None = None) -> LayerContent:
    """Translate one settings file.

    Args:
        path: The settings file (with `text`: what names the text in errors).
        root: What a rule's `/path` is relative to: the project for a project file, HOME for the
            user's.
        workspace: Where read and edit patterns are made relative.
        text: The settings as text (`--settings '{...}'`), read instead of the file.

    Raises:
        RegistryError: the file is not JSON, or a rule or list is malformed (with the key).
    """
    data, text = read_json_object(path, text)
    out = LayerContent(text=text)
    permissions = data.get("permissions", {})
    if not isinstance(permissions, dict):
        raise RegistryError(path, "must be an object", key="permissions")
    _rules(permissions, path, root, workspace, out)
    _mode(permissions, path, out)
    for key in permissions:
        if key not in (*_DECISIONS, "defaultMode"):
            out.unapplied.append(f"permissions.{key}: not read by subagent")
    if "hooks" in data:
        _hooks(data["hooks"], path, out)
    out.unapplied += [f"{key}: not read by subagent" for key in data if key not in _OURS]
    return out


def _hooks(block: Any, path: Path, out: LayerContent) -> None:
    """Command hooks, as our `hooks` key; other kinds of hook (`prompt`, `http`, ...), events this
    runtime does not have and keys it does not read are listed as not applied."""
    if not isinstance(block, dict):
        raise RegistryError(path, "must be an object of event names", key="hooks")
    kept: dict[str, list[dict[str, Any]]] = {}
    for event, groups in block.items():
        if event not in get_args(HookEventName):
            out.unapplied.append(f"hooks.{event}: not an event of subagent")
            continue
        for index, group in enumerate(groups if isinstance(groups, list) else [groups]):
            commands = group.get("hooks") if isinstance(group, dict) else None
            if not isinstance(commands, list):
                raise RegistryError(
                    path, "must be an object with a `hooks` list", key=f"hooks.{event}.{index}"
                )
            mine = []
            for command in commands:
                if isinstance(command, dict) and command.get("type", "command") == "command":
                    mine.append({k: v for k, v in command.items() if k in ("type", "command", "timeout")})
                    out.unapplied += [
                        f"hooks.{event}: {k}: not read by subagent"
                        for k in command
                        if k not in ("type", "command", "timeout")
                    ]
                else:
                    kind = command.get("type") if isinstance(command, dict) else command
                    out.unapplied.append(f"hooks.{event}: a {kind!r} hook: only command hooks run here")
            if mine:
                kept.setdefault(event, []).append({"matcher": group.get("matcher") or "", "hooks": mine})
    try:
        parse_hooks(kept)
    except ConfigError as exc:
        raise RegistryError(path, str(exc)) from exc
    if kept:
        out.raw["hooks"] = kept
