"""Race-free file access: open exactly the path that was checked, and follow no symbolic link.

A tool resolves the model's path (`tools._paths`, realpath), asks the run's policy about the
resolved path, then opens it here. Between the two, another process (a bash loop, say) may swap a
folder for a symlink to HOME; opening by name again would follow it out of the boundary. Every
open here goes through `agent.nofollow.open_nofollow` (openat2, or a walk from `/`), which refuses
a symlink in any component of the path, so what opens is the checked path or nothing (`ELOOP`,
reported as a refusal).

Everything else goes through descriptors: a file is opened `O_NONBLOCK` and fstat'ed before any
read, so a FIFO, a device or a socket is refused instead of blocking the runtime; a write creates
its temporary file, renames it and fsyncs relative to the opened parent folder (`dir_fd`), and so
do mkdir, delete and move. Paths must be absolute and resolved.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

from agent._atomic_file import temporary_name
from agent.errors import ToolFailure
from agent.nofollow import open_at, open_nofollow
from tools._paths import printable

_READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY
CHUNK = 64 * 1024

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a directory"),
)


def _failure(exc: OSError, path: Path, doing: str) -> ToolFailure:
    """An OSError in words the model can act on, naming the path."""
    shown = printable(str(path))
    if exc.errno == errno.ELOOP:
        return ToolFailure(
            f"{shown}: {doing} refused: a component of the path is a symbolic link (one was "
            "swapped in after the path was checked, or a link loops); nothing was done"
        )
    if exc.errno == errno.ENXIO:
        return ToolFailure(
            f"{shown} is a socket or a device without a reader; the file tools only read regular files"
        )
    return ToolFailure(f"{shown}: cannot {doing}: {exc.strerror}")


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


class OpenFile:
    """A regular file or a directory opened for reading (never anything that could block)."""

    def __init__(self, fd: int, info: os.stat_result) -> None:
        self.fd = fd
        self.stat = info

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.stat.st_mode)

    def chunks(self, size: int = CHUNK) -> Iterator[bytes]:
        """The file's bytes from the current offset, `size` at a time, until its end."""
        while chunk := os.read(self.fd, size):
            yield chunk

    def read_at_most(self, limit: int) -> bytes:
        """Up to `limit` bytes, whatever size the file claims (the claim only sizes the first read)."""
        parts: list[bytes] = []
        left = limit
        want = min(left, self.stat.st_size + 1 if self.stat.st_size else CHUNK)
        while left > 0 and (chunk := os.read(self.fd, want)):
            parts.append(chunk)
            left -= len(chunk)
            want = min(left, CHUNK)  # usually just the EOF; a big ask would cost a fresh mapping
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def entries(self) -> list[tuple[str, bool]]:
        """A directory's entries: name (as the OS gives it) and whether it is a folder, by name."""
        with os.scandir(self.fd) as listing:
            return sorted(((e.name, _is_dir(e)) for e in listing), key=lambda item: item[0])

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> OpenFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def open_for_reading(path: Path) -> OpenFile | None:
    """Open a regular file or a directory without blocking; None when nothing is there.

    Raises:
        ToolFailure: a FIFO, socket or device (refused before any read), a symlink in the path,
            or the OS refused (permissions, ...).
    """
    try:
        fd = open_nofollow(path, _READ_FLAGS)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _failure(exc, path, "read") from exc
    info = os.fstat(fd)
    if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
        os.close(fd)
        raise ToolFailure(
            f"{printable(str(path))} is {_kind(info.st_mode)}, not a regular file; the file "
            "tools refuse it rather than block on it"
        )
    return OpenFile(fd, info)


def _open_dir(path: Path, before_mkdir: Callable[[Path], None] | None) -> int:
    """Open the folder `path` (no symlink followed); with `before_mkdir`, create what is missing,
    each new folder through its parent's descriptor and only once `before_mkdir(folder)` allows it."""
    try:
        return open_nofollow(path, _DIR_FLAGS)
    except FileNotFoundError:
        if before_mkdir is None or path.parent == path:
            raise
    parent = _open_dir(path.parent, before_mkdir)
    try:
        before_mkdir(path)
        try:
            os.mkdir(path.name, 0o777, dir_fd=parent)
        except FileExistsError:
            pass
        return open_at(parent, path.name, _DIR_FLAGS | os.O_NOFOLLOW | os.O_CLOEXEC, 0, path)
    finally:
        os.close(parent)


def _entry_stat(parent: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return None


def replace_file(path: Path, data: bytes, before_mkdir: Callable[[Path], None]) -> None:
    """Write `data` at `path` atomically: temporary file, fsync, rename, fsync of the folder.

    All of it happens relative to the parent folder's descriptor, opened without following a link,
    so a folder swapped for a symlink mid-way cannot redirect the write. The target keeps its mode;
    a new file gets the umask's default. Missing folders are created (see `_open_dir`).

    Raises:
        ToolFailure: the target is not a regular file, a symlink is in the path, or the OS refused.
    """
    try:
        parent = _open_dir(path.parent, before_mkdir)
    except OSError as exc:
        raise _failure(exc, path, "write") from exc
    try:
        _replace_in(parent, path, data)
    except OSError as exc:
        raise _failure(exc, path, "write") from exc
    finally:
        os.close(parent)


def _replace_in(parent: int, path: Path, data: bytes) -> None:
    existing = _entry_stat(parent, path.name)
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        raise ToolFailure(
            f"{printable(str(path))} is {_kind(existing.st_mode)}; only a regular file can be replaced"
        )
    temp = temporary_name(path.name)
    creation_mode = 0o600 if existing is not None else 0o666  # a new file: the umask decides
    fd = os.open(
        temp,
        os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
        creation_mode,
        dir_fd=parent,
    )
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if existing is not None:
                os.fchmod(fd, stat.S_IMODE(existing.st_mode))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(temp, path.name, src_dir_fd=parent, dst_dir_fd=parent)
    except BaseException:
        _unlink_quietly(parent, temp)
        raise
    os.fsync(parent)


def _unlink_quietly(parent: int, name: str) -> None:
    try:
        os.unlink(name, dir_fd=parent)
    except OSError:
        pass


def remove_file(path: Path, *, missing_ok: bool = False) -> None:
    """Delete the regular file `path` through its parent's descriptor, then fsync the folder.

    Raises:
        ToolFailure: missing (unless `missing_ok`), not a regular file, a symlink in the path.
    """
    try:
        parent = _open_dir(path.parent, None)
    except FileNotFoundError:
        if missing_ok:
            return
        raise ToolFailure(f"{printable(str(path))}: no such file") from None
    except OSError as exc:
        raise _failure(exc, path, "delete") from exc
    try:
        existing = _entry_stat(parent, path.name)
        if existing is None:
            if missing_ok:
                return
            raise ToolFailure(f"{printable(str(path))}: no such file")
        if not stat.S_ISREG(existing.st_mode):
            raise ToolFailure(
                f"{printable(str(path))} is {_kind(existing.st_mode)}; only a regular file can be deleted"
            )
        os.unlink(path.name, dir_fd=parent)
        os.fsync(parent)
    except OSError as exc:
        raise _failure(exc, path, "delete") from exc
    finally:
        os.close(parent)
