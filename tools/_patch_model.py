"""What a patch says, whichever format it came in: files to add, delete or update, and hunks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(eq=False, repr=False)
class Chunk:
    """One hunk: the old lines to find and the new lines to put there."""

    old: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    anchors: list[str] = field(default_factory=list)
    """Codex `@@ text` lines: the chunk comes after a line matching each, in order."""
    hint: int | None = None
    """A unified diff's old start line (1-based): where to look first, not trusted."""
    at_eof: bool = False
    """Codex `*** End of File`: the old lines end the file."""
    old_no_newline: bool = False
    new_no_newline: bool = False
    number: int = 0
    """1-based position of the hunk in its file, for error messages."""


@dataclass(eq=False, repr=False)
class FileOp:
    """One file the patch adds, deletes or updates (and maybe moves)."""

    kind: Literal["add", "delete", "update"]
    path: str
    move_to: str | None = None
    chunks: list[Chunk] = field(default_factory=list)
    content: list[str] | None = None
    """The whole text of an added file, as lines."""
    no_final_newline: bool = False
