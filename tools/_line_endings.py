"""Line endings as the file has them: every line keeps its own, new lines take the file's usual one.

The edit and patch tools match and change an LF *view* of a file: each CRLF shown as LF, and a lone
CR an ordinary character of its line (git's reading: only LF ends a line, so `foo\\r\\r\\n` is the line
`foo\\r` ended by CRLF). The endings are kept apart, one per newline of the view, and put back on
write. A change is a list of `Block`s, each a run of whole old lines and the text that replaces it;
`splice` carries the endings across: lines outside every block keep theirs byte for byte, a line
inside a block keeps the ending of the old line it stands for (the same line, or the one it
replaced), and every other new line takes the file's usual ending.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

LF = "\n"
CRLF = "\r\n"
_NEWLINE = re.compile(r"\r?\n")


def split_endings(text: str) -> tuple[str, tuple[str, ...]]:
    """The LF view of `text` and the ending of each of its newlines, in order."""
    if "\r\n" not in text:
        return text, (LF,) * text.count("\n")
    return text.replace("\r\n", "\n"), tuple(m.group() for m in _NEWLINE.finditer(text))


def usual_ending(endings: Sequence[str]) -> str:
    """The ending most lines have (LF on a tie, and for a file of one line)."""
    crlf = sum(1 for e in endings if e == CRLF)
    return CRLF if crlf * 2 > len(endings) else LF


def join_endings(view: str, endings: Sequence[str]) -> str:
    """The view with its k-th newline written as `endings[k]`.

    A line whose text ends in CR is always written with CRLF: with a bare LF it would read back as
    a CRLF line without that CR.
    """
    if "\r\n" not in view and all(e == LF for e in endings):
        return view
    parts = view.split("\n")
    out: list[str] = []
    for body, ending in zip(parts, endings, strict=False):
        out.append(body)
        out.append(CRLF if body.endswith("\r") else ending)
    out.append(parts[-1])
    return "".join(out)


@dataclass(frozen=True)
class Block:
    """Old view text `[start, stop)` replaced by `text`; `start` is at the start of a line."""

    start: int
    stop: int
    text: str


def splice(view: str, endings: Sequence[str], blocks: Sequence[Block]) -> tuple[str, tuple[str, ...]]:
    """The new view and its endings after replacing every block (sorted, not overlapping)."""
    usual = usual_ending(endings)
    text: list[str] = []
    out: list[str] = []
    pos = line = 0
    for block in blocks:
        gap = view[pos : block.start]
        kept = gap.count("\n")
        text.append(gap)
        out.extend(endings[line : line + kept])
        line += kept
        old = view[block.start : block.stop]
        replaced = old.count("\n")
        text.append(block.text)
        out.extend(_pair_endings(old, endings[line : line + replaced], block.text, usual))
        line += replaced
        pos = block.stop
    text.append(view[pos:])
    out.extend(endings[line:])
    return "".join(text), tuple(out)


def _pair_endings(old: str, old_endings: Sequence[str], new: str, usual: str) -> list[str]:
    """An ending for each newline of `new`: the one of the old line each new line stands for."""
    old_lines = old.split("\n")[: len(old_endings)]
    new_lines = new.split("\n")[: new.count("\n")]
    out = [usual] * len(new_lines)
    head = 0
    while head < min(len(old_lines), len(new_lines)) and old_lines[head] == new_lines[head]:
        out[head] = old_endings[head]
        head += 1
    tail = 0
    while tail < min(len(old_lines), len(new_lines)) - head and old_lines[-1 - tail] == new_lines[-1 - tail]:
        out[len(new_lines) - 1 - tail] = old_endings[len(old_lines) - 1 - tail]
        tail += 1
    a, b = old_lines[head : len(old_lines) - tail], new_lines[head : len(new_lines) - tail]
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag in ("equal", "replace"):
            for k in range(min(i2 - i1, j2 - j1)):
                out[head + j1 + k] = old_endings[head + i1 + k]
    return out


def span_blocks(view: str, spans: Sequence[tuple[int, int, str]]) -> list[Block]:
    """Blocks of whole lines around character replacements `(start, stop, text)` (sorted, disjoint).

    Two replacements that touch one line share a block.
    """
    blocks: list[Block] = []
    for start, stop, new in spans:
        first = view.rfind("\n", 0, start) + 1
        if stop > start and view[stop - 1] == "\n":
            last = stop
        else:
            found = view.find("\n", stop)
            last = len(view) if found < 0 else found + 1
        text = view[first:start] + new + view[stop:last]
        if blocks and first < blocks[-1].stop:
            prev = blocks.pop()
            text = prev.text[: len(prev.text) - (prev.stop - start)] + new + view[stop:last]
            first = prev.start
        blocks.append(Block(first, last, text))
    return blocks
