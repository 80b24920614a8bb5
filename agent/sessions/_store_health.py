"""What goes wrong with the session store's file, in a person's words, and the one repair we make.

SQLite's errors ("file is not a database", "database is locked", "database or disk is full") name
neither the file nor the remedy. `translate` turns each into the runtime's `StoreError` family,
naming `sessions.db` and saying what to do. A damaged store (not a database, or malformed: a
truncated copy, a disk fault) is moved aside by `set_aside`, kept whole with its `-wal` beside it,
never deleted, and a new store is started; it is only moved when no other process has it open.
Damage found while a run is writing is recorded in a marker file, so the next start moves the store
aside even when the damaged pages are not the ones it reads first.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from agent.errors import StoreError, StoreFullError, StoreLockedError
from agent.sessions._lock import describe_pid, lock_holders

log = logging.getLogger(__name__)

_BUSY, _LOCKED, _CORRUPT, _FULL, _CANTOPEN, _READONLY, _NOTADB = 5, 6, 11, 13, 14, 8, 26
DEFAULT_NEED = 64 * 1024
"""Bytes a write is assumed to need when its size is unknown: a few pages of database and WAL."""


def primary_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def is_busy(exc: sqlite3.Error) -> bool:
    return primary_code(exc) in (_BUSY, _LOCKED)


def is_damage(exc: sqlite3.Error) -> bool:
    """SQLite found the file damaged, or a stored text is not even UTF-8 any more."""
    return primary_code(exc) in (_CORRUPT, _NOTADB) or str(exc).startswith("Could not decode")


def damaged(path: Path, reason: str) -> StoreError:
    """Damage found while the store is in use: remembered, so the next start moves it aside."""
    reason = reason[:160]
    mark_damaged(path, reason)
    return StoreError(
        path,
        f"the file is damaged ({reason}); nothing was deleted. The next subagent "
        "command moves it aside (kept) and starts a new store",
    )


def translate(exc: sqlite3.Error, path: Path, needed: int = DEFAULT_NEED) -> StoreError:
    """The `StoreError` that says what `exc` means for `path` and what to do about it."""
    code = primary_code(exc)
    if code == _FULL:
        return full_error(path, needed)
    if is_damage(exc):
        return damaged(path, str(exc))
    if is_busy(exc):
        return locked_error(path, 0.0)
    if code == _CANTOPEN:
        return StoreError(
            path,
            f"cannot open it ({exc}); check that {path.parent} exists and is writable, "
            "or point SUBAGENT_HOME at a folder that is",
        )
    if code == _READONLY:
        return StoreError(
            path,
            f"it is read-only ({exc}); make {path.parent} writable, or point "
            "SUBAGENT_HOME at a folder that is",
        )
    return StoreError(path, f"SQLite failed: {str(exc)[:200]}")


def locked_error(path: Path, waited_s: float) -> StoreLockedError:
    holders = store_lockers(path)
    who = ", ".join(describe_pid(pid) for pid in holders) or "another process"
    waited = f" for {waited_s:.0f} s" if waited_s else ""
    return StoreLockedError(
        path,
        f"locked by {who}{waited}; wait for it to finish or stop it, then run "
        "again (subagent itself holds the lock only for a moment)",
    )


def store_lockers(path: Path) -> list[int]:
    """Pids of other processes holding a write lock on the store (the file or its WAL index)."""
    return lock_holders(_family(path))


def full_error(path: Path, needed: int) -> StoreFullError:
    """No space where `path` lives: how much there is, how much more is needed, what to do."""
    free = _free_bytes(path)
    folder = path.parent
    return StoreFullError(
        path,
        f"no space left on the disk holding {folder} ({_size(free)} free; about {_size(needed)} more is "
        f"needed); free some space there, or point SUBAGENT_HOME at another disk. Nothing stored was lost",
        needed=needed,
        free=free,
    )


def _free_bytes(path: Path) -> int:
    for folder in [path.parent, *path.parent.parents]:
        try:
            stats = os.statvfs(folder)
        except OSError:
            continue
        return stats.f_bavail * stats.f_frsize
    return 0


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} bytes"


def _family(path: Path) -> list[Path]:
    return [path, Path(f"{path}-wal"), Path(f"{path}-shm")]


def _marker(path: Path) -> Path:
    return Path(f"{path}.damaged")


def mark_damaged(path: Path, reason: str) -> None:
    """Remember that the store is damaged, for the next start to set it aside (best effort)."""
    try:
        _marker(path).write_text(reason)
    except OSError:
        pass


def damage_noted(path: Path) -> str | None:
    """The reason recorded by `mark_damaged`, if any."""
    try:
        return _marker(path).read_text() or "damaged"
    except OSError:
        return None


def set_aside(path: Path, reason: str) -> Path:
    """Move the damaged store (and its -wal, -shm) to `sessions.db.damaged-<time>`; returns the new path.

    Raises:
        StoreError: another process still has the store open (it is named), or the move failed.
    """
    users = lock_holders(_family(path), writers_only=False)
    if users:
        who = ", ".join(describe_pid(pid) for pid in users)
        raise StoreError(
            path,
            f"the file is damaged ({reason}) and {who} still has it open; stop it "
            "and run again: the damaged file is then moved aside (kept) and a new store "
            "started",
        )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    try:
        for source, suffix in zip(_family(path), ("", "-wal", "-shm"), strict=True):
            if source.exists():
                source.rename(Path(f"{target}{suffix}"))
    except OSError as exc:
        raise StoreError(
            path,
            f"the file is damaged ({reason}) and could not be moved aside: "
            f"{exc.strerror}; move it away by hand and run again",
        ) from exc
    _marker(path).unlink(missing_ok=True)
    log.warning(
        "session store %s was damaged (%s); moved it to %s (kept, nothing deleted) and started a "
        "new, empty store. The old sessions stay readable in the moved file with sqlite3.",
        path,
        reason,
        target,
    )
    return target
