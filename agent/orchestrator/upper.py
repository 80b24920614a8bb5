"""What a child changed in its copy-on-write tree, read from the overlay's upper folder alone.

The lower layer (the base checkout) never changes; everything the child did is in the upper
folder, in overlayfs's own terms (mounted with `redirect_dir=nofollow,metacopy=off`):

- a regular file or symlink: written, created or copied up (maybe unchanged: git's hash decides);
- a character device 0:0: a whiteout, the path was deleted (a file, or a folder with all of it);
- a folder with the `user.overlay.opaque` xattr `y`: deleted and made again, so nothing of the
  lower folder shows through; what is in it now is listed like any other entry.

Reading it costs what the child changed, whatever the size of the repository. Folders that are
never snapshotted (`.git/`, `node_modules/`, ...) are not entered.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from agent.sessions._shadow_git import DEFAULT_EXCLUDES

NEVER_SNAPSHOTTED = frozenset(name.rstrip("/") for name in DEFAULT_EXCLUDES)
OPAQUE = "user.overlay.opaque"


@dataclass(frozen=True)
class UpperChanges:
    """Relative paths, `/`-separated, as the OS gives the names."""

    present: tuple[str, ...]
    """Files and symlinks in the upper folder: what the child wrote."""
    gone: tuple[str, ...]
    """Paths whose lower content is hidden: whiteouts, and opaque folders."""

    @property
    def empty(self) -> bool:
        return not self.present and not self.gone


def read_upper(upper: Path) -> UpperChanges:
    """The child's changes, from a walk of `upper` (see the module docstring)."""
    present: list[str] = []
    gone: list[str] = []
    pending = [("", os.fspath(upper))]
    while pending:
        prefix, folder = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                rel = f"{prefix}{entry.name}"
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(info.st_mode):
                    if entry.name in NEVER_SNAPSHOTTED:
                        continue
                    if _opaque(entry.path):
                        gone.append(rel)
                    pending.append((f"{rel}/", entry.path))
                elif stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode):
                    present.append(rel)
                elif stat.S_ISCHR(info.st_mode) and info.st_rdev == 0:
                    gone.append(rel)
                # a FIFO, socket or device the child made: git cannot keep it, nor can a checkout
    return UpperChanges(tuple(sorted(present)), tuple(sorted(gone)))


def _opaque(path: str) -> bool:
    try:
        return os.getxattr(path, OPAQUE, follow_symlinks=False) == b"y"
    except OSError:
        return False
