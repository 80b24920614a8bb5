"""The runtime's own small files (records, caches, the trust store, git pointer files), replaced
whole: written to a temporary file in the same folder, then renamed over the target.

A reader sees the old file or the new one, never a half-written one; a crash or an error between
the write and the rename leaves the old file as it was, and the temporary file is removed. The
rename replaces whatever stood at the target (a symlink planted there is replaced, not written
through). The file tools' own write (`tools/_fs.py` `replace_file`) is another thing: it works
through the parent folder's descriptor and keeps the target's mode, for files an agent may have
swapped under it.
"""

from __future__ import annotations

import os
from pathlib import Path


def temporary_name(name: str) -> str:
    """A hidden, unused-looking temporary name beside the file `name`: `.NAME.XXXXXXXX.tmp`, NAME cut
    to 200 bytes (not characters: 127 x "é" is 254 bytes), so the whole stays under any file system's
    255. The one form every replace-by-rename writes through, which the sweep of a killed run's
    leftovers knows (`agent.sessions.leftovers`)."""
    stem = os.fsencode(name)[:200].decode("utf-8", "ignore") or "file"
    return f".{stem}.{os.urandom(4).hex()}.tmp"


def write_atomic(path: Path, data: bytes | str, *, mode: int, fsync: bool) -> None:
    """Replace `path` with `data` (a str is written as UTF-8) in one rename.

    Args:
        path: the file to replace; its folder must exist.
        data: the whole new content.
        mode: the new file's permission bits, given to `open` as they are: the umask still applies
            (0o600 for a private file; 0o666 for the umask's default, as `Path.write_text` makes).
        fsync: flush the file before the rename and the folder after it, so the new content
            survives a power loss (the trust store, blobs another machine reads); without it a
            crash of the machine may lose the change, never the old file.

    Raises:
        OSError: the temporary file could not be made, written or renamed; the target is unchanged.
    """
    content = data.encode("utf-8") if isinstance(data, str) else data
    temporary = path.with_name(temporary_name(path.name))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(temporary, flags, mode)
    try:
        try:
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view) :]
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    if fsync:
        folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
