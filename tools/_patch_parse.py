"""Parsing both patch formats into one model: the Codex `*** Begin Patch` grammar and unified diffs.

Both become a list of FileOp; applying never needs to know which format a patch came in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from agent.errors import PatchApplyError

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$")
_CODEX_FILE = re.compile(r"^\*\*\* (Add|Delete|Update) File: (.+)$")


@dataclass
class Chunk:
    """One hunk: the old lines to find and the new lines to put there."""

    old: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    anchors: list[str] = field(default_factory=list)
    """Codex `@@ text` lines: the chunk comes after a line matching each, in order."""
    hint: int | None = None
    """A unified diff's old start line (1-based): where to look first, not trusted."""
    at_eof: bool = False
    old_no_newline: bool = False
    new_no_newline: bool = False
    number: int = 0
    """1-based position of the hunk in its file, for error messages."""


@dataclass
class FileOp:
    """One file the patch adds, deletes or updates (and maybe moves)."""

    kind: Literal["add", "delete", "update"]
    path: str
    move_to: str | None = None
    chunks: list[Chunk] = field(default_factory=list)
    content: list[str] | None = None
    """The whole text of an added file, as lines."""
    no_final_newline: bool = False


def parse_patch(text: str) -> list[FileOp]:
    """Parse either format; the Codex grammar wins when its markers are present.

    Raises:
        PatchApplyError: text that is neither format, or a malformed part (with its line).
    """
    lines = text.replace("\r\n", "\n").split("\n")
    if any(_CODEX_FILE.match(ln) for ln in lines) or text.lstrip().startswith("*** Begin Patch"):
        ops = _parse_codex(lines)
    elif any(_HUNK.match(ln) or ln.startswith(("--- ", "diff --git ")) for ln in lines):
        ops = _parse_unified(lines)
    else:
        raise PatchApplyError(
            "patch_text is neither a `*** Begin Patch` patch nor a unified diff (no `*** Update File:`,"
            " `--- a/file` or `@@ -n,m +n,m @@` lines found)"
        )
    if not ops:
        raise PatchApplyError("the patch changes no file")
    return ops


def _parse_codex(lines: list[str]) -> list[FileOp]:
    ops: list[FileOp] = []
    op: FileOp | None = None
    chunk: Chunk | None = None
    for number, raw in enumerate(lines, 1):
        line = raw
        if line.strip() in ("*** Begin Patch", "*** End Patch") or (op is None and not line.strip()):
            continue
        header = _CODEX_FILE.match(line)
        if header:
            kind = header.group(1).lower()
            op = FileOp(kind=kind, path=header.group(2).strip(),  # type: ignore[arg-type]
                        content=[] if kind == "add" else None)
            ops.append(op)
            chunk = None
            continue
        if op is None:
            raise PatchApplyError(f"patch line {number}: expected `*** Update File: path` (or Add/Delete), "
                                  f"got {raw!r}")
        if line.startswith("*** Move to: ") and op.kind == "update":
            op.move_to = line[len("*** Move to: "):].strip()
            continue
        if line.strip() == "*** End of File":
            if chunk is not None:
                chunk.at_eof = True
            continue
        if op.kind == "add":
            if line.startswith("+"):
                assert op.content is not None
                op.content.append(line[1:])
            elif line.strip():
                raise PatchApplyError(f"patch line {number}: lines of an added file start with '+': {raw!r}")
            continue
        if op.kind == "delete":
            if line.strip():
                raise PatchApplyError(f"patch line {number}: unexpected {raw!r} after `*** Delete File`")
            continue
        chunk = _codex_body_line(op, chunk, line, number)
    for op in ops:
        _trim_trailing_blank_context(op)
    return ops


def _codex_body_line(op: FileOp, chunk: Chunk | None, line: str, number: int) -> Chunk:
    if line.startswith("@@"):
        anchor = line[2:].strip()
        if chunk is None or chunk.old or chunk.new:
            chunk = Chunk(number=len(op.chunks) + 1)
            op.chunks.append(chunk)
        if anchor:
            chunk.anchors.append(anchor)
        return chunk
    if chunk is None:
        chunk = Chunk(number=len(op.chunks) + 1)
        op.chunks.append(chunk)
    if line.startswith("+"):
        chunk.new.append(line[1:])
    elif line.startswith("-"):
        chunk.old.append(line[1:])
    elif line.startswith(" ") or line == "":
        chunk.old.append(line[1:])
        chunk.new.append(line[1:])
    else:
        raise PatchApplyError(
            f"patch line {number}: in `*** Update File: {op.path}`, a line must start with ' ', '-', '+' "
            f"or '@@': {line!r}"
        )
    return chunk


