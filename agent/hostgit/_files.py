"""Small files of a git dir, read and written without following a link or blocking on a FIFO.

A `.git` file, a `commondir`, a HEAD or a config can be anything an agent left there: a symlink
to the user's `~/.bashrc`, a FIFO that never delivers, a device. Reading goes through a
non-blocking, no-follow open of a regular file; writing replaces the file by rename, so a link
planted in its place is replaced, never written through.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from agent._atomic_file import write_atomic

MAX_BYTES = 1 << 16
"""More than any pointer file, HEAD or runtime-written config needs."""


def read_small(path: Path, limit: int = MAX_BYTES) -> str | None:
    """The text of `path` if it is a regular file (not a link) of at most `limit` bytes, else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        return os.read(fd, limit + 1).decode("utf-8", errors="surrogateescape")
    finally:
        os.close(fd)


def replace_text(path: Path, text: str) -> None:
    """Make `path` a regular file holding `text`, by rename (whatever was there is replaced)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text, mode=0o600, fsync=False)


def pointer_target(path: Path, prefix: str = "") -> Path | None:
    """The path a pointer file names (`gitdir: X`, or a commondir's bare X), resolved against its
    folder; None when the file is not a readable pointer."""
    text = read_small(path, 4096)
    if text is None or not text.startswith(prefix):
        return None
    named = text[len(prefix) :].strip()
    if not named or "\n" in named or "\0" in named:
        return None
    return Path(os.path.realpath(path.parent / named))
