"""Empty read-only folders standing in for protected paths that do not exist yet.

bash must not create `.subagent/config.yaml`, `.mcp.json` or a hook in a repository that has no
`.git/hooks`, yet the workspace is writable. bubblewrap can only mount on something that exists,
so the runtime makes an empty folder there (mode 0555, its mark) and bubblewrap binds it
read-only onto itself: nothing can be created in it, and a mount point cannot be removed or
renamed. A folder, not a file, even for `.mcp.json`: `git status` and `git add -A` ignore an
empty folder, where an empty file would show up in the user's repository.

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


def is_placeholder(path: Path) -> bool:
    """An empty real folder with the placeholder's mode."""
    try:
        info = os.lstat(path)
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

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd

    @classmethod
    def hold(cls, path: Path) -> Placeholder | None:
        """Make (or join) the placeholder at `path`; None when something real is there now."""
        for _ in range(20):
            with contextlib.suppress(FileExistsError):
                os.mkdir(path, MODE)
                os.chmod(path, MODE)  # the umask may have taken bits off
            try:
                fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
            except FileNotFoundError:
                continue  # its last holder removed it in between: make it again
            except OSError:
                return None  # a file, or a link: something real
            fcntl.flock(fd, fcntl.LOCK_SH)
            if not _same(fd, path):
                os.close(fd)  # removed (and maybe made again) while we waited for the lock
                continue
            if is_placeholder(path):
                return cls(path, fd)
            os.close(fd)
            return None
        return None

    def release(self) -> None:
        """Drop our hold; remove the folder if no one else holds it and it is still empty."""
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if is_placeholder(self.path) and _same(self._fd, self.path):
                os.rmdir(self.path)
        except OSError:
            pass  # another sandbox holds it: the last one out removes it
        finally:
            os.close(self._fd)


def sweep_stale(candidates: Iterable[Path]) -> list[Path]:
    """Remove the placeholders among `candidates` that no sandbox holds: what a killed run left
    (a live sandbox holds a shared lock on each of its own). Returns what was removed."""
    removed: list[Path] = []
    for path in candidates:
        if not is_placeholder(path):
            continue
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if is_placeholder(path) and _same(fd, path):
                os.rmdir(path)
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
