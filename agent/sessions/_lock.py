"""One live holder per session, across processes.

An exclusive `flock` on `locks/<session id>.lock`. The kernel drops the lock when the holder's
file descriptor closes, including when the process is killed with `kill -9`, so a crashed run
never leaves a stale lock behind and there is no pid liveness guessing. The holder writes its pid
into the file so the refusal can say who holds the session.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agent.errors import SessionLockedError


@contextmanager
def hold_session_lock(lock_dir: Path, session_id: str) -> Iterator[None]:
    """Hold the session for the duration of the `with` block.

    Raises:
        SessionLockedError: another process (or another holder in this process) has it.
    """
    lock_dir.mkdir(parents=True, exist_ok=True)
    path = lock_dir / f"{session_id}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise SessionLockedError(
                f"session {session_id} is in use by another subagent process (pid {holder}); "
                f"wait for it to finish, stop it, or use --fork to continue in a copy"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def is_held(lock_dir: Path, session_id: str) -> bool:
    """Whether a live process holds the session now (a `running` session nobody holds was killed)."""
    path = lock_dir / f"{session_id}.lock"
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also drops the probe's own lock
    return False
