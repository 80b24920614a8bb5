"""What a child changed in its copy-on-write tree, read from the overlay's upper folder alone.

The lower layer (the base checkout) never changes; everything the child did is in the upper
folder, in overlayfs's own terms (mounted with `redirect_dir=nofollow,metacopy=off`):

- a regular file or symlink: written, created or copied up (maybe unchanged: git's hash decides);
- a character device 0:0: a whiteout, the path was deleted (a file, or a folder with all of it);
- a folder with the `user.overlay.opaque` xattr `y`: deleted and made again, so nothing of the
  lower folder shows through; what is in it now is listed like any other entry.

Reading it costs what the child changed, whatever the size of the repository. Folders that are
never snapshotted (`.git/`, `node_modules/`, ...) are not entered.

Whether anything changed since the last snapshot is decided without git: the same entries with the
same stat data, and, for the entries changed so close to that read that a later write could carry
the same times, the same content (their digests, taken as they were read). A snapshot right after a
write (the runtime's checkpoint after each tool) thus makes the end of the run's snapshot free.
"""

from __future__ import annotations

import hashlib
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
    racy: dict[str, bytes] | None = None
    """The digest of each entry changed within `RACY_MARGIN_NS` of the read (`_digest`); None if
    one of them could not be digested (too big): the next read cannot trust its stat data then."""

    @property
    def empty(self) -> bool:
        return not self.present and not self.gone

    def same_as(self, earlier: UpperChanges, upper: Path) -> bool:
        """Nothing in `upper` changed since `earlier` was read: the same entries with the same stat
        data, and the entries changed so close to that read that a later write could carry the same
        times (a file system's clock may tick only every few milliseconds; git's "racy" entries are
        the same) still hold what they held then."""
        if self.signature != earlier.signature or earlier.racy is None:
            return False
        return all(_digest(os.path.join(upper, rel)) == digest for rel, digest in earlier.racy.items())


RACY_MARGIN_NS = 100_000_000
"""100 ms: far more than any file system clock's tick."""
DIGEST_LIMIT = 1 << 20
"""A racy file bigger than 1 MiB is not read again: its snapshot is made again (git hashes it)."""


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
    recent = [entry[0] for entry in signature if entry[4] >= started - RACY_MARGIN_NS]
    digests = {rel: _digest(os.path.join(upper, rel)) for rel in recent}
    racy = {rel: digest for rel, digest in digests.items() if digest is not None}
    return UpperChanges(
        tuple(sorted(present)),
        tuple(sorted(gone)),
        tuple(sorted(signature)),
        racy if len(racy) == len(digests) else None,
    )


def _digest(path: str) -> bytes | None:
    """What an entry holds beyond its stat data: a file's content (None past `DIGEST_LIMIT`), a
    symlink's target, a folder's opaque mark, a device's number; b"" once it is gone."""
    try:
        info = os.lstat(path)
        if stat.S_ISREG(info.st_mode):
            if info.st_size > DIGEST_LIMIT:
                return None
            with open(path, "rb") as handle:
                return b"f" + hashlib.sha256(handle.read(DIGEST_LIMIT + 1)).digest()
        if stat.S_ISLNK(info.st_mode):
            return b"l" + os.fsencode(os.readlink(path))
        if stat.S_ISDIR(info.st_mode):
            return b"d" + (b"y" if _opaque(path) else b"")
        return b"c" + str(info.st_rdev).encode()
    except OSError:
        return b""


def _opaque(path: str) -> bool:
    try:
        return os.getxattr(path, OPAQUE, follow_symlinks=False) == b"y"
    except OSError:
        return False
