"""Re-indenting a replacement to the block it replaces: the model wrote `old_string` with four spaces
where the file has a tab, or one level too shallow, and `new_string` the same way.
"""

from __future__ import annotations

import itertools


def indent_cols(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip(" "))


def reindent(new: str, old: str, block: str) -> str:
    """`new` with the indentation `old` had replaced by the block's, keeping relative nesting."""
    old_lines = [ln for ln in old.split("\n") if ln.strip()]
    block_lines = [ln for ln in block.split("\n") if ln.strip()]
    if not old_lines or not block_lines:
        return new
    if [_lead(o) for o in old_lines] == [_lead(b) for b in block_lines]:
        return new
    old_base = min(indent_cols(ln) for ln in old_lines)
    block_base_line = min(block_lines, key=indent_cols)
    base = _lead(block_base_line)
    tabs = any("\t" in _lead(b) for b in block_lines)
    old_unit, block_unit = _unit(old_lines), _unit(block_lines)
    out: list[str] = []
    for line in new.split("\n"):
        if not line.strip():
            out.append(line.strip(" \t"))
            continue
        rel = max(0, indent_cols(line) - old_base)
        if old_unit and block_unit and not tabs:
            rel = rel * block_unit // old_unit
        lead = ("\t" * (rel // (old_unit or 4)) + " " * (rel % (old_unit or 4))) if tabs else " " * rel
        out.append(base + lead + line.lstrip(" \t"))
    return "\n".join(out)


def _lead(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _unit(lines: list[str]) -> int:
    cols = sorted({indent_cols(ln) for ln in lines})
    steps = [b - a for a, b in itertools.pairwise(cols) if b > a]
    return min(steps, default=0)
