"""The SDK's `can_use_tool` answer in subagent's terms (`AskAnswer`).

`updatedInput` that differs from the model's input becomes `AskAnswer.updated_input` (the loop
checks it again before it runs). `updatedPermissions` map onto the session: `addRules`,
`replaceRules` and `removeRules` (behaviour allow, deny or ask) with destination `session` become
`RuleUpdate`s of the session's `AlwaysMemory`, in Claude's rule forms (`Bash(npm test:*)`,
`Write`); `setMode` is the session's permission mode from now on, as `set_permission_mode`.
What subagent cannot apply (a settings-file destination, `addDirectories`, an unknown tool or
mode) is refused: the call is denied with a line saying which update and why, and none of the
answer's updates is applied, so a program never believes a rule was kept when it was not.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from agent.errors import ConfigError
from agent.permissions.models import AskAnswer, AskRequest, RuleUpdate

_ACTIONS: dict[str, Literal["add", "replace", "remove"]] = {
    "addRules": "add",
    "replaceRules": "replace",
    "removeRules": "remove",
}


def _rule_update(update: dict[str, Any], workspace: Path) -> RuleUpdate:
    """One rules update (paths relative to `workspace`); raises ConfigError for what cannot be mapped."""
    from agent.headless.overrides import rules_for

    behavior = update.get("behavior")
    if behavior not in ("allow", "deny", "ask"):
        raise ConfigError(f"behavior {behavior!r} is not allow, deny or ask")
    entries = []
    for rule in update.get("rules") or []:
        name, content = str(rule.get("toolName", "")), rule.get("ruleContent")
        entries.append(name if content is None else f"{name}({content})")
    rules = rules_for(entries, behavior, "updatedPermissions", workspace)
    return RuleUpdate(action=_ACTIONS[update["type"]], decision=behavior, rules=rules)


def _updates(raw: Any, set_mode: Callable[[str], None], workspace: Path) -> list[RuleUpdate]:
    """The answer's rule updates; `setMode` is checked here and applied last (all or nothing).

    Raises:
        ConfigError: an update subagent cannot apply, naming it and why.
    """
    from agent.headless.flags import MODES

    rule_updates: list[RuleUpdate] = []
    modes: list[str] = []
    for index, update in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(update, dict):
            raise ConfigError(f"updatedPermissions[{index}] is not an object")
        kind = update.get("type")
        where = f"updatedPermissions[{index}] ({kind})"
        if update.get("destination", "session") != "session":
            raise ConfigError(
                f"{where}: destination {update['destination']!r}: subagent keeps permission updates "
                "for the session only and writes no Claude settings file; send destination 'session'"
            )
        if kind in _ACTIONS:
            try:
                rule_updates.append(_rule_update(update, workspace))
            except ConfigError as exc:
                raise ConfigError(f"{where}: {exc}") from None
        elif kind == "setMode" and update.get("mode") in MODES:
            modes.append(str(update["mode"]))
        elif kind == "setMode":
            raise ConfigError(f"{where}: unknown mode {update.get('mode')!r}; modes: {', '.join(MODES)}")
        else:
            raise ConfigError(f"{where}: subagent has no such permission update (pass --add-dir for folders)")
    for mode in modes:
        set_mode(mode)
    return rule_updates


def answer_of(
    sdk: dict[str, Any], request: AskRequest, set_mode: Callable[[str], None], workspace: Path
) -> AskAnswer:
    """An `allow` answer from the SDK, with its changed input and permission updates, or the
    denial that says which update could not be applied."""
    try:
        updates = _updates(sdk.get("updatedPermissions"), set_mode, workspace)
    except ConfigError as exc:
        return AskAnswer(
            decision="deny",
            message=f"denied: the SDK allowed this call with a permission update subagent cannot "
            f"apply, so nothing was applied: {exc}",
        )
    updated = sdk.get("updatedInput")
    changed = updated if isinstance(updated, dict) and updated != request.tool_input else None
    return AskAnswer(decision="allow", updated_input=changed, rule_updates=updates)
