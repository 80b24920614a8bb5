"""Applying parsed chunks to a file's text in memory: find each chunk, then splice.

Context is matched exactly, then ignoring trailing whitespace, then surrounding whitespace, then
with typographic punctuation folded. Nothing here touches the disk.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Callable

from agent.errors import PatchApplyError
from tools._patch_parse import Chunk

_PUNCT = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u201c": '"', "\u201d": '"',
    "\u201e": '"', "\u201f": '"', "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-",
    "\u2014": "-", "\u2015": "-", "\u2212": "-", "\u00a0": " ", "\u2026": "...",
})

_FOLDS: list[Callable[[str], str]] = [
    lambda s: s,
    str.rstrip,
    str.strip,
    lambda s: s.strip().translate(_PUNCT),
]


def split_lines(text: str) -> tuple[list[str], bool]:
    """Lines of an LF text without their newlines, and whether it ended with one."""
    if not text:
        return [], True
    lines = text.split("\n")
    if lines[-1] == "":
        return lines[:-1], True
    return lines, False


def join_lines(lines: list[str], final_newline: bool) -> str:
    if not lines:
        return ""
    return "\n".join(lines) + ("\n" if final_newline else "")


class _FoldedLines:
    """The file's lines under each fold, computed once per fold (the lines do not change while
    chunks are being located)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self._views: dict[int, list[str]] = {}

    def view(self, level: int) -> list[str]:
        if level not in self._views:
            self._views[level] = [_FOLDS[level](ln) for ln in self.lines]
        return self._views[level]

    def positions(self, old: list[str], level: int) -> list[int]:
        target = [_FOLDS[level](o) for o in old]
        folded = self.view(level)
        n, first = len(target), target[0]
        return [i for i in range(len(folded) - n + 1) if folded[i] == first and folded[i:i + n] == target]


def _find(folded: _FoldedLines, chunk: Chunk, cursor: int, expect: int | None) -> int | None:
    """Where `chunk.old` starts, trying looser folds in turn; None when nowhere."""
    size = len(folded.lines)
    for level in range(len(_FOLDS)):
        found = folded.positions(chunk.old, level)
        if chunk.at_eof:
            found = [p for p in found if p + len(chunk.old) == size] or found
        if not found:
            continue
        if expect is not None:
            return min(found, key=lambda p: (abs(p - expect), p))
        after = [p for p in found if p >= cursor]
        if after:
            return after[0]
        if len(found) == 1:
            return found[0]
    return None


def _anchor(lines: list[str], anchors: list[str], cursor: int) -> int | None:
    for anchor in anchors:
        hit = None
        for fold in _FOLDS:
            target = fold(anchor)
            hit = next((i for i in range(cursor, len(lines)) if fold(lines[i]) == target), None)
            if hit is not None:
                break
        if hit is None:
            return None
        cursor = hit + 1
    return cursor


def nearest(lines: list[str], old: list[str]) -> str:
    """The lines most like `old`, numbered, for a failure message."""
    if not old or not lines:
        return ""
    target = "\n".join(o.strip() for o in old)
    best, best_i = 0.0, 0
    for i in range(max(1, len(lines) - len(old) + 1)):
        matcher = difflib.SequenceMatcher(None, "\n".join(ln.strip() for ln in lines[i:i + len(old)]), target)
        if matcher.quick_ratio() > best and (ratio := matcher.ratio()) > best:
            best, best_i = ratio, i
    shown = lines[best_i:best_i + len(old)]
    body = "\n".join(f"{best_i + k + 1:>6}\t{ln}" for k, ln in enumerate(shown))
    return f"nearest lines ({best:.0%} similar), {best_i + 1}-{best_i + len(shown)}:\n{body}"


def _keep_file_context(chunk: Chunk, found: list[str]) -> list[str]:
    """The chunk's new lines, with context lines as the file has them (a loose match must not
    rewrite the whitespace or quotes of lines the patch did not mean to change)."""
    new = list(chunk.new)
    matcher = difflib.SequenceMatcher(None, chunk.old, chunk.new, autojunk=False)
    for tag, i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            new[j1:j2] = found[i1:i1 + (j2 - j1)]
    return new


def _insert_at(chunk: Chunk, start: int, delta: int, size: int) -> int:
    """Where a hunk without old lines goes: after its hint line, after its anchor, or at the end."""
    if chunk.at_eof:
        return size
    if chunk.hint is not None:
        return min(max(chunk.hint + delta, 0), size)
    return start if chunk.anchors else size


def apply_chunks(text: str, chunks: list[Chunk], label: str) -> str:
    """The text after every chunk, or PatchApplyError naming the file, the hunk and the nearest lines."""
    lines, final_newline = split_lines(text)
    folded = _FoldedLines(lines)
    edits: list[tuple[int, int, list[str]]] = []
    cursor, delta = 0, 0
    for chunk in chunks:
        start = _anchor(lines, chunk.anchors, cursor) if chunk.anchors else cursor
        if start is None and not chunk.old:
            raise PatchApplyError(f"{label}: hunk {chunk.number}: context line {chunk.anchors[-1]!r} "
                                  "was not found; nothing was changed")
        start = cursor if start is None else start
        expect = chunk.hint - 1 + delta if chunk.hint is not None else None
        if not chunk.old:
            pos = _insert_at(chunk, start, delta, len(lines))
        else:
            found = _find(folded, chunk, start, expect)
            if found is None:
                old_text = "\n".join(chunk.old[:8])
                raise PatchApplyError(
                    f"{label}: hunk {chunk.number} does not apply: these lines were not found"
                    f"{' after line ' + str(start) if start else ''}:\n{old_text}\n"
                    f"{nearest(lines, chunk.old)}\nnothing was changed; read the file and redo the hunk")
            pos = found
        if chunk.hint is not None:
            delta = pos - (chunk.hint if not chunk.old else chunk.hint - 1)
        edits.append((pos, len(chunk.old), _keep_file_context(chunk, lines[pos:pos + len(chunk.old)])))
        cursor = pos + len(chunk.old)
        if pos + len(chunk.old) >= len(lines):
            if chunk.new_no_newline:
                final_newline = False
            elif chunk.old_no_newline:
                final_newline = True
    edits.sort(key=lambda e: e[0])
    for (a, n, _), (b, _, _) in itertools.pairwise(edits):
        if a + n > b:
            raise PatchApplyError(f"{label}: two hunks overlap at line {b + 1}; nothing was changed")
    for pos, n, new in reversed(edits):
        lines[pos:pos + n] = new
    return join_lines(lines, final_newline)
