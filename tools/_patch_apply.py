"""Applying parsed chunks to a file's LF view in memory: find each chunk, then splice.

Context is matched exactly, then ignoring trailing whitespace, then surrounding whitespace, then
with typographic punctuation folded, then under canonical Unicode equivalence (NFC/NFD). An exact
match takes the first place after the previous hunk (Codex's rule; a unified diff's line number
picks among several instead); a looser one must be the only place after it, and the Unicode one
the only place in the file. A hunk whose only context is blank lines must be unique too, and a
hunk marked `*** End of File` must end the file (blank lines aside). Nothing here touches the disk.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Callable
from dataclasses import dataclass

from agent.errors import PatchApplyError
from tools._canonical import in_form_of, nfc
from tools._line_endings import Block
from tools._nearest import explain_difference, nearest_window, numbered
from tools._patch_model import Chunk

_PUNCT = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u2026": "...",
    }
)


def _same(line: str) -> str:
    return line


def _punctuation(line: str) -> str:
    line = line.strip()
    return line if line.isascii() else line.translate(_PUNCT)


def _canonical(line: str) -> str:
    line = line.strip()
    return line if line.isascii() else nfc(line.translate(_PUNCT))


_FOLDS: list[tuple[str, Callable[[str], str]]] = [
    ("exact", _same),
    ("trailing whitespace", str.rstrip),
    ("surrounding whitespace", str.strip),
    ("typographic punctuation", _punctuation),
    ("Unicode normalization (NFC/NFD)", _canonical),
]
_CANONICAL = len(_FOLDS) - 1


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
        self.content_end = next((i + 1 for i in range(len(lines) - 1, -1, -1) if lines[i].strip()), 0)
        """One past the last line that is not blank."""

    def view(self, level: int) -> list[str]:
        if level not in self._views:
            fold = _FOLDS[level][1]
            self._views[level] = self.lines if level == 0 else [fold(ln) for ln in self.lines]
        return self._views[level]

    def positions(self, old: list[str], level: int) -> list[int]:
        fold = _FOLDS[level][1]
        target = [fold(o) for o in old]
        folded = self.view(level)
        n, first = len(target), target[0]
        return [i for i in range(len(folded) - n + 1) if folded[i] == first and folded[i : i + n] == target]


@dataclass(frozen=True, eq=False, repr=False)
class _Where:
    """Where a chunk's old lines were found, and under which fold."""

    pos: int
    level: int


def _pick(found: list[int], level: int, chunk: Chunk, cursor: int, expect: int | None, label: str) -> int:
    """The one place among `found`; an error when several fit equally."""
    after = [p for p in found if p >= cursor]
    if level == _CANONICAL:
        candidates = found
    elif expect is not None:
        return min(found, key=lambda p: (abs(p - expect), p))
    elif level == 0 and any(o.strip() for o in chunk.old):
        if after:
            return after[0]
        candidates = found
    else:
        candidates = after or found
    if len(candidates) == 1:
        return candidates[0]
    lines = ", ".join(str(p + 1) for p in candidates[:20])
    loose = "" if level == 0 else f"when ignoring {_FOLDS[level][0]} "
    raise PatchApplyError(
        f"{label}: hunk {chunk.number} matches {len(candidates)} places (lines {lines}) {loose}and "
        "nothing says which; add context lines or an `@@` line that make it unique; nothing was changed"
    )


def _find(
    folded: _FoldedLines, chunk: Chunk, old: list[str], cursor: int, expect: int | None, label: str
) -> _Where | None:
    """Where `old` starts, trying looser folds in turn; None when nowhere."""
    for level in range(len(_FOLDS)):
        found = folded.positions(old, level)
        if chunk.at_eof:
            found = [p for p in found if p + len(old) >= folded.content_end]
        if found:
            return _Where(_pick(found, level, chunk, cursor, expect, label), level)
    return None


def _locate(
    folded: _FoldedLines, chunk: Chunk, cursor: int, expect: int | None, label: str
) -> tuple[_Where, list[str], list[str]]:
    """Where the chunk goes, with its old and new lines (a stray leading blank context line dropped
    when only that stops it from matching)."""
    old, new = chunk.old, chunk.new
    where = _find(folded, chunk, old, cursor, expect, label)
    while where is None and len(old) > 1 and new and not old[0].strip() and not new[0].strip():
        old, new = old[1:], new[1:]
        where = _find(folded, chunk, old, cursor, expect, label)
    if where is None:
        raise PatchApplyError(_not_found(folded, chunk, cursor, label))
    return where, old, new


