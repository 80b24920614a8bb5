"""Glob patterns matched in Python with ripgrep's `--glob` semantics (gitignore style).

Why not let rg apply the glob: an rg `--glob` is an override, and overrides beat ignore rules, so
`--glob '*'` lists `.git/` and gitignored folders. Listing with plain `rg --files` (ignores
respected) and matching here keeps one walk and the ignore rules intact.

The rules, as ripgrep applies them to a path relative to the search root:
- a pattern without `/` (a trailing one aside) matches the file name at any depth (`*.py`);
- a pattern with `/` matches the whole relative path; a leading `/` only anchors it;
- `*` and `?` never cross `/`; `**` as a whole component spans any number of folders
  (`**/x`, `a/**/b`, `a/**`; `**` alone matches every path); elsewhere `**` acts as `*`;
- `[abc]`, `[a-z]`, `[!a]` / `[^a]` classes; `{a,b}` alternation (nesting allowed);
  `\\` escapes the next character;
- a leading `!` negates the whole pattern (files NOT matching).
A pattern ending in `/` names folders only, so it matches no file (as with rg, which lists none).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.errors import ToolFailure


@dataclass(frozen=True, eq=False, repr=False)
class GlobMatcher:
    """A compiled glob: `matches(path)` takes a `/`-separated path relative to the search root."""

    regex: re.Pattern[str]
    basename_only: bool
    negated: bool
    folders_only: bool

    def matches(self, path: str) -> bool:
        if self.folders_only:
            return self.negated
        subject = path.rpartition("/")[2] if self.basename_only else path
        return (self.regex.fullmatch(subject) is not None) != self.negated


def name_glob(pattern: str) -> str | None:
    """The pattern as a file-name glob (`*.py`, also `**/*.py`), or None when it needs the path.

    A file-name glob can go to rg as a file type (`--type-add`), which, unlike `--glob`, applies
    after the ignore rules: rg then filters (and stats) only what matches.
    """
    while pattern.startswith("**/"):
        pattern = pattern[3:]
    if not pattern or "/" in pattern or pattern.startswith("!"):
        return None
    return pattern


def compile_glob(pattern: str) -> GlobMatcher:
    """Compile `pattern` (see the module rules).

    Raises:
        ToolFailure: an unclosed `[` or `{`, or an unopened `}`, naming the pattern.
    """
    negated = pattern.startswith("!")
    body = pattern[1:] if negated else pattern
    folders_only = body.endswith("/") and not body.endswith("\\/")
    body = body.rstrip("/") if folders_only else body
    basename_only = "/" not in body
    body = body.removeprefix("/")
    try:
        regex = re.compile(_translate(body))
    except (ValueError, re.error) as exc:
        raise ToolFailure(f"invalid glob {pattern!r}: {exc}") from exc
    return GlobMatcher(regex, basename_only, negated, folders_only)


def _translate(glob: str) -> str:
    """The regex for a glob (without the basename rule), one component of `**` at a time."""
    parts = _split_components(glob)
    out: list[str] = []
    last = len(parts) - 1
    for i, part in enumerate(parts):
        if part == "**":
            if i == last:
                out.append(".*" if i == 0 else "/.*")  # `a/**`: anything inside a
            else:
                out.append("(?:.*/)?" if i == 0 else "/(?:.*/)?")  # `**/x`, `a/**/x`: zero or more folders
            continue
        if i > 0 and parts[i - 1] != "**":
            out.append("/")
        out.append(_component(part))
    return "".join(out)


def _split_components(glob: str) -> list[str]:
    """Split on the `/` outside `{...}` (so `{src/a,lib}/*.py` keeps its alternatives whole)."""
    parts: list[str] = []
    depth = start = 0
    for i, char in enumerate(glob):
        if char == "{" and (i == 0 or glob[i - 1] != "\\"):
            depth += 1
        elif char == "}" and depth:
            depth -= 1
        elif char == "/" and not depth:
            parts.append(glob[start:i])
            start = i + 1
    parts.append(glob[start:])
    return [part for i, part in enumerate(parts) if not (part == "**" and i and parts[i - 1] == "**")]


def _component(text: str) -> str:
    """The regex for one path component (no `/` inside, except within `{...}` alternatives)."""
    out: list[str] = []
    depth = 0
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(re.escape(text[i + 1]))
            i += 2
            continue
        if char == "*":
            while i + 1 < len(text) and text[i + 1] == "*":
                i += 1
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            cls, i = _char_class(text, i)
            out.append(cls)
            continue
        elif char == "{":
            depth += 1
            out.append("(?:")
        elif char == "}" and depth:
            depth -= 1
            out.append(")")
        elif char == "," and depth:
            out.append("|")
        elif char == "}":
            raise ValueError("'}' without an opening '{'")
        else:
            out.append(re.escape(char))
        i += 1
    if depth:
        raise ValueError("unclosed '{'")
    return "".join(out)


def _char_class(text: str, start: int) -> tuple[str, int]:
    """The regex for the `[...]` class opening at `start`, and the index just after it."""
    i = start + 1
    negate = i < len(text) and text[i] in "!^"
    if negate:
        i += 1
    members: list[str] = []
    first = True
    while i < len(text) and (text[i] != "]" or first):
        char = text[i]
        members.append(
            char
            if char == "-" and not first and i + 1 < len(text) and text[i + 1] != "]"
            else re.escape(char)
        )
        first = False
        i += 1
    if i >= len(text):
        raise ValueError("unclosed '['")
    body = "".join(members)
    return (f"[^/{body}]" if negate else f"[{body}]"), i + 1
