"""Finding `old_string` in a file the way a careful person would when the model was sloppy.

Exact first; then a chain of looser matchers, each accepted only when it finds exactly one place.
A looser match writes `new_string` re-indented to the block that was really there.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Callable
from dataclasses import dataclass

from agent.errors import EditMatchError

_ANCHOR_SIMILARITY = 0.8


@dataclass(frozen=True)
class Span:
    """A match: character offsets into the text, and the 1-based line where it starts."""

    start: int
    end: int
    line: int
    reindent: bool
    """True when new_string must be re-indented to the matched block."""


def _indent_cols(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip(" "))


def _dedent(lines: list[str]) -> list[str]:
    expanded = [ln.expandtabs(4).rstrip() for ln in lines]
    base = min((_indent_cols(ln) for ln in expanded if ln.strip()), default=0)
    return [ln[base:] if ln.strip() else "" for ln in expanded]


def _by_rstrip(block: list[str], old: list[str]) -> bool:
    return [b.rstrip() for b in block] == [o.rstrip() for o in old]


def _by_indent(block: list[str], old: list[str]) -> bool:
    return _dedent(block) == _dedent(old)


def _by_runs(block: list[str], old: list[str]) -> bool:
    return [" ".join(b.split()) for b in block] == [" ".join(o.split()) for o in old]


def _by_anchors(block: list[str], old: list[str]) -> bool:
    if len(old) < 4 or block[0].strip() != old[0].strip() or block[-1].strip() != old[-1].strip():
        return False
    mid_b = "\n".join(b.strip() for b in block[1:-1])
    mid_o = "\n".join(o.strip() for o in old[1:-1])
    return difflib.SequenceMatcher(None, mid_b, mid_o).ratio() >= _ANCHOR_SIMILARITY


_LINE_MATCHERS: list[tuple[str, Callable[[list[str], list[str]], bool]]] = [
    ("trailing whitespace", _by_rstrip),
    ("indentation", _by_indent),
    ("whitespace runs", _by_runs),
    ("first and last lines", _by_anchors),
]


def _line_offsets(text: str) -> list[int]:
    offsets = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            offsets.append(i + 1)
    return offsets


def _line_spans(text: str, old: str, same: Callable[[list[str], list[str]], bool]) -> list[Span]:
    lines = text.split("\n")
    old_lines = old.split("\n")
    if old_lines and old_lines[-1] == "" and len(old_lines) > 1:
        old_lines = old_lines[:-1]
    offsets = _line_offsets(text)
    n = len(old_lines)
    spans: list[Span] = []
    i = 0
    while i + n <= len(lines):
        block = lines[i:i + n]
        if same(block, old_lines):
            end = offsets[i + n - 1] + len(lines[i + n - 1])
            if old.endswith("\n") and i + n < len(lines):
                end += 1
            spans.append(Span(offsets[i], end, i + 1, True))
            i += n
        else:
            i += 1
    return spans


def _exact_spans(text: str, old: str) -> list[Span]:
    spans: list[Span] = []
    pos = text.find(old)
    while pos != -1:
        spans.append(Span(pos, pos + len(old), text.count("\n", 0, pos) + 1, False))
        pos = text.find(old, pos + len(old))
    return spans


def _unescape(s: str) -> str:
    return s.replace("\\n", "\n").replace("\\t", "\t").replace('\\"', '"').replace("\\'", "'")


def find_spans(text: str, old: str) -> tuple[list[Span], str, bool]:
    """All matches of the first matcher that finds any: (spans, matcher name, unescaped?)."""
    spans = _exact_spans(text, old)
    if spans:
        return spans, "exact", False
    candidates = [(old, False)]
    if _unescape(old) != old:
        candidates.append((_unescape(old), True))
    for probe, unescaped in candidates:
        if unescaped and (spans := _exact_spans(text, probe)):
            return spans, "escaped characters", True
        for name, same in _LINE_MATCHERS:
            spans = _line_spans(text, probe, same)
            if spans:
                return spans, name + (" (unescaped)" if unescaped else ""), unescaped
    return [], "", False


def reindent(new: str, old: str, block: str) -> str:
    """`new` with the indentation `old` had replaced by the block's, keeping relative nesting."""
    old_lines = [ln for ln in old.split("\n") if ln.strip()]
    block_lines = [ln for ln in block.split("\n") if ln.strip()]
    if not old_lines or not block_lines:
        return new
    if [_lead(o) for o in old_lines] == [_lead(b) for b in block_lines]:
        return new
    old_base = min(_indent_cols(ln) for ln in old_lines)
    block_base_line = min(block_lines, key=_indent_cols)
    base = _lead(block_base_line)
    tabs = any("\t" in _lead(b) for b in block_lines)
    old_unit, block_unit = _unit(old_lines), _unit(block_lines)
    out: list[str] = []
    for line in new.split("\n"):
        if not line.strip():
            out.append(line.strip(" \t"))
            continue
        rel = max(0, _indent_cols(line) - old_base)
        if old_unit and block_unit and not tabs:
            rel = rel * block_unit // old_unit
        lead = ("\t" * (rel // (old_unit or 4)) + " " * (rel % (old_unit or 4))) if tabs else " " * rel
        out.append(base + lead + line.lstrip(" \t"))
    return "\n".join(out)


def _lead(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _unit(lines: list[str]) -> int:
    cols = sorted({_indent_cols(ln) for ln in lines})
    steps = [b - a for a, b in itertools.pairwise(cols) if b > a]
    return min(steps, default=0)


def closest_lines(text: str, old: str, context: int = 0) -> str:
    """The window of the file most like `old`, numbered, for a no-match error."""
    lines = text.split("\n")
    old_lines = [ln.strip() for ln in old.strip("\n").split("\n")]
    n = max(1, len(old_lines))
    target = "\n".join(old_lines)
    best, best_i = 0.0, -1
    step = 1 if len(lines) <= 20_000 else len(lines) // 20_000 + 1
    for i in range(0, max(1, len(lines) - n + 1), step):
        window = "\n".join(ln.strip() for ln in lines[i:i + n])
        matcher = difflib.SequenceMatcher(None, window, target)
        if matcher.real_quick_ratio() <= best or matcher.quick_ratio() <= best:
            continue
        ratio = matcher.ratio()
        if ratio > best:
            best, best_i = ratio, i
    if best_i < 0 or best < 0.3:
        return ""
    shown = lines[max(0, best_i - context): best_i + n + context]
    first = max(0, best_i - context) + 1
    body = "\n".join(f"{first + k:>6}\t{ln}" for k, ln in enumerate(shown))
    return f"The closest text ({best:.0%} similar) is at lines {best_i + 1}-{best_i + n}:\n{body}"


def replace(text: str, old: str, new: str, replace_all: bool, label: str) -> tuple[str, str]:
    """Apply the edit to `text`; returns (new text, matcher name).

    Raises:
        EditMatchError: no match (with the closest lines), or several without replace_all.
    """
    if old == new:
        raise EditMatchError(f"{label}: old_string and new_string are the same; nothing to change")
    if not old:
        raise EditMatchError(f"{label}: old_string is empty; use write to create a file")
    spans, how, unescaped = find_spans(text, old)
    if not spans:
        hint = closest_lines(text, old)
        raise EditMatchError(
            f"{label}: old_string was not found (also tried ignoring whitespace and indentation)."
            + (f"\n{hint}\nCopy the text exactly from the file (without line numbers)." if hint
               else " Read the file again and copy the text exactly.")
        )
    if len(spans) > 1 and not replace_all:
        where = ", ".join(str(s.line) for s in spans[:20])
        raise EditMatchError(
            f"{label}: old_string matches {len(spans)} places (lines {where}); add surrounding "
            "lines to make it unique, or set replace_all to change every one"
        )
    if unescaped:
        old, new = _unescape(old), _unescape(new)
    out: list[str] = []
    pos = 0
    for span in spans:
        block = text[span.start:span.end]
        out.append(text[pos:span.start])
        out.append(reindent(new, old, block) if span.reindent else new)
        pos = span.end
    out.append(text[pos:])
    return "".join(out), how
