"""Parsing both patch formats into one model: the Codex `*** Begin Patch` grammar and unified diffs.

Both become a list of FileOp (tools/_patch_model.py); applying never needs to know which format a
patch came in. A patch wrapped in a shell heredoc (`apply_patch <<'EOF'` ... `EOF`, as models
trained on a shell tool send it) is unwrapped first.
"""

from __future__ import annotations

import re

from agent.errors import PatchApplyError
from tools._patch_codex import BEGIN, FILE_HEADER, parse_codex
from tools._patch_model import Chunk, FileOp

__all__ = ["Chunk", "FileOp", "parse_patch", "unwrap_heredoc"]

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$")
_HEREDOC = re.compile(r"^\s*(?:[\w./-]+\s+)*<<-?\s*(['\"]?)([A-Za-z_][\w-]*)\1\s*(?:\|\s*[\w./ -]+)?$")
_BINARY = ("GIT binary patch", "Binary files ")


def unwrap_heredoc(text: str) -> str:
    """The text inside `<<'EOF'` ... `EOF` (also `cat <<EOF`, `apply_patch <<"EOF"`), or `text`."""
    lines = text.strip().split("\n")
    opening = _HEREDOC.match(lines[0]) if len(lines) >= 3 else None
    if opening and lines[-1].strip() == opening.group(2):
        return "\n".join(lines[1:-1])
    return text


def parse_patch(text: str) -> list[FileOp]:
    """Parse either format; the Codex grammar wins when its markers are present.

    Raises:
        PatchApplyError: text that is neither format, or a malformed part (with its line).
    """
    text = unwrap_heredoc(text.replace("\r\n", "\n"))
    lines = text.split("\n")
    if any(FILE_HEADER.match(ln) or ln.strip() == BEGIN for ln in lines):
        ops = parse_codex(text)
    elif any(_HUNK.match(ln) or ln.startswith(("--- ", "diff --git ")) for ln in lines):
        if any(ln.startswith(_BINARY) for ln in lines):
            raise PatchApplyError("the diff changes a binary file; the patch tool changes text files only")
        ops = _parse_unified(lines)
    else:
        raise PatchApplyError(
            "patch_text is neither a `*** Begin Patch` patch nor a unified diff (no `*** Update File:`,"
            " `--- a/file` or `@@ -n,m +n,m @@` lines found)"
        )
    if not ops:
        raise PatchApplyError("the patch changes no file")
    return ops


def _strip_prefix(path: str, prefix: str) -> str:
    path = path.split("\t")[0].strip()
    if path.startswith('"') and path.endswith('"'):
        path = path[1:-1]
    return path[len(prefix) :] if path.startswith(prefix) else path


def _parse_unified(lines: list[str]) -> list[FileOp]:
    ops: list[FileOp] = []
    op: FileOp | None = None
    git: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("diff --git "):
            _flush_git_header(ops, git)
            git["diff"] = line
        elif line.startswith(_GIT_HEADERS):
            key = next(h for h in _GIT_HEADERS if line.startswith(h))
            git[key] = line[len(key) :]
        if line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            op = _unified_header(line[4:], lines[i + 1][4:])
            ops.append(op)
            git.clear()
            i += 2
            continue
        if line.startswith("@@"):
            if op is None:
                raise PatchApplyError(
                    f"patch line {i + 1}: a hunk before any `--- a/file` `+++ b/file` lines"
                )
            i = _unified_hunk(op, _HUNK.match(line), lines, i + 1)
            continue
        i += 1
    _flush_git_header(ops, git)
    for op in ops:
        if op.kind == "update" and not op.chunks and not op.move_to:
            raise PatchApplyError(
                f"the diff of {op.path} has `---`/`+++` lines but no hunk (`@@ -n,m +n,m @@` and its "
                "lines), so it would change nothing; send the hunks too"
            )
    return ops


_GIT_HEADERS = ("rename from ", "rename to ", "new file mode ", "deleted file mode ")
_GIT_DIFF = re.compile(r"^diff --git a/(\S+) b/(\S+)$")


def _flush_git_header(ops: list[FileOp], git: dict[str, str]) -> None:
    """A git diff section without `---`/`+++` lines: a bare rename, or an empty file added or deleted."""
    paths = _GIT_DIFF.match(git.get("diff", ""))
    if git.get("rename from ") and git.get("rename to "):
        ops.append(FileOp(kind="update", path=git["rename from "].strip(), move_to=git["rename to "].strip()))
    elif paths and "new file mode " in git:
        ops.append(FileOp(kind="add", path=paths.group(2), content=[]))
    elif paths and "deleted file mode " in git:
        ops.append(FileOp(kind="delete", path=paths.group(1)))
    git.clear()


def _unified_header(old: str, new: str) -> FileOp:
    null = "/dev/null"
    old_git = old.startswith("a/") and (new.startswith("b/") or new.startswith(null))
    new_git = new.startswith("b/") and (old.startswith("a/") or old.startswith(null))
    old_path = _strip_prefix(old, "a/" if old_git else "")
    new_path = _strip_prefix(new, "b/" if new_git else "")
    if old_path == null:
        return FileOp(kind="add", path=new_path, content=[])
    if new_path == null:
        return FileOp(kind="delete", path=old_path)
    move = new_path if new_path != old_path else None
    return FileOp(kind="update", path=old_path, move_to=move)


def _unified_hunk(op: FileOp, match: re.Match[str] | None, lines: list[str], i: int) -> int:
    """Read one hunk from line `i`; a bare `@@` (no numbers) runs while lines carry a tag."""
    header_line = i
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
        if (
            line.startswith("@@")
            or line.startswith("diff --git ")
            or (line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "))
        ):
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
        del chunk.old[len(chunk.old) - blank_tail :]
        del chunk.new[len(chunk.new) - blank_tail :]
    if op.kind == "add":
        assert op.content is not None
        op.content.extend(chunk.new)
        op.no_final_newline = chunk.new_no_newline
    elif op.kind == "update":
        if chunk.old == chunk.new and chunk.old_no_newline == chunk.new_no_newline:
            what = "has no lines" if not chunk.old else "changes nothing (only context lines)"
            raise PatchApplyError(f"patch line {header_line}: hunk {chunk.number} of {op.path} {what}")
        op.chunks.append(chunk)
    return i
