"""The `hooks` block, in Claude Code's shape, for `settings.json` and our own config files alike.

    hooks:
      PreToolUse:
        - matcher: "Bash|Edit"        # a regex over the tool's name; "" or "*" is every tool
          hooks:
            - {type: command, command: "./lint.sh", timeout: 30}

Only `command` hooks exist here; Claude Code's other kinds (`prompt`, `http`, ...) are listed by
`subagent doctor` as not applied when a settings file has them.
"""

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from agent.errors import ConfigError

HookEventName = Literal[
    "PreToolUse",
    "PostToolUse",
    "UserPromptSubmit",
    "Stop",
    "SubagentStop",
    "SessionStart",
    "SessionEnd",
    "PreCompact",
    "Notification",
]
DEFAULT_TIMEOUT_S = 60.0
"""Claude Code's default for a command hook."""


class HookCommandConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    type: Literal["command"] = "command"
    command: str = Field(min_length=1)
    timeout: float | None = Field(None, gt=0)
    """Seconds; 60 when unset."""


class HookMatcherConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    matcher: str = ""
    hooks: list[HookCommandConfig]


HooksConfig = dict[HookEventName, list[HookMatcherConfig]]
_ADAPTER: TypeAdapter[HooksConfig] = TypeAdapter(HooksConfig)


@dataclass(frozen=True, eq=False, repr=False)
class Hook:
    """One command to run on one event, and the file that asked for it."""

    event: HookEventName
    matcher: str
    command: str
    timeout_s: float
    source: str


def parse_hooks(block: Any) -> HooksConfig:
    """Validate a `hooks` block.

    Raises:
        ConfigError: an unknown event, a hook without a command, a key that is not known.
    """
    try:
        return _ADAPTER.validate_python(block)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"hooks.{where}: {first['msg']}") from exc


def hooks_of(block: Any, source: str) -> list[Hook]:
    """The hooks a validated block declares, in order.

    Raises:
        ConfigError: as `parse_hooks`.
    """
    hooks: list[Hook] = []
    for event, groups in parse_hooks(block).items():
        for group in groups:
            for command in group.hooks:
                timeout = command.timeout or DEFAULT_TIMEOUT_S
                hooks.append(Hook(event, group.matcher, command.command, timeout, source))
    return hooks
