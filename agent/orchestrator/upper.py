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
import time
from dataclasses import dataclass
from pathlib import Path

from agent.sessions._shadow_git import DEFAULT_EXCLUDES

NEVER_SNAPSHOTTED = frozenset(name.rstrip("/") for name in DEFAULT_EXCLUDES)
OPAQUE = "user.overlay.opaque"


@dataclass(frozen=True, eq=False, repr=False)
class UpperChanges:
    """Relative paths, `/`-separated, as the OS gives the names."""

    present: tuple[str, ...]
    """Files and symlinks in the upper folder: what the child wrote."""
    gone: tuple[str, ...]
    """Paths whose lower content is hidden: whiteouts, and opaque folders."""
    signature: tuple[tuple[str, int, int, int, int, int], ...] = ()
    """Every entry's (path, mode, size, mtime, ctime, inode), folders included."""
    read_at_ns: int = 0
    """When the walk began (the clock file times are on)."""
    newest_change_ns: int = 0
    """The latest ctime of any entry."""

    @property
    def empty(self) -> bool:
        return not self.present and not self.gone

    def same_as(self, earlier: UpperChanges) -> bool:
        """Nothing changed since `earlier` was read: the same entries with the same stat data, and
        none changed so close to that read that a later write could carry the same time (a file
        system's clock may tick only every few milliseconds; git's "racy" entries are the same)."""
        return (
            self.signature == earlier.signature
            and self.newest_change_ns < earlier.read_at_ns - RACY_MARGIN_NS
        )


RACY_MARGIN_NS = 100_000_000
"""100 ms: far more than any file system clock's tick."""


def read_upper(upper: Path) -> UpperChanges:
    """The child's changes, from a walk of `upper` (see the module docstring)."""
    present: list[str] = []
    gone: list[str] = []
    signature: list[tuple[str, int, int, int, int, int]] = []
    started = time.time_ns()
    pending = [("", os.fspath(upper))]
    while pending:
        prefix, folder = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                rel = f"{prefix}{entry.name}"
                info = entry.stat(follow_symlinks=False)
                signature.append(
                    (rel, info.st_mode, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
                )
                if stat.S_ISDIR(info.st_mode):
                    if _opaque(entry.path):  # a never-snapshotted folder too: it may hide a file
                        gone.append(rel)
                    if entry.name in NEVER_SNAPSHOTTED:
                        continue
                    pending.append((f"{rel}/", entry.path))
                elif stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode):
                    present.append(rel)
                elif stat.S_ISCHR(info.st_mode) and info.st_rdev == 0:
                    gone.append(rel)
                # a FIFO, socket or device the child made: git cannot keep it, nor can a checkout
    newest = max((entry[4] for entry in signature), default=0)
    return UpperChanges(
        tuple(sorted(present)), tuple(sorted(gone)), tuple(sorted(signature)), started, newest
    )


def _opaque(path: str) -> bool:
    try:
        return os.getxattr(path, OPAQUE, follow_symlinks=False) == b"y"
    except OSError:
        return False
