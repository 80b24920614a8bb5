"""Load one persona markdown file (opencode or Claude Code dialect) into an `AgentSpec`.

The file is `---` on its first line, YAML frontmatter, a line that is exactly `---`, then the
body. The body (the system prompt) is every byte after the closing `---` line's newline, unchanged.
A file without a leading `---` has no frontmatter: all of it is the body.

Dialect: a file under a `.claude` folder is Claude Code; otherwise a `tools` map means opencode,
and `name` or a `tools` list or comma string means Claude Code; anything else is opencode.
Besides each dialect's own keys, both accept ours: `thinking`, `verify`, `network`,
`can_delegate`, `max_output_tokens`.
"""

import logging
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

import agent.registry.yaml_text as yaml_text
from agent.errors import ConfigError, PersonaError
from agent.permissions.from_config import permission_to_rules, tools_to_selection
from agent.registry.spec import AgentSpec, ThinkingConfig
from agent.trust.confine import not_regular

Dialect = Literal["opencode", "claude"]
_log = logging.getLogger(__name__)
_WARNED: set[str] = set()


def warn_dropped(path: Path, dropped: list[str]) -> None:
    """One warning line per note on `path` (a foreign tool it switches on, a key not applied),
    once per process (the registry is loaded, and commands read, more than once)."""
    for note in dropped:
        line = f"{path}: {note}"
        if line not in _WARNED:
            _WARNED.add(line)
            _log.warning("%s", line)


class _OurKeys(BaseModel):
    """Keys of this runtime, accepted in either dialect."""

    model_config = ConfigDict(defer_build=True)

    description: str = ""
    model: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    color: str | None = None
    permission: dict[str, Any] | str | None = None
    thinking: ThinkingConfig | None = None
    verify: str | None = None
    network: bool = False
    can_delegate: bool | None = None
    max_output_tokens: int | None = None
    max_turns: int | None = None
    hidden: bool = False
    disable: bool = False
    skills: list[str] | str | None = None
    """Skills to start with (a list, or Claude Code's comma string)."""
    mcp_servers: dict[str, Any] | list[Any] | None = Field(None, alias="mcpServers")
    """Claude Code's: MCP servers for this agent, `{name: definition}` or a list of names (servers
    configured elsewhere, which every agent has) and one-entry `{name: definition}` mappings."""


class OpencodeFrontmatter(_OurKeys):
    """opencode's keys; any other key is a model option."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    mode: Literal["primary", "subagent", "all"] = "all"
    tools: dict[str, bool] | None = None
    steps: int | None = None
    max_steps: int | None = Field(None, alias="maxSteps")
    prompt: Any = None
    """Ignored: in a markdown persona the body is the prompt."""


class ClaudeFrontmatter(_OurKeys):
    """Claude Code's keys; others it knows (`permissionMode`, `hooks`) are ignored."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = None
    mode: Literal["primary", "subagent", "all"] = "subagent"
    tools: list[str] | str | None = None


def split_frontmatter(text: str, path: Path) -> tuple[str | None, str]:
    """Cut a persona into frontmatter text (None when there is none) and body.

    Raises:
        PersonaError: the opening `---` has no closing `---` line.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n") != "---":
        return None, text
    for index, line in enumerate(lines[1:], start=1):
        if line.rstrip("\r\n") == "---":
            return "".join(lines[1:index]), "".join(lines[index + 1 :])
    raise PersonaError(
        path,
        "frontmatter opened with `---` is never closed; add a line with only `---` after the last key",
        line=1,
    )


def _parse_yaml(front: str, path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    """Parse frontmatter; return its data and each top-level key's line in the file."""
    try:
        data, keys = yaml_text.load_keyed(front)
    except yaml_text.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        # A parser that ran off the end (an unclosed `[`) points at the last frontmatter line.
        last = max(front.count("\n") - 1, 0)
        line = min(mark.line, last) + 2 if mark is not None else None
        raise PersonaError(path, f"invalid YAML in frontmatter: {exc.problem or exc}", line=line) from exc
    if data is None:
        return {}, {}
    if not isinstance(data, dict) or keys is None:
        raise PersonaError(path, "frontmatter must be a mapping of keys to values", line=2)
    lines = {key: line + 2 for key, line in keys.items()}
    return data, lines


def detect_dialect(path: Path, data: dict[str, Any]) -> Dialect:
    """Claude Code under `.claude/`; else opencode for a `tools` map; else Claude Code for `name`
    or a `tools` list; else opencode."""
    if ".claude" in path.parts:
        return "claude"
    if isinstance(data.get("tools"), dict):
        return "opencode"
    if "name" in data or isinstance(data.get("tools"), (list, str)):
        return "claude"
    return "opencode"


