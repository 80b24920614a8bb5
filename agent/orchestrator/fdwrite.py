"""Write files into the workspace through folder descriptors, following no symbolic link.

The merge writes as the user, outside any sandbox, while the parent's bash (or a sibling's) may
swap a folder `foo/` for `foo -> ~` at any instant. Writing `foo/x` by name after checking `foo`
(what `git checkout-index` does) would then write `~/x`. Here each folder is opened once, without
following a link (the workspace itself with `agent.nofollow.open_nofollow`, each folder below it
with `O_NOFOLLOW` relative to its parent's descriptor); a missing one is made. Each file is
created under a temporary name with `O_CREAT | O_EXCL | O_NOFOLLOW` in that descriptor and renamed
over its name within the same descriptor: whatever the names point to meanwhile, the bytes go
into the folder that was opened, and a file that was a hard link elsewhere is replaced, not
written through. A swap only changes which folder object the name `foo` means afterwards.

A path whose folder is no folder now (a link or a file put there meanwhile), whose folder was
removed while the merge wrote in it, or that cannot be written itself (a name too long for the
file system, a folder the user may not write) is not written; the caller is told which and why
(`Refused`), and the other paths are written. An error of the whole write (a full disk) is
raised, the temporary file of the path being written removed. Modes
are git's: 0o666 or 0o777 (executable), less the umask, as git's checkout makes them; a symbolic
link is made as git records it (its target, not followed).
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from agent._atomic_file import temporary_name
from agent.nofollow import open_nofollow, subfolder

_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_NOT_A_FOLDER = (errno.ELOOP, errno.ENOTDIR)
_SYMLINK, _EXECUTABLE, _GITLINK = "120000", "100755", "160000"
_FOLDER_GONE = "its folder was removed or replaced while the merge wrote in it"
NO_FOLDER_NOW = "a folder on its path is no folder now (a symbolic link or a file was put there meanwhile)"
_PATH_ERRORS = {
    errno.ENAMETOOLONG: "its name is too long for the workspace's file system",
    errno.EACCES: "the merge may not write there (a folder on its path is not writable)",
    errno.EPERM: "the merge may not write there (the file or its folder is protected)",
    errno.EISDIR: "a folder stands where the file goes",
}
"""Errors of one path, not of the whole write (a full disk is): the path is refused, the rest written."""


def path_refusal(exc: OSError) -> str | None:
    """Why one path was not written or deleted, for an OSError of that path only; None for an
    error of the whole write (a full disk, an I/O error), which the caller raises."""
    return _PATH_ERRORS.get(exc.errno or 0)


@dataclass(frozen=True, eq=False, repr=False)
class Placed:
    """One file to write: its relative `/`-separated path, git's mode, and its content in chunks
    (a symbolic link's target for mode 120000), read only when the file is written."""

    path: str
    mode: str
    data: Iterable[bytes]


@dataclass(frozen=True, eq=False, repr=False)
class Refused:
    """A path that was not written, and why."""

    path: str
    why: str


class _Folders:
    """The open descriptors of the folders from the workspace down to the current one (files come
    in git's order, so a folder's files are contiguous and only one chain is open at a time)."""

    def __init__(self, workspace: Path) -> None:
        self.chain: list[tuple[str, int]] = [("", open_nofollow(workspace, os.O_RDONLY | os.O_DIRECTORY))]

    def open(self, parts: list[str]) -> int:
        """The descriptor of the folder `parts` (made if missing).

        Raises:
            OSError: ELOOP or ENOTDIR when a folder on the way is a link or a file now.
        """
        depth = 0
        while depth < len(parts) and depth + 1 < len(self.chain) and self.chain[depth + 1][0] == parts[depth]:
            depth += 1
        for _, fd in self.chain[depth + 1 :]:
            os.close(fd)
        del self.chain[depth + 1 :]
        for name in parts[depth:]:
            self.chain.append((name, subfolder(self.chain[-1][1], name, 0o777)))
        return self.chain[-1][1]

    def close(self) -> None:
        for _, fd in self.chain:
            os.close(fd)
        self.chain.clear()


def write_files(workspace: Path, files: Iterable[Placed]) -> list[Refused]:
    """Write `files` (in git's order) under `workspace`; returns the ones refused because a folder
    on their path is no folder now, a folder stands where the file goes, or the path itself cannot
    be written (`path_refusal`: a name too long, a folder not writable).

    Raises:
        OSError: the workspace cannot be opened, or a write failed for all paths (disk full, I/O).
    """
    folders = _Folders(workspace)
    refused: list[Refused] = []
    try:
        for placed in files:
            *parts, name = placed.path.split("/")
            try:
                folder = folders.open(parts)
            except FileNotFoundError:  # made, then taken away
                refused.append(Refused(placed.path, _FOLDER_GONE))
                continue
            except OSError as exc:
                why = NO_FOLDER_NOW if exc.errno in _NOT_A_FOLDER else path_refusal(exc)
                if why is None:
                    raise
                refused.append(Refused(placed.path, why))
                continue
            if placed.mode == _GITLINK:  # a nested repository: git's checkout makes its folder only
                try:
                    os.mkdir(name, 0o777, dir_fd=folder)
                except FileExistsError:
                    pass
                continue
            if (why := _replace(folder, name, placed)) is not None:
                refused.append(Refused(placed.path, why))
    finally:
        folders.close()
    return refused


def _replace(folder: int, name: str, placed: Placed) -> str | None:
    """Create the file under a temporary name in `folder`, then rename it over `name`; returns why
    not (nothing left behind) when a folder stands at `name`, `folder` was removed meanwhile, or
    the path cannot be written (`path_refusal`)."""
    try:
        temporary = _create(folder, name, placed)
    except FileNotFoundError:
        return _FOLDER_GONE
    except OSError as exc:
        if (why := path_refusal(exc)) is None:
            raise
        return why
    try:
        os.rename(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
    except OSError as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary, dir_fd=folder)
        if exc.errno == errno.ENOENT:
            return _FOLDER_GONE
        if exc.errno in (errno.EISDIR, errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
            return "a folder stands where the file goes"
        if (why := path_refusal(exc)) is None:
            raise
        return why
    return None


def _create(folder: int, name: str, placed: Placed) -> str:
    """A new file (or symbolic link) holding `placed`, under an unused temporary name in `folder`:
    `temporary_name`'s (`.NAME.XXXXXXXX.tmp`), so the sweep of a killed run's leftovers knows it."""
    target = b"".join(placed.data) if placed.mode == _SYMLINK else b""
    while True:
        temporary = temporary_name(name)
        try:
            if placed.mode == _SYMLINK:
                os.symlink(target, temporary, dir_fd=folder)
                return temporary
            fd = os.open(temporary, _NEW_FILE, 0o777 if placed.mode == _EXECUTABLE else 0o666, dir_fd=folder)
        except FileExistsError:
            continue
        break
    try:
        for chunk in placed.data:
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view) :]
    except BaseException:
        os.close(fd)
        os.unlink(temporary, dir_fd=folder)
        raise
    os.close(fd)
    return temporary
