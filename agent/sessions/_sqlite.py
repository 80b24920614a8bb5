"""The session store's SQLite file: opening it (moving a damaged one aside), transactions, and
every SQLite error turned into a `StoreError` that names the file and the remedy.

`SqliteSessionStore` builds on this; nothing here knows sessions. One connection serves all
threads behind a lock. A write lock held by another process is waited for (`LOCK_WAIT_S`), saying
who holds it once, then reported naming that process: never 30 s in silence. A store still open
when the process exits is closed by an exit handler (its WAL folded back into the file), also when
the CLI leaves with `os._exit` after running the exit handlers.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from agent import paths
from agent.errors import StoreError
from agent.sessions import _store_health as health
from agent.sessions._lock import describe_pid
from agent.sessions._schema import migrate

LOCK_WAIT_S = 10.0
"""How long a command waits for another process's write lock on the store before stopping with a
message naming it (it says who it waits for once SQLite's own `_BUSY_S` has passed)."""
_BUSY_S = 2.0
"""SQLite's own wait before a busy store is reported back to us."""

log = logging.getLogger(__name__)
_T = TypeVar("_T")
_open_connections: set[sqlite3.Connection] = set()
"""Connections not closed yet: a store dropped without `close()` leaves its connection open."""


@atexit.register
def _close_open_connections() -> None:
    """Close every store still open (committed data is safe either way; this folds the WAL back)."""
    for conn in list(_open_connections):
        with contextlib.suppress(sqlite3.Error):
            conn.close()


class SqliteFile:
    """`sessions.db`, open: `_transaction()` and `_query()` for the store built on it."""

    def __init__(self, path: Path | None = None) -> None:
        """Open (or create) the store; a damaged file is moved aside and a new one started.

        Raises:
            StoreError: the file cannot be opened or written (its message names it and says
                what to do); StoreLockedError and StoreFullError are the common cases.
        """
        self.path = path or paths.data_home() / "sessions.db"
        self.set_aside: Path | None = None
        """Where a damaged store was moved when this one was opened (None: it was healthy)."""
        self.durable = True
        """Each commit waits for the disk (`relax_commits` ends that)."""
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_error(self.path, exc) from exc
        if (noted := health.damage_noted(self.path)) is not None:
            self.set_aside = health.set_aside(self.path, noted)
        try:
            self._conn = self._connect()
        except sqlite3.DatabaseError as exc:
            if not health.is_damage(exc):
                raise health.translate(exc, self.path) from exc
            self.set_aside = health.set_aside(self.path, str(exc))
            self._conn = self._connect()
        _open_connections.add(self._conn)

    def _connect(self) -> sqlite3.Connection:
        """Connect, set the pragmas, migrate, and read one page of `sessions` (damage shows here)."""
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=_BUSY_S)
        try:
            self._retrying(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            conn.execute("PRAGMA synchronous = FULL")  # a committed message survives power loss too
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(f"PRAGMA busy_timeout = {int(_BUSY_S * 1000)}")
            with self._lock:
                self._retrying(lambda: migrate(conn))
            conn.execute("SELECT id FROM sessions LIMIT 1").fetchall()
        except BaseException:
            conn.close()
            raise
        return conn

    def relax_commits(self) -> None:
        """Commits stop waiting for the disk (`synchronous = NORMAL`, in WAL mode): a committed
        transaction still survives the process's crash (kill -9), and an OS crash or a power loss
        can take back only the last ones, never leaving the file damaged. For the commits of a
        session tree's children (docs/decisions.md, "Children's commits do not wait for the disk")."""
        with self._lock:
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self.durable = False

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            _open_connections.discard(self._conn)

    def _retrying(self, work: Callable[[], _T]) -> _T:
        """Run `work`; while another process holds the write lock, say who once and keep trying
        up to `LOCK_WAIT_S`, then raise StoreLockedError naming it. Other SQLite errors pass."""
        started = time.monotonic()
        warned = False
        while True:
            try:
                return work()
            except sqlite3.OperationalError as exc:
                if not health.is_busy(exc):
                    raise
                waited = time.monotonic() - started + _BUSY_S
                if waited >= LOCK_WAIT_S:
                    raise health.locked_error(self.path, waited) from exc
                if not warned:
                    warned = True
                    lockers = health.store_lockers(self.path)
                    who = ", ".join(describe_pid(p) for p in lockers) or "another process"
                    log.warning(
                        "session store %s is locked by %s; waiting up to %d s", self.path, who, LOCK_WAIT_S
                    )

    @contextmanager
    def _transaction(self, needed: int = health.DEFAULT_NEED) -> Iterator[sqlite3.Connection]:
        """One write transaction; SQLite's errors leave it as StoreErrors naming the file."""
        with self._lock:
            try:
                self._retrying(lambda: self._conn.execute("BEGIN IMMEDIATE"))
            except sqlite3.Error as exc:
                raise health.translate(exc, self.path, needed) from exc
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException as exc:
                if self._conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise health.translate(exc, self.path, needed) from exc
                raise

    @contextmanager
    def _decoding(self) -> Iterator[None]:
        """A stored row that does not parse (bytes damaged inside it) is damage, like SQLite's own."""
        try:
            yield
        except ValueError as exc:  # json and pydantic errors
            raise health.damaged(self.path, f"a stored row does not parse: {exc}") from exc

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._retrying(lambda: self._conn.execute(sql, args).fetchall())
            except sqlite3.Error as exc:
                raise health.translate(exc, self.path) from exc

    def make_dir(self, directory: Path) -> Path:
        """Create a folder beside the store (outputs); a full disk is a StoreFullError."""
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_error(directory, exc) from exc
        return directory


def need(body: str) -> int:
    """Bytes a write of `body` may take: the row in the WAL, later in the database, plus a few pages."""
    return 2 * len(body.encode()) + health.DEFAULT_NEED


def os_error(path: Path, exc: OSError) -> StoreError:
    """A file-system failure beside the store (its folder, the outputs dir) as a StoreError."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return health.full_error(path, health.DEFAULT_NEED)
    return StoreError(
        path,
        f"{exc.strerror}; check that {path.parent} is writable, or point SUBAGENT_HOME at a folder that is",
    )