def _validate(model: type[_OurKeys], data: dict[str, Any], lines: dict[str, int], path: Path) -> _OurKeys:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = str(first["loc"][0]) if first["loc"] else ""
        dotted = ".".join(str(p) for p in first["loc"])
        raise PersonaError(path, f"{dotted}: {first['msg']}", line=lines.get(key)) from exc


MAX_PERSONA_BYTES = 1024 * 1024
"""A persona is a prompt: anything larger is a mistake (or a file that is not a persona)."""


def _read_text(path: Path) -> str:
    """The file's text; a FIFO or device is refused without opening it (opening one could block)."""
    if problem := not_regular(path):
        raise PersonaError(path, problem)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_PERSONA_BYTES + 1)
        if len(data) > MAX_PERSONA_BYTES:
            raise PersonaError(path, f"larger than {MAX_PERSONA_BYTES} bytes; a persona is a prompt")
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PersonaError(path, f"cannot read: {exc}") from exc


def load_persona(path: Path, name: str | None = None, dialect: Dialect | None = None) -> AgentSpec:
    """Load one persona file.

    Args:
        path: The markdown file.
        name: The agent's name; defaults to the Claude `name` key, else the file's stem.
        dialect: Force a dialect instead of detecting it.

    Raises:
        PersonaError: the file cannot be read or does not fit its dialect (with the line).
    """
    text = _read_text(path)
    front, body = split_frontmatter(text, path)
    data, lines = _parse_yaml(front, path) if front is not None else ({}, {})
    dialect = dialect or detect_dialect(path, data)
    if dialect == "claude":
        return _claude_spec(_validate(ClaudeFrontmatter, data, lines, path), body, path, name, lines)
    return _opencode_spec(_validate(OpencodeFrontmatter, data, lines, path), body, path, name, lines)


def _common(fm: _OurKeys, path: Path, lines: dict[str, int]) -> dict[str, Any]:
    """Fields both dialects fill the same way, with tools and permission turned into rules."""
    tools: Any = getattr(fm, "tools", None)
    try:
        selection = tools_to_selection(tools, source=str(path))
    except ConfigError as exc:
        raise PersonaError(path, f"tools: {exc}", line=lines.get("tools")) from exc
    warn_dropped(path, selection.dropped)
    try:
        rules = permission_to_rules(fm.permission, source=str(path))
    except ConfigError as exc:
        raise PersonaError(path, str(exc), line=lines.get("permission")) from exc
    can_delegate = fm.can_delegate if fm.can_delegate is not None else selection.can_delegate
    return {
        "description": fm.description,
        "model": fm.model,
        "temperature": fm.temperature,
        "top_p": fm.top_p,
        "color": fm.color,
        "thinking": fm.thinking,
        "verify": fm.verify,
        "network": fm.network,
        "can_delegate": can_delegate,
        "max_output_tokens": fm.max_output_tokens,
        "hidden": fm.hidden,
        "skills": [s.strip() for s in fm.skills.split(",") if s.strip()]
        if isinstance(fm.skills, str)
        else fm.skills,
        "disable": fm.disable,
        "tools": selection.enabled,
        "permission": selection.rules + rules,
        "source": path,
        "mcp_servers": _inline_servers(fm.mcp_servers),
    }


def _inline_servers(block: dict[str, Any] | list[Any] | None) -> dict[str, Any]:
    """The definitions written in the persona (names alone refer to configured servers)."""
    if isinstance(block, dict):
        return dict(block)
    found: dict[str, Any] = {}
    for item in block or []:
        if isinstance(item, dict):
            found.update(item)
    return found


def _opencode_spec(fm: _OurKeys, body: str, path: Path, name: str | None, lines: dict[str, int]) -> AgentSpec:
    assert isinstance(fm, OpencodeFrontmatter)
    options = dict(fm.model_extra or {})
    max_turns = fm.max_turns or fm.steps or fm.max_steps
    return AgentSpec(
        name=name or path.stem,
        mode=fm.mode,
        prompt=body,
        max_turns=max_turns,
        options=options,
        dialect="opencode",
        **_common(fm, path, lines),
    )


def _claude_spec(fm: _OurKeys, body: str, path: Path, name: str | None, lines: dict[str, int]) -> AgentSpec:
    assert isinstance(fm, ClaudeFrontmatter)
    return AgentSpec(
        name=name or fm.name or path.stem,
        mode=fm.mode,
        prompt=body,
        max_turns=fm.max_turns,
        dialect="claude",
        **_common(fm, path, lines),
    )