def _not_found(folded: _FoldedLines, chunk: Chunk, cursor: int, label: str) -> str:
    lines = folded.lines
    if chunk.at_eof and any(folded.positions(chunk.old, level) for level in range(len(_FOLDS))):
        return (
            f"{label}: hunk {chunk.number} is marked `*** End of File`, but its lines are not at the end "
            "of the file; remove the marker or use the file's last lines; nothing was changed"
        )
    shown = "\n".join(chunk.old[:8]) + ("\n..." if len(chunk.old) > 8 else "")
    message = (
        f"{label}: hunk {chunk.number} does not apply: these lines were not found"
        f"{' after line ' + str(cursor) if cursor else ''}:\n{shown}\n"
    )
    near = nearest_window(lines, chunk.old)
    if near is not None:
        message += (
            f"The closest lines ({int(near.score)}% similar) are {near.start + 1}-"
            f"{near.start + len(near.lines)}:\n{numbered(near.start, near.lines)}\n"
        )
        differs = explain_difference(near, chunk.old, "the hunk")
        message += f"{differs}\n" if differs else ""
    else:
        message += "No line of the file resembles them.\n"
    return message + "nothing was changed; read the file and redo the hunk"


def _anchor(lines: list[str], anchors: list[str], cursor: int) -> int | None:
    """The line of the last `@@` anchor, each found after the one before; None when one is missing.

    The hunk is looked for from that line on, the line included: models often repeat the anchor
    as the hunk's first context line, and starting after it would find the next copy instead.
    """
    found = cursor - 1
    for anchor in anchors:
        start, hit = found + 1, None
        for _name, fold in _FOLDS:
            target = fold(anchor)
            hit = next((i for i in range(start, len(lines)) if fold(lines[i]) == target), None)
            if hit is not None:
                break
        if hit is None:
            return None
        found = hit
    return found


def _new_lines(old: list[str], new: list[str], found: list[str], canonical: bool) -> list[str]:
    """The chunk's new lines, with context lines as the file has them (a loose match must not
    rewrite the whitespace or quotes of lines the patch did not mean to change), and added lines in
    the file's Unicode form when that is what made the match."""
    out = [in_form_of(ln, "\n".join(found)) for ln in new] if canonical else list(new)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out[j1:j2] = found[i1 : i1 + (j2 - j1)]
    return out


def _insert_at(chunk: Chunk, start: int, delta: int, size: int) -> int:
    """Where a hunk without old lines goes: after its hint line, after its anchor, or at the end."""
    if chunk.at_eof:
        return size
    if chunk.hint is not None:
        return min(max(chunk.hint + delta, 0), size)
    return start + 1 if chunk.anchors else size


def _to_blocks(
    text: str, lines: list[str], edits: list[tuple[int, int, list[str]]], final_newline: bool
) -> list[Block]:
    """Line edits `(first line, old line count, new lines)` as blocks of the view's text."""
    offsets = list(itertools.accumulate((len(ln) + 1 for ln in lines), initial=0))
    blocks: list[Block] = []
    for pos, count, new in edits:
        start = offsets[pos] if pos < len(lines) else len(text)
        if pos + count < len(lines):
            blocks.append(Block(start, offsets[pos + count], "".join(ln + "\n" for ln in new)))
            continue
        body = "\n".join(new) + ("\n" if new and final_newline else "")
        if count == 0 and text and not text.endswith("\n"):
            body = "\n" + body
        blocks.append(Block(start, len(text), body))
    return blocks


def apply_chunks(text: str, chunks: list[Chunk], label: str) -> list[Block]:
    """The blocks of `text` (an LF view) every chunk replaces, or PatchApplyError naming the file, the
    hunk, the nearest lines and how they differ."""
    lines, final_newline = split_lines(text)
    folded = _FoldedLines(lines)
    edits: list[tuple[int, int, list[str]]] = []
    cursor, delta = 0, 0
    for chunk in chunks:
        start = _anchor(lines, chunk.anchors, cursor) if chunk.anchors else cursor
        if start is None:
            raise PatchApplyError(
                f"{label}: hunk {chunk.number}: the `@@ {chunk.anchors[-1]}` line was not "
                "found (after the previous hunk); nothing was changed"
            )
        expect = chunk.hint - 1 + delta if chunk.hint is not None else None
        old: list[str]
        if not chunk.old:
            pos, old, new = _insert_at(chunk, start, delta, len(lines)), [], chunk.new
            canonical = False
        else:
            where, old, new = _locate(folded, chunk, start, expect, label)
            pos, canonical = where.pos, where.level == _CANONICAL
        if chunk.hint is not None:
            delta = pos - (chunk.hint if not chunk.old else chunk.hint - 1)
        edits.append((pos, len(old), _new_lines(old, new, lines[pos : pos + len(old)], canonical)))
        cursor = pos + len(old)
        if pos + len(old) >= len(lines):
            if chunk.new_no_newline:
                final_newline = False
            elif chunk.old_no_newline:
                final_newline = True
    edits.sort(key=lambda e: (e[0], e[1]))
    for (a, n, _), (b, _, _) in itertools.pairwise(edits):
        if a + n > b:
            raise PatchApplyError(f"{label}: two hunks overlap at line {b + 1}; nothing was changed")
    return _to_blocks(text, lines, edits, final_newline)
