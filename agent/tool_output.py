"""The one truncation helper: every capped tool result goes through `cap_output`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from agent.tool import OutputLimits


@dataclass(frozen=True, eq=False, repr=False)
class CappedText:
    """A tool's output as the model reads it: capped, the whole text saved when cut."""

    text: str
    """What the model reads."""
    truncated: bool
    saved_path: Path | None
    """Where the full text was saved, when it was cut."""


def cap_output(
    text: str,
    limits: OutputLimits,
    save_dir: Path | None,
    *,
    keep: str = "head",
    label: str = "output",
) -> CappedText:
    """Cap `text` to the limits, keeping the head (or head and tail), and save the whole.

    Only whole lines are kept, so the marker's line count is what the model sees; a single line
    longer than the character cap is the one exception: its start (head) or end (tail) is kept,
    and the marker says so.

    Args:
        text: the full output.
        limits: line and character caps.
        save_dir: folder for the full text; None means it is not saved.
        keep: "head" keeps the start; "head_tail" keeps the start and the end (bash output).
        label: what the text is, for the marker line.
    """
    lines = text.splitlines(keepends=True)
    if len(lines) <= limits.max_lines and len(text) <= limits.max_chars:
        return CappedText(text, False, None)
    saved: Path | None = None
    if save_dir is not None:
        save_dir.mkdir(parents=True, exist_ok=True)
        saved = save_dir / f"{label}-{uuid.uuid4().hex[:12]}.txt"
        saved.write_text(text, encoding="utf-8")
    where = f"; the full {label} is in {saved} (read it with offset/limit)" if saved else ""
    if keep == "head_tail":
        half_lines, half_chars = max(limits.max_lines // 2, 1), max(limits.max_chars // 2, 1)
        head, head_n = _whole_lines(lines, half_lines, half_chars)
        tail_rev, tail_n = _whole_lines([ln[::-1] for ln in reversed(lines)], half_lines, half_chars)
        tail = tail_rev[::-1]
        omitted = len(text) - len(head) - len(tail)
        gone = len(lines) - head_n - tail_n - (head_n == 0) - (tail_n == 0)  # lines not even in part
        what = f"{gone} lines ({omitted} characters)" if gone > 0 else f"{omitted} characters"
        marker = f"{_newline(head)}[... {what} of {label} omitted{where} ...]\n"
        return CappedText(head + marker + tail, True, saved)
    head, shown = _whole_lines(lines, limits.max_lines, limits.max_chars)
    if shown:
        what = f"showed {shown} of {len(lines)} lines"
    else:
        what = f"showed the first {len(head)} of {len(lines[0])} characters of line 1, of {len(lines)} lines"
    marker = f"{_newline(head)}[{label} truncated: {what}{where}]"
    return CappedText(head + marker, True, saved)


def _whole_lines(lines: list[str], max_lines: int, max_chars: int) -> tuple[str, int]:
    """The first lines that fit both caps, whole, and how many; when not even the first fits,
    its first `max_chars` characters and 0 (the marker then says the line was cut)."""
    total = count = 0
    for line in lines[:max_lines]:
        if total + len(line) > max_chars:
            break
        total += len(line)
        count += 1
    if count == 0 and lines:
        return lines[0][:max_chars], 0
    return "".join(lines[:count]), count


def _newline(text: str) -> str:
    return "" if not text or text.endswith("\n") else "\n"
