"""The Codex `*** Begin Patch` grammar (REFERENCE.md), read the way Codex reads it, and stricter where
Codex would report success for a patch that changes nothing.

- The whole text is trimmed, and every marker line may be padded with spaces.
- Blank lines at the end of a hunk (the patch's own trailing newline, a blank line before
  `*** End Patch` or the next file) are not context.
- `*** End of File` ends its hunk, which must then match at the end of the file.
- A unified-diff hunk header in place of `@@` (models mix the formats) gives a line to look near
  and, after it, git's function line as the anchor.
- An update with no hunk, a hunk with no lines, a hunk with no `-` or `+` line, and a patch without
  `*** End Patch` (it may have been cut off) are errors that say what to send instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.errors import PatchApplyError
from tools._patch_model import Chunk, FileOp

FILE_HEADER = re.compile(r"^\s*\*\*\* (Add|Delete|Update) File: (.+?)\s*$")
_MOVE = re.compile(r"^\s*\*\*\* Move to: (.+?)\s*$")
_UNIFIED_HEADER = re.compile(r"^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@(.*)$")
"""`@@ -12,7 +12,8 @@ def f():` in a Codex patch: a line number to look near, and git's function line."""
BEGIN, END, EOF_MARK = "*** Begin Patch", "*** End Patch", "*** End of File"


@dataclass(eq=False, repr=False)
class _Hunk:
    """A hunk while it is read: its lines keep their tags so that trailing blanks can be told apart."""

    line: int
    anchors: list[str] = field(default_factory=list)
    body: list[tuple[str, str]] = field(default_factory=list)
    """(tag, text) with tag one of ' ', '-', '+'."""
    at_eof: bool = False
    hint: int | None = None
    """The old start line of a unified-diff header written in place of `@@`."""


def parse_codex(text: str) -> list[FileOp]:
    """Every file operation of a `*** Begin Patch` patch.

    Raises:
        PatchApplyError: a malformed patch, with its line number and what to send instead.
    """
    lines = text.strip().split("\n")
    end = next((k for k, ln in enumerate(lines) if ln.strip() == END), None)
    if end is None:
        raise PatchApplyError(
            "the patch has no `*** End Patch` line: it may have been cut off, and nothing was "
            "applied; send the whole patch, ending with `*** End Patch`"
        )
    if end != len(lines) - 1:
        raise PatchApplyError(f"patch line {end + 2}: text after `*** End Patch`; send one patch per call")
    first = 1 if lines[0].strip() == BEGIN else 0
    ops: list[FileOp] = []
    start = None
    for number in range(first, len(lines) - 1):
        if FILE_HEADER.match(lines[number]):
            if start is not None:
                ops.append(_file_op(lines, start, number))
            start = number
        elif start is None and lines[number].strip():
            raise PatchApplyError(
                f"patch line {number + 1}: expected `*** Update File: path` (or Add or "
                f"Delete), got {lines[number]!r}"
            )
    if start is not None:
        ops.append(_file_op(lines, start, len(lines) - 1))
    return ops


def _file_op(lines: list[str], start: int, stop: int) -> FileOp:
    """The operation whose header is `lines[start]` and whose body runs to `lines[stop]`."""
    header = FILE_HEADER.match(lines[start])
    assert header is not None
    kind, path = header.group(1).lower(), header.group(2)
    body = [(number + 1, lines[number]) for number in range(start + 1, stop)]
    while body and not body[-1][1].strip():
        body.pop()
    if kind == "add":
        return FileOp(kind="add", path=path, content=_added_lines(path, body))
    if kind == "delete":
        if body:
            raise PatchApplyError(
                f"patch line {body[0][0]}: unexpected {body[0][1]!r} after `*** Delete File: {path}`"
            )
        return FileOp(kind="delete", path=path)
    move_to = None
    if body and (move := _MOVE.match(body[0][1])):
        move_to = move.group(1)
        body = body[1:]
    op = FileOp(kind="update", path=path, move_to=move_to, chunks=_chunks(path, body))
    if not op.chunks and not move_to:
        raise PatchApplyError(
            f"patch line {start + 1}: `*** Update File: {path}` has no hunk, so it would change nothing; "
            "after it put `@@` and the lines to change (' ' context, '-' removed, '+' added)"
        )
    return op


def _added_lines(path: str, body: list[tuple[int, str]]) -> list[str]:
    content: list[str] = []
    for number, raw in body:
        if not raw.startswith("+"):
            what = "is empty" if not raw.strip() else f"does not start with '+': {raw!r}"
            raise PatchApplyError(
                f"patch line {number} of `*** Add File: {path}` {what}; every line of "
                "an added file starts with '+' (an empty line is a lone '+')"
            )
        content.append(raw[1:])
    return content


def _chunks(path: str, body: list[tuple[int, str]]) -> list[Chunk]:
    hunks: list[_Hunk] = []
    current: _Hunk | None = None
    for number, raw in body:
        if raw.strip() == EOF_MARK:
            if current is None or not current.body:
                raise PatchApplyError(
                    f"patch line {number}: `*** End of File` without lines of a hunk "
                    "before it; put the last lines of the file (with '-'/'+') first"
                )
            current.at_eof = True
            current = None
        elif raw.startswith("@@"):
            if current is None or current.body:
                current = _Hunk(line=number)
                hunks.append(current)
            numbered = _UNIFIED_HEADER.match(raw)
            if numbered:
                current.hint = int(numbered.group(1))
            if anchor := (numbered.group(2) if numbered else raw[2:]).strip():
                current.anchors.append(anchor)
        elif raw[:1] in (" ", "-", "+") or not raw.strip():
            if current is None and not raw.strip():
                continue
            if current is None:
                current = _Hunk(line=number)
                hunks.append(current)
            tag = raw[:1] if raw[:1] in ("-", "+") else " "
            current.body.append((tag, raw[1:]))
        else:
            raise PatchApplyError(
                f"patch line {number}: in `*** Update File: {path}`, a line must start "
                f"with ' ', '-', '+' or '@@': {raw!r}"
            )
    return [_chunk(path, k, hunk) for k, hunk in enumerate(hunks, 1)]


def _chunk(path: str, number: int, hunk: _Hunk) -> Chunk:
    body = hunk.body
    while body and body[-1][0] == " " and not body[-1][1].strip():
        body.pop()
    where = f"patch line {hunk.line}: hunk {number} of `*** Update File: {path}`"
    if not body:
        raise PatchApplyError(
            f"{where} has no lines; after `@@` put the lines to change "
            "(' ' context, '-' removed, '+' added), or leave the hunk out"
        )
    if all(tag == " " for tag, _ in body):
        raise PatchApplyError(
            f"{where} changes nothing: every line is context (' '); mark the lines to "
            "remove with '-' and the lines to add with '+'"
        )
    return Chunk(
        old=[t for tag, t in body if tag != "+"],
        new=[t for tag, t in body if tag != "-"],
        anchors=hunk.anchors,
        at_eof=hunk.at_eof,
        number=number,
        hint=hunk.hint,
    )
