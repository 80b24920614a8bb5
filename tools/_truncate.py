"""The one truncation helper: every capped tool result goes through `cap_output`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from tools.base import OutputLimits


@dataclass(frozen=True)
class CappedText:
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
        half_lines, half_chars = limits.max_lines // 2, limits.max_chars // 2
        head = "".join(lines[:half_lines])[:half_chars]
        tail = "".join(lines[-half_lines:])[-half_chars:]
        omitted = len(text) - len(head) - len(tail)
        marker = f"\n[... {omitted} characters of {label} omitted{where} ...]\n"
        return CappedText(head + marker + tail, True, saved)
    head = "".join(lines[: limits.max_lines])[: limits.max_chars]
    shown = head.count("\n")
    marker = f"\n[{label} truncated: showed {shown} of {len(lines)} lines{where}]"
    return CappedText(head + marker, True, saved)
