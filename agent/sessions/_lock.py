"""Who holds what, across processes: one live run per session, one changing run per workspace.

Both are an exclusive `flock` on a file under `locks/`. The kernel drops the lock when the holder's
file descriptor closes, including when the process is killed with `kill -9`, so a crashed run never
leaves a stale lock behind and there is no pid liveness guessing. The holder writes who it is into
the file so a refusal can say who holds it, and empties the file when it lets go: a free lock whose
file still names a holder was left by a process that died, which is how the next run knows there
may be leftovers to sweep.

SQLite's own locks (on `sessions.db` and its `-shm`) are POSIX locks the kernel lists in
`/proc/locks`; `lock_holders` reads them, so a locked store can name the process holding it.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from agent.errors import SessionLockedError, StoreError, WorkspaceBusyError


@contextmanager
def hold_session_lock(lock_dir: Path, session_id: str) -> Iterator[None]:
    """Hold the session for the duration of the `with` block.

    Raises:
        SessionLockedError: another process (or another holder in this process) has it.
        StoreError: the lock file cannot be made (a full or read-only disk).
    """
    with _held(lock_dir / f"{session_id}.lock", str(os.getpid())) as claim:
        if claim.busy is not None:
            raise SessionLockedError(
                f"session {session_id} is in use by another subagent process "
                f"(pid {claim.busy or 'unknown'}); "
                f"wait for it to finish, stop it, or use --fork to continue in a copy"
            )
        yield


def session_holder(lock_dir: Path, session_id: str) -> str | None:
    """The pid (as written) of the live process running the session, or None when none does."""
    if not is_held(lock_dir, session_id):
        return None
    try:
        return (lock_dir / f"{session_id}.lock").read_text().strip() or "unknown"
    except OSError:
        return "unknown"


def is_held(lock_dir: Path, session_id: str) -> bool:
    """Whether a live process holds the session now (a `running` session nobody holds was killed)."""
    return _is_locked(lock_dir / f"{session_id}.lock")


@dataclass(eq=False, repr=False)
class WorkspaceClaim:
    """This process changes the workspace; `previous` says who held it last without letting go
    (a run that was killed: its temporary files may still be there), else None."""

    path: Path
    fd: int
    previous: str | None

    def name(self, session_id: str, command: str) -> None:
        """Say which session holds the workspace, for anyone refused meanwhile."""
        text = json.dumps({"pid": os.getpid(), "session": session_id, "command": command})
        _write(self.fd, self.path, text)


@contextmanager
def hold_workspace(lock_dir: Path, workspace: Path, command: str) -> Iterator[WorkspaceClaim]:
    """Hold `workspace` as the one run changing it, for the `with` block.

    Raises:
        WorkspaceBusyError: another live run holds it (the message names its session and pid).
        StoreError: the lock file cannot be made.
    """
    path = workspace_lock_path(lock_dir, workspace)
    holder = json.dumps({"pid": os.getpid(), "session": "", "command": command})
    with _held(path, holder) as claim:
        if claim.busy is not None:
            raise WorkspaceBusyError(workspace, describe_holder(claim.busy))
        dead = describe_holder(claim.previous) if claim.previous else None
        yield WorkspaceClaim(path=path, fd=claim.fd, previous=dead)


def workspace_lock_path(lock_dir: Path, workspace: Path) -> Path:
    key = hashlib.sha256(str(Path(workspace).resolve()).encode()).hexdigest()[:20]
    return lock_dir / f"workspace-{key}.lock"


def workspace_holder(lock_dir: Path, workspace: Path) -> str | None:
    """Who is changing `workspace` now ("session ses_... (pid N, subagent run)"), or None."""
    path = workspace_lock_path(lock_dir, workspace)
    if not _is_locked(path):
        return None
    try:
        return describe_holder(path.read_text())
    except OSError:
        return "another subagent process"


def describe_holder(text: str) -> str:
    """A lock file's content as a person reads it."""
    data = _parse(text)
    if data is None:
        return "another subagent process"
    session = f"session {data['session']} " if data.get("session") else ""
    return f"{session}(pid {data.get('pid', '?')}, {data.get('command') or 'subagent'})"


def _parse(text: str | None) -> dict[str, object] | None:
    if not text or not text.strip():
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return {"pid": text.strip()}
    return data if isinstance(data, dict) else None


@dataclass(eq=False, repr=False)
class _Claim:
    """The lock file as we found it and took it, or found it held."""

    fd: int
    busy: str | None
    """The holder's text when another holds the lock (we do not), else None."""
    previous: str | None
    """What the file said when we took it: non-empty means its last holder died holding it."""


@contextmanager
def _held(path: Path, holder: str) -> Iterator[_Claim]:
    """Try to take the flock on `path`; write `holder` into it while held, empty it on release."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise _lock_file_error(path, exc) from exc
    try:
        if not _take(fd):
            yield _Claim(fd=fd, busy=os.pread(fd, 4096, 0).decode(errors="replace").strip(), previous=None)
            return
        previous = os.pread(fd, 4096, 0).decode(errors="replace").strip() or None
        _write(fd, path, holder)
        try:
            yield _Claim(fd=fd, busy=None, previous=previous)
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def _take(fd: int, attempts: int = 5) -> bool:
    """Take the exclusive flock without waiting on a holder; a few short retries ride out the
    shared lock another process's `_is_locked` probe holds for a moment."""
    for attempt in range(attempts):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if attempt + 1 < attempts:
                time.sleep(0.01)
    return False


def _write(fd: int, path: Path, text: str) -> None:
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, text.encode(), 0)
    except OSError as exc:
        raise _lock_file_error(path, exc) from exc


def _lock_file_error(path: Path, exc: OSError) -> StoreError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        from agent.sessions._store_health import full_error

        return full_error(path, 4096)
    return StoreError(path, f"cannot use this lock file: {exc.strerror}; check that the data dir is writable")


def _is_locked(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also drops the probe's own lock
    return False


def lock_holders(paths: list[Path], *, writers_only: bool = True) -> list[int]:
    """Pids of other processes holding POSIX or flock locks on any of `paths` (`/proc/locks`).

    `writers_only` keeps exclusive locks: every SQLite connection holds a shared lock on the
    `-shm` file while it is open, but only a writer (or an exclusive reader) blocks others.
    """
    wanted: set[tuple[int, int, int]] = set()
    for path in paths:
        try:
            info = path.stat()
        except OSError:
            continue
        wanted.add((os.major(info.st_dev), os.minor(info.st_dev), info.st_ino))
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return []
    pids: list[int] = []
    for line in lines:
        fields = line.split()
        if "->" in fields:  # a waiter, not a holder
            continue
        try:
            kind, pid, where = fields[3], int(fields[4]), fields[5]
            major, minor, inode = where.split(":")
            key = (int(major, 16), int(minor, 16), int(inode))
        except (IndexError, ValueError):
            continue
        if key in wanted and pid > 0 and pid != os.getpid() and (kind == "WRITE" or not writers_only):
            pids.append(pid)
    return sorted(set(pids))


def describe_pid(pid: int) -> str:
    """`pid 123 (python3 hold.py)`: what a person needs to find the process."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return f"pid {pid}"
    command = " ".join(" ".join(a.decode(errors="replace") for a in argv if a).split())[:120]
    return f"pid {pid} ({command})" if command else f"pid {pid}"
