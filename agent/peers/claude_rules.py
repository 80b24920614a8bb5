"""One Claude Code permission rule (`Bash(npm run test:*)`, `Read(./.env)`, `mcp__github`) as our
(permission, pattern) pairs.

The forms (Claude Code's settings documentation, "Permission rule syntax"):
- `Tool` or `Tool(*)`: every use of the tool;
- `Bash(cmd:*)`: `cmd` alone or with any arguments (the legacy prefix form) -> `cmd *`, which our
  matcher reads the same way; `Bash(exact)` and `Bash(git * main)` pass through (our `*` is
  Claude's `*`);
- `Read(path)`, `Edit(path)`, `Write(path)` (gitignore patterns): `//abs` is an absolute path,
  `~/p` is under HOME, `/p` is relative to the settings file's root (the project for a project
  file, HOME for the user's), `./p` relative to the project, and a bare `name` without a `/`
  matches at any depth (`name` and `*/name`); `**` is our `*` (which already crosses `/`). Our
  read and edit patterns are relative to the workspace inside it, absolute outside;
- `WebFetch(domain:host)` -> `webfetch` on `host`;
- `Task(agent)` / `Agent(agent)` -> `task` on the subagent's name;
- `mcp__server` and `mcp__server__tool` (with `*`) -> a rule whose permission is the tool name.

A tool this runtime does not have (`WebSearch`, `TodoWrite`, ...) gives no pair and a reason
instead, for `subagent doctor`; so does `Skill(...)`: the `skill` tool asks no permission.
"""

from __future__ import annotations

import re
from pathlib import Path

from agent.errors import ConfigError

_RULE = re.compile(r"^(?P<tool>[A-Za-z_][\w-]*)(?:\((?P<spec>.*)\))?$", re.DOTALL)
_PATH_TOOLS = {"read": "read", "edit": "edit", "write": "edit", "multiedit": "edit", "notebookedit": "edit"}
_PLAIN_TOOLS = {"bash": "bash", "grep": "grep", "glob": "glob", "ls": "glob", "task": "task", "agent": "task"}


def split_rules(values: list[str]) -> list[str]:
    """Rules written as Claude Code lists them (`--allowedTools`, a command's `allowed-tools`):
    `Read,Bash(git log:*) Edit` -> ["Read", "Bash(git log:*)", "Edit"]; commas and spaces
    separate, except inside parentheses."""
    out: list[str] = []
    for value in values:
        depth, current = 0, ""
        for char in value:
            depth += (char == "(") - (char == ")")
            if depth <= 0 and (char == "," or char.isspace()):
                out.append(current)
                depth, current = 0, ""
            else:
                current += char
        out.append(current)
    return [item.strip() for item in out if item.strip()]


def _bash_pattern(spec: str) -> str:
    return spec[:-2].rstrip() + " *" if spec.endswith(":*") else spec


def _path_patterns(spec: str, root: Path, workspace: Path) -> list[str]:
    """Our read/edit patterns for one gitignore-style path (see the module docstring)."""
    spec = spec.replace("**", "*")
    if spec.startswith("//"):
        absolute = spec[1:]
    elif spec.startswith("~/"):
        absolute = f"{Path.home()}/{spec[2:]}"
    elif spec.startswith("/"):
        absolute = f"{root}/{spec[1:]}"
    else:
        relative = spec.removeprefix("./")
        if "/" in relative.rstrip("/") or spec.startswith("./"):
            return [relative]
        return [relative, f"*/{relative}"]
    inside = f"{workspace}/"
    return [absolute[len(inside) :] if absolute.startswith(inside) else absolute]


def translate_rule(rule: str, *, root: Path, workspace: Path) -> tuple[list[tuple[str, str]], str]:
    """(permission, pattern) pairs for one rule, and why nothing applies when the list is empty.

    Raises:
        ConfigError: the text is not a rule at all (`Bash(` unclosed, an empty string).
    """
    text = rule.strip()
    if text.startswith("mcp__"):
        name = text if text.count("__") >= 2 else f"{text}__*"
        return [(name, "*")], ""
    match = _RULE.match(text)
    if match is None:
        raise ConfigError(f"{rule!r} is not a permission rule; write Tool or Tool(specifier)")
    tool, spec = match["tool"].lower(), match["spec"]
    every = spec is None or spec.strip() in ("", "*")
    if tool in _PATH_TOOLS:
        patterns = ["*"] if every else _path_patterns(spec.strip(), root, workspace)
        return [(_PATH_TOOLS[tool], p) for p in patterns], ""
    if tool == "webfetch":
        if every:
            return [("webfetch", "*")], ""
        host = spec.strip().removeprefix("domain:")
        return [("webfetch", host)], ""
    if tool == "skill":
        return [], "the skill tool asks no permission (it reads only the listed skills' own files)"
    if tool in _PLAIN_TOOLS:
        pattern = "*" if every else (_bash_pattern(spec.strip()) if tool == "bash" else spec.strip())
        return [(_PLAIN_TOOLS[tool], pattern)], ""
    return [], f"{match['tool']} is not a tool of subagent"
