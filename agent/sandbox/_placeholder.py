"""Empty read-only folders (and files) standing in for protected paths that do not exist yet.

bash must not create `.subagent/config.yaml`, `.mcp.json` or a hook in a repository that has no
`.git/hooks`, yet the workspace is writable. bubblewrap can only mount on something that exists,
so the runtime makes an empty folder there (mode 0555, its mark) and bubblewrap binds it
read-only onto itself: nothing can be created in it, and a mount point cannot be removed or
renamed. A folder, not a file, even for `.mcp.json`: `git status` and `git add -A` ignore an
empty folder, where an empty file would show up in the user's repository.

A credential in HOME that a writable root takes in (`~/.gitconfig` with `--add-dir ~`) and that
does not exist gets one too; where it is a file, an empty file (mode 0444, its mark): a folder at
`~/.gitconfig` would stop every git command, an empty file is an empty config.

Two sandboxes (of this process or another) may share a placeholder: each holds a shared flock
on it for its call, and the last one out removes it (an exclusive flock succeeds only then).
Removing a folder that is a mount point in another sandbox would detach that sandbox's mount,
so no one removes it while another holds it.

Removing a folder costs a few milliseconds on a disk file system (the inode is freed when the
last descriptor closes), so a call's placeholders are released by a background thread a moment
after the call returns (`release_later`), and at exit whatever is still queued.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import queue
import stat
import threading
import time
from collections.abc import Iterable
from pathlib import Path

MODE = 0o555
FILE_MODE = 0o444
"""A placeholder file's mode: empty and read-only, its mark (a folder's is `MODE`)."""


def is_placeholder(path: Path, *, file: bool = False) -> bool:
    """An empty real folder with the placeholder's mode (with `file`: an empty file with `FILE_MODE`)."""
    try:
        info = os.lstat(path)
        if file:
            return (
                stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == FILE_MODE and info.st_size == 0
            )
        return stat.S_ISDIR(info.st_mode) and stat.S_IMODE(info.st_mode) == MODE and not os.listdir(path)
    except OSError:
        return False


def _same(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == os.lstat(path).st_ino
    except OSError:
        return False


class Placeholder:
    """One held placeholder folder."""

    def __init__(self, path: Path, fd: int, file: bool) -> None:
        self.path = path
        self._fd = fd
        self._file = file

    @classmethod
    def hold(cls, path: Path, *, file: bool = False) -> Placeholder | None:
        """Make (or join) the placeholder at `path` (an empty file of mode `FILE_MODE` with `file`,
        for a credential file such as `~/.gitconfig`, where a folder would stop git); None when
        something real is there now."""
        opened = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | (0 if file else os.O_DIRECTORY)
        for _ in range(20):
            with contextlib.suppress(FileExistsError):
                if file:
                    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE))
                else:
                    os.mkdir(path, MODE)
                os.chmod(path, FILE_MODE if file else MODE)  # the umask may have taken bits off
            try:
                fd = os.open(path, opened)
            except FileNotFoundError:
                continue  # its last holder removed it in between: make it again
            except OSError:
                return None  # a file, or a link: something real
            fcntl.flock(fd, fcntl.LOCK_SH)
            if not _same(fd, path):
                os.close(fd)  # removed (and maybe made again) while we waited for the lock
                continue
            if is_placeholder(path, file=file):
                return cls(path, fd, file)
            os.close(fd)
            return None
        return None

    def release(self) -> None:
        """Drop our hold; remove the placeholder if no one else holds it and it is still empty."""
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if is_placeholder(self.path, file=self._file) and _same(self._fd, self.path):
                (os.unlink if self._file else os.rmdir)(self.path)
        except OSError:
            pass  # another sandbox holds it: the last one out removes it
        finally:
            os.close(self._fd)


def sweep_stale(candidates: Iterable[Path], *, files: Iterable[Path] = ()) -> list[Path]:
    """Remove the placeholders among `candidates` (folders) and `files` that no sandbox holds: what
    a killed run left (a live sandbox holds a shared lock on each of its own). Returns what was
    removed."""
    removed: list[Path] = []
    for path, file in [*((c, False) for c in candidates), *((f, True) for f in files)]:
        if not is_placeholder(path, file=file):
            continue
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | (0 if file else os.O_DIRECTORY))
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if is_placeholder(path, file=file) and _same(fd, path):
                (os.unlink if file else os.rmdir)(path)
                removed.append(path)
        except OSError:
            continue  # held by a live sandbox, or changed meanwhile
        finally:
            os.close(fd)
    return removed


LINGER_S = 1.0
"""How long a released placeholder waits before it is removed: the next call, usually soon,
joins it instead of making it again, and the removal does not compete with that call."""

_queue: queue.Queue[tuple[float, Placeholder]] = queue.Queue()
_worker: list[threading.Thread] = []


def _release_queued() -> None:
    while True:
        due, placeholder = _queue.get()
        try:
            time.sleep(max(0.0, due - time.monotonic()))
            placeholder.release()
        finally:
            _queue.task_done()


def settle() -> None:
    """Wait until every placeholder handed to `release_later` has been released."""
    _queue.join()


def release_later(held: Iterable[Placeholder]) -> None:
    """Release these placeholders in the background, a moment from now (at exit at the latest)."""
    due = time.monotonic() + LINGER_S
    for placeholder in held:
        _queue.put((due, placeholder))
    if not _worker:
        _worker.append(threading.Thread(target=_release_queued, name="placeholders", daemon=True))
        _worker[0].start()
        atexit.register(settle)
