"""The session database schema and its migrations.

The schema version lives in `PRAGMA user_version`. `MIGRATIONS[i]` takes a database from version
`i` to `i + 1`; opening a store runs every step the file has not seen yet, each in one transaction,
so an old database upgrades in place and a new one is built by the same code path.
"""

from __future__ import annotations

import sqlite3

_V1 = """
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    parent_id TEXT,
    parent_tool_use_id TEXT,
    agent TEXT NOT NULL,
    model TEXT NOT NULL DEFAULT '',
    workspace TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'running',
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    usage TEXT NOT NULL DEFAULT '{}',
    cost_usd REAL NOT NULL DEFAULT 0,
    num_turns INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_by_workspace ON sessions (workspace, id);
CREATE TABLE messages (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
);
CREATE TABLE checkpoints (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    commit_sha TEXT NOT NULL,
    tool_use_id TEXT NOT NULL DEFAULT '',
    label TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    PRIMARY KEY (session_id, step)
);
"""

_V2 = """
CREATE TABLE tool_starts (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    tool_use_id TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (session_id, tool_use_id)
);
CREATE INDEX sessions_by_parent ON sessions (parent_id);
"""

_V3 = """
CREATE TABLE compactions (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    upto_seq INTEGER NOT NULL,
    messages TEXT NOT NULL,
    method TEXT NOT NULL,
    tokens_before INTEGER NOT NULL,
    tokens_after INTEGER NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX compactions_by_session ON compactions (session_id, upto_seq)
"""

_V4 = """
CREATE TABLE marks (
    workspace TEXT NOT NULL,
    commit_sha TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('end', 'undo')),
    session_id TEXT NOT NULL,
    step INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL
);
CREATE INDEX marks_by_workspace ON marks (workspace, created);
CREATE INDEX checkpoints_by_time ON checkpoints (created)
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3, _V4)
"""Step i takes the schema from version i to i + 1. Append new steps; never edit old ones."""

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring `conn` up to `target`, one transaction per step; returns the version reached.

    A database newer than this code is refused rather than guessed at.
    """
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    if current > SCHEMA_VERSION:
        from agent.errors import SessionError

        raise SessionError(
            f"the session database is at schema version {current}, newer than this subagent "
            f"understands ({SCHEMA_VERSION}); upgrade subagent"
        )
    for version in range(current, target):
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("PRAGMA user_version").fetchone()[0] > version:
                conn.execute("COMMIT")  # another connection ran this step since we looked
                continue
            # executescript would commit the open transaction first, so run statements one by one
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return max(int(current), target)
