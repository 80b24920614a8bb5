"""Where the text that was not found probably is, and how it differs: the hint of a failed edit or hunk.

A model that missed needs the lines it meant and what exactly is different about them (a tab, a
trailing space, `e` + U+0301 where it wrote U+00E9), not a similarity figure over lines that look
identical. The search is rapidfuzz's C matcher over the file's lines, a few of the most telling
lines of the target at a time, in slices (so another thread gets the interpreter between two C
calls), and bounded in time: past the budget the best window found so far is the answer.
"""

from __future__ import annotations

import difflib
import heapq
import time
import unicodedata
from dataclasses import dataclass

BUDGET_S = 0.25
"""Time the search may take; a hint is help, never worth a stalled tool call."""
_SLICE = 2048
"""File lines per C call: about a millisecond, the longest the search keeps other threads waiting."""
_PROBES = 6
"""Target lines looked up one by one (the longest ones, which say most about where the text is)."""
_PER_PROBE = 12
"""Best places kept per probe line."""
_MIN_SCORE = 30.0
_SHOWN = 60
"""Characters of a differing stretch shown."""


@dataclass(frozen=True, eq=False, repr=False)
class Nearest:
    """The window of the file most like the target."""

    start: int
    """0-based index of its first line."""
    lines: list[str]
    score: float
    """Similarity of the window to the target, 0 to 100."""


def nearest_window(lines: list[str], target: list[str], budget_s: float = BUDGET_S) -> Nearest | None:
    """The `len(target)` consecutive lines of `lines` most like `target` (surrounding whitespace
    ignored), or None when nothing is even remotely alike."""
    from rapidfuzz import fuzz, process  # 20 ms to import: only when an edit missed

    wanted = [t.strip() for t in target]
    probes = sorted((k for k, t in enumerate(wanted) if t), key=lambda k: -len(wanted[k]))[:_PROBES]
    if not probes or not lines:
        return None
    deadline = time.monotonic() + budget_s
    stripped = [ln.strip() for ln in lines]  # not map(): a comprehension lets other threads in
    starts: set[int] = set()
    for k in probes:
        best: list[tuple[float, int]] = []
        for base in range(0, len(stripped), _SLICE):
            hits = process.extract(
                wanted[k],
                stripped[base : base + _SLICE],
                scorer=fuzz.ratio,
                processor=None,
                limit=_PER_PROBE,
                score_cutoff=_MIN_SCORE,
            )
            for _text, score, index in hits:
                heapq.heappush(best, (score, base + index))
                if len(best) > _PER_PROBE:
                    heapq.heappop(best)
            if time.monotonic() > deadline:
                break
        starts.update(max(0, min(i - k, len(lines) - len(target))) for _score, i in best)
        if time.monotonic() > deadline:
            break
    joined = "\n".join(wanted)
    scored = [(fuzz.ratio("\n".join(stripped[i : i + len(target)]), joined), -i) for i in starts]
    if not scored:
        return None
    score, neg = max(scored)
    if score < _MIN_SCORE:
        return None
    return Nearest(start=-neg, lines=lines[-neg : -neg + len(target)], score=score)


def numbered(start: int, lines: list[str]) -> str:
    """Lines with their 1-based numbers, as `read` shows them."""
    return "\n".join(f"{start + k + 1:>6}\t{ln}" for k, ln in enumerate(lines))


def explain_difference(near: Nearest, wanted: list[str], what: str, limit: int = 6) -> str:
    """Line by line, which characters of the file's lines differ from the wanted ones (with code
    points where they could look alike), or "" when they are the same."""
    found = near.lines
    notes: list[str] = []
    matcher = difflib.SequenceMatcher(None, found, wanted, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        for k in range(max(i2 - i1, j2 - j1)):
            have = found[i1 + k] if i1 + k < i2 else None
            want = wanted[j1 + k] if j1 + k < j2 else None
            notes.append(_line_note(near.start + min(i1 + k, i2), have, want, what))
    notes = [n for n in notes if n]
    if not notes:
        return ""
    extra = f"\n  ... and {len(notes) - limit} more lines" if len(notes) > limit else ""
    return f"How it differs from {what}:\n" + "\n".join(notes[:limit]) + extra


def _line_note(index: int, have: str | None, want: str | None, what: str) -> str:
    where = f"  line {index + 1}"
    if have is None:
        return f"{where}: {what} has an extra line {_show(want or '')}"
    if want is None:
        return f"{where}: the file has an extra line {_show(have)}"
    if have == want:
        return ""
    head = _common_head(have, want)
    tail = _common_head(have[head:][::-1], want[head:][::-1])
    return (
        f"{where}: the file has {_show(have[head : len(have) - tail])} where {what} has "
        f"{_show(want[head : len(want) - tail])}"
    )


def _common_head(a: str, b: str) -> int:
    """How many characters `a` and `b` share at their start."""
    return next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def _show(text: str) -> str:
    """Text quoted, with its code points when they are not plain visible ASCII."""
    if not text:
        return "nothing"
    quoted = repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "...")
    if text.isascii() and text.isprintable() and text.strip() == text:
        return quoted
    points = " ".join(_point(ch) for ch in text[:6]) + (" ..." if len(text) > 6 else "")
    return f"{quoted} ({points})"


def _point(ch: str) -> str:
    name = unicodedata.name(ch, "") if not ch.isascii() else ""
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")