def _trim_trailing_blank_context(op: FileOp) -> None:
    """A blank line at the end of a chunk is usually the patch's own trailing newline, not context."""
    for chunk in op.chunks:
        while chunk.old and chunk.new and chunk.old[-1] == "" and chunk.new[-1] == "" and len(chunk.old) > 1:
            chunk.old.pop()
            chunk.new.pop()


def _strip_prefix(path: str, prefix: str) -> str:
    path = path.split("\t")[0].strip()
    if path.startswith('"') and path.endswith('"'):
        path = path[1:-1]
    return path[len(prefix):] if path.startswith(prefix) else path


def _parse_unified(lines: list[str]) -> list[FileOp]:
    ops: list[FileOp] = []
    op: FileOp | None = None
    renames: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("rename from "):
            renames["from"] = line[len("rename from "):].strip()
        elif line.startswith("rename to "):
            renames["to"] = line[len("rename to "):].strip()
        elif line.startswith("diff --git "):
            _flush_rename(ops, renames)
        if line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            op = _unified_header(line[4:], lines[i + 1][4:], renames)
            ops.append(op)
            i += 2
            continue
        if line.startswith("@@"):
            if op is None:
                raise PatchApplyError(
                    f"patch line {i + 1}: a hunk before any `--- a/file` `+++ b/file` lines")
            i = _unified_hunk(op, _HUNK.match(line), lines, i + 1)
            continue
        i += 1
    _flush_rename(ops, renames)
    return ops


def _flush_rename(ops: list[FileOp], renames: dict[str, str]) -> None:
    """A git rename with no content change has no `---`/`+++` lines: it becomes a bare move."""
    if renames.get("from") and renames.get("to"):
        ops.append(FileOp(kind="update", path=renames["from"], move_to=renames["to"]))
    renames.clear()


def _unified_header(old: str, new: str, renames: dict[str, str]) -> FileOp:
    null = "/dev/null"
    old_git = old.startswith("a/") and (new.startswith("b/") or new.startswith(null))
    new_git = new.startswith("b/") and (old.startswith("a/") or old.startswith(null))
    old_path = _strip_prefix(old, "a/" if old_git else "")
    new_path = _strip_prefix(new, "b/" if new_git else "")
    if old_path == "/dev/null":
        return FileOp(kind="add", path=new_path, content=[])
    if new_path == "/dev/null":
        return FileOp(kind="delete", path=old_path)
    move = new_path if new_path != old_path else None
    renames.clear()
    return FileOp(kind="update", path=old_path, move_to=move)


def _unified_hunk(op: FileOp, match: re.Match[str] | None, lines: list[str], i: int) -> int:
    """Read one hunk from line `i`; a bare `@@` (no numbers) runs while lines carry a tag."""
    old_left, new_left, hint = 0, 0, None
    if match is not None:
        old_left = int(match.group(2)) if match.group(2) is not None else 1
        new_left = int(match.group(4)) if match.group(4) is not None else 1
        hint = int(match.group(1))
    chunk = Chunk(hint=hint, number=len(op.chunks) + 1)
    last = ""
    blank_tail = 0
    while i < len(lines):
        line = lines[i]
        counted = old_left > 0 or new_left > 0
        if not counted and (line[:1] not in ("-", "+", " ", "\\") or line == "-- "):
            break
        if line.startswith("\\"):
            chunk.old_no_newline |= last in ("-", " ")
            chunk.new_no_newline |= last in ("+", " ")
            i += 1
            continue
        if line.startswith("@@") or line.startswith("diff --git ") or (
                line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ ")):
            break
        tag, body = (line[:1] or " "), line[1:]
        if tag == "-":
            chunk.old.append(body)
            old_left -= 1
        elif tag == "+":
            chunk.new.append(body)
            new_left -= 1
        elif tag == " ":
            chunk.old.append(body)
            chunk.new.append(body)
            old_left, new_left = old_left - 1, new_left - 1
        else:
            break
        last = tag
        blank_tail = blank_tail + 1 if line == "" else 0
        i += 1
    if old_left > 0 or new_left > 0:
        # counts were wrong: empty lines at the end are the text's own, not blank context
        del chunk.old[len(chunk.old) - blank_tail:]
        del chunk.new[len(chunk.new) - blank_tail:]
    if op.kind == "add":
        assert op.content is not None
        op.content.extend(chunk.new)
        op.no_final_newline = chunk.new_no_newline
    elif op.kind == "update":
        op.chunks.append(chunk)
    return i
