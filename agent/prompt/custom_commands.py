"""Custom slash commands: markdown prompt templates a person runs as `/name args` (in chat, in an
editor over ACP: `agent.acp.commands`, or headless with `subagent run --command name` or a
prompt starting with `/name`).

Found in (a later folder wins a name): `~/.claude/commands/`, `~/.config/subagent/commands/`,
opencode.json's `command` block, the workspace's `.claude/commands/`, `.opencode/command/`,
`.opencode/commands/`, `.subagent/commands/`. A file's name is the command (`review.md` is
`/review`; `frontend/lint.md` is `/frontend:lint`). Frontmatter (Claude Code's keys):
`description` (lists show the prompt's first line without it), `argument-hint`, `model` (the
model of the command's run), `allowed-tools` (rules allowed without asking while it runs:
`agent.prompt.command_grant`), and opencode's `agent` (the agent of the command's run).
The body is the prompt, with:

- `$ARGUMENTS`: everything after the name; `$1` .. `$9`: the arguments split as a shell would;
- `@path`: a file of the workspace, whose text is appended to the prompt (`<file path=...>`);
  a path outside the workspace, or missing, is left as written. `@$1` with an argument already
  written `@path` (an editor's mention) keeps one `@`.

`!command` lines (Claude Code runs them first) are not run: they stay text.

opencode's `subtask: true`, and Claude Code's `disable-model-invocation: false`, are not applied
(the command runs in the session it is typed in; the model has no tool that runs one): a warning
line when it runs, and a `not applied` line in `subagent doctor`. `disable-model-invocation:
true` holds by construction.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import agent.registry.yaml_text as yaml_text
from agent.errors import ConfigError, PersonaError
from agent.paths import claude_home, config_home
from agent.prompt.command_grant import ToolGrant, split_allowed_tools
from agent.registry.persona import split_frontmatter, warn_dropped
from agent.trust.confine import not_regular, outside, read_resolved

WORKSPACE_COMMAND_DIRS = (".claude/commands", ".opencode/command", ".opencode/commands", ".subagent/commands")
MAX_COMMAND_BYTES = 128 * 1024
MAX_INCLUDE_BYTES = 256 * 1024
_POSITIONAL = re.compile(r"(@?)\$([1-9])")
_INCLUDE = re.compile(r"(?<![\w@])@([\w./-]+[\w/-])")
_COMMAND_LINE = re.compile(r"/(\S+)(?:\s+(.*))?\Z", re.DOTALL)


@dataclass(frozen=True, eq=False, repr=False)
class CustomCommand:
    """A custom command from a markdown file (Claude Code's or opencode's)."""

    name: str
    template: str
    description: str = ""
    argument_hint: str = ""
    model: str | None = None
    source: str = ""
    agent: str | None = None
    """opencode's `agent`: the agent that runs the command (None: the one in use)."""
    allowed_tools: tuple[str, ...] = ()
    """`allowed-tools` as written, one rule each."""
    from_workspace: bool = False
    """Found in the workspace (its grant needs trust), not in the user's own folders."""
    unapplied: tuple[str, ...] = ()
    """A line per key it sets that is not applied here (`subtask of /ship: not applied ...`)."""

    def summary(self) -> str:
        """What lists of commands show for it: its `description`, else the first line of its
        prompt (Claude Code's default)."""
        return self.description or self.template.partition("\n")[0].strip()

    def grant(self) -> ToolGrant | None:
        """What its `allowed-tools` allow while it runs; None when it names none."""
        if not self.allowed_tools:
            return None
        return ToolGrant(
            command=self.name, source=Path(self.source), entries=self.allowed_tools,
            from_workspace=self.from_workspace,
        )  # fmt: skip


def _unapplied(name: str, meta: dict[str, Any]) -> tuple[str, ...]:
    """The peers' keys a command sets that mean something this runtime does not do."""
    notes = []
    if meta.get("subtask"):
        why = "it runs in the session it is typed in; its `agent` picks who runs it"
        notes.append(f"subtask of /{name}: not applied ({why})")
    if meta.get("disable-model-invocation") is False:
        why = "only a person runs a command here: the model has no tool to run one"
        notes.append(f"disable-model-invocation of /{name}: false is not applied ({why})")
    return tuple(notes)


def _from_file(path: Path, name: str, *, from_workspace: bool) -> CustomCommand:
    if problem := not_regular(path):
        raise ConfigError(f"{path}: {problem}")
    text = path.read_bytes()[:MAX_COMMAND_BYTES].decode("utf-8", errors="replace")
    try:
        front, body = split_frontmatter(text, path)
        meta = yaml_text.load(front) if front else {}
    except (PersonaError, yaml_text.YAMLError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    meta = meta if isinstance(meta, dict) else {}
    return CustomCommand(
        name=name,
        template=body.strip(),
        description=str(meta.get("description") or ""),
        argument_hint=str(meta.get("argument-hint") or ""),
        model=str(meta["model"]) if meta.get("model") else None,
        source=str(path),
        agent=str(meta["agent"]) if meta.get("agent") else None,
        allowed_tools=split_allowed_tools(meta.get("allowed-tools")),
        from_workspace=from_workspace,
        unapplied=_unapplied(name, meta),
    )


def _scan(folder: Path, found: dict[str, CustomCommand], errors: list[str], confine: Path | None) -> None:
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*.md")):
        if confine is not None and outside(path, confine) is not None:
            errors.append(f"{path}: left out: it leads outside the workspace")
            continue
        name = ":".join(path.relative_to(folder).with_suffix("").parts)
        try:
            found[name] = _from_file(path, name, from_workspace=confine is not None)
        except (OSError, ConfigError) as exc:
            errors.append(str(exc))


def _from_opencode(workspace: Path, found: dict[str, CustomCommand], errors: list[str]) -> None:
    from agent.peers.opencode_json import read_opencode_json

    try:
        data = read_opencode_json(workspace) or {}
    except ConfigError as exc:
        errors.append(str(exc))
        return
    block: Any = data.get("command") or {}
    for name, entry in block.items() if isinstance(block, dict) else ():
        if isinstance(entry, dict) and isinstance(entry.get("template"), str):
            model, agent = entry.get("model"), entry.get("agent")
            found[str(name)] = CustomCommand(
                str(name), entry["template"].strip(), str(entry.get("description") or ""), "",
                str(model) if model else None, str(workspace / "opencode.json"),
                str(agent) if agent else None, from_workspace=True,
                unapplied=_unapplied(str(name), entry),
            )  # fmt: skip


def find_commands(workspace: Path) -> tuple[dict[str, CustomCommand], list[str]]:
    """Every custom command for `workspace` by name, and a line per file that did not load."""
    found: dict[str, CustomCommand] = {}
    errors: list[str] = []
    for folder in (claude_home() / "commands", config_home() / "commands"):
        _scan(folder, found, errors, None)
    _from_opencode(workspace, found, errors)
    for rel in WORKSPACE_COMMAND_DIRS:
        _scan(workspace / rel, found, errors, workspace)
    return dict(sorted(found.items())), errors


def _includes(text: str, workspace: Path) -> list[str]:
    blocks: list[str] = []
    for rel in dict.fromkeys(_INCLUDE.findall(text)):
        real = Path(os.path.realpath(workspace / rel))
        if outside(real, workspace) is not None:
            continue
        try:  # the file just checked, or nothing: never a link swapped in since
            data, _ = read_resolved(real, MAX_INCLUDE_BYTES)
        except OSError:
            continue  # missing, not a regular file, or swapped: left as written
        content = data.decode("utf-8", errors="replace")
        blocks.append(f'<file path="{rel}">\n{content}\n</file>')
    return blocks


def _positional(found: re.Match[str], words: list[str]) -> str:
    """`$N` as its argument; `@$N` with an argument already written `@path` (an editor's mention)
    keeps one `@`."""
    index = int(found[2])
    word = words[index - 1] if index <= len(words) else ""
    return word if found[1] and word.startswith("@") else found[1] + word


def expand(command: CustomCommand, arguments: str, workspace: Path) -> str:
    """The prompt `/name arguments` stands for (see the module docstring)."""
    try:
        words = shlex.split(arguments)
    except ValueError:
        words = arguments.split()
    text = command.template.replace("$ARGUMENTS", arguments)
    text = _POSITIONAL.sub(lambda m: _positional(m, words), text)
    if "$ARGUMENTS" not in command.template and not _POSITIONAL.search(command.template) and arguments:
        text = f"{text}\n\n{arguments}"
    return "\n\n".join([text, *_includes(text, workspace)])


@dataclass(frozen=True, eq=False, repr=False)
class CommandRun:
    """What running a command stands for: its prompt, and what it sets for that run only."""

    prompt: str
    model: str | None
    """The command's `model` (None: the run's own)."""
    agent: str | None
    """The command's `agent` (None: the one in use)."""
    grant: ToolGrant | None
    """Its `allowed-tools`, allowed without asking during the run."""


def invoke(command: CustomCommand, arguments: str, workspace: Path) -> CommandRun:
    """The run `/name arguments` stands for; a warning line (once) per key it sets that is not
    applied."""
    warn_dropped(Path(command.source), list(command.unapplied))
    return CommandRun(expand(command, arguments, workspace), command.model, command.agent, command.grant())


def command_in_prompt(prompt: str, workspace: Path) -> CommandRun | None:
    """The run a prompt starting with `/name` stands for; None when it names no command (the
    prompt is then sent as written)."""
    parts = split_command_line(prompt)
    if parts is None:
        return None
    found = find_commands(workspace)[0].get(parts[0])
    return invoke(found, parts[1], workspace) if found is not None else None


def split_command_line(line: str) -> tuple[str, str] | None:
    """(`name`, `arguments`) of a line starting with `/name`, else None. The name ends at the
    first white space, a line break too (an editor's prompt `/review` then a mentioned file)."""
    found = _COMMAND_LINE.match(line)
    if found is None or line.startswith("//"):
        return None
    return found[1], (found[2] or "").strip()
