"""The SQLite session store: sessions, their messages, compactions, checkpoints and tool-start markers.

One file (`sessions.db` in the data dir) in WAL mode, so readers (`subagent sessions list`) never
block a running agent and a committed message survives `kill -9` of the writer. Every mutation is
its own transaction: a message is either wholly in the database or not at all. One connection
serves all threads behind a lock; callers on the event loop use `asyncio.to_thread`.
"""

from __future__ import annotations

import builtins
import json
import secrets
import sqlite3
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.errors import SessionError, UnknownSessionError
from agent.events import Usage
from agent.sessions._lock import hold_session_lock, is_held
from agent.sessions._sqlite import need
from agent.sessions.base import (
    CompactionRecord,
    ResumeHistory,
    SessionRecord,
    SessionStatus,
    StoredMessage,
)
from agent.sessions.checkpoint_rows import CheckpointRows, workspace_key
from agent.transcript import Block, Message, blocks_to_wire, messages_to_wire

_SESSION_COLUMNS = (
    "id, parent_id, parent_tool_use_id, agent, model, workspace, title, status, created, updated, "
    "usage, cost_usd, num_turns"
)

_COMPACTION_COLUMNS = "upto_seq, messages, method, tokens_before, tokens_after, created"


def new_session_id() -> str:
    """`ses_` + microseconds since the epoch (fixed-width hex, so ids sort by creation) + noise."""
    return f"ses_{time.time_ns() // 1000:014x}{secrets.token_hex(3)}"


def _now() -> str:
    return datetime.now(UTC).isoformat()


class SqliteSessionStore(CheckpointRows):
    """The `SessionStore` on SQLite. Beyond the protocol it adds `mark_tool_started`,
    `started_tools`, `close` and `set_aside` (where a damaged store was moved on opening)."""

    # --- sessions ------------------------------------------------------------------------------

    def create(
        self,
        *,
        agent: str,
        workspace: Path,
        model: str = "",
        parent_id: str | None = None,
        parent_tool_use_id: str | None = None,
        title: str = "",
        session_id: str | None = None,
    ) -> SessionRecord:
        sid = session_id or new_session_id()
        now = _now()
        with self._transaction() as conn:
            try:
                conn.execute(
                    f"INSERT INTO sessions ({_SESSION_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        sid,
                        parent_id,
                        parent_tool_use_id,
                        agent,
                        model,
                        workspace_key(workspace),
                        title,
                        "running",
                        now,
                        now,
                        Usage().model_dump_json(),
                        0.0,
                        0,
                    ),
                )
            except sqlite3.IntegrityError as exc:
                raise SessionError(f"cannot create session {sid}: {exc}") from exc
        return self.get(sid)

    def get(self, session_id: str) -> SessionRecord:
        rows = self._query(f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE id = ?", (session_id,))
        if not rows:
            pattern = session_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            rows = self._query(
                f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE id LIKE ? ESCAPE '\\' LIMIT 2", (pattern,)
            )
        if not rows:
            raise UnknownSessionError(f"no session {session_id!r}; `subagent sessions list --all` shows them")
        if len(rows) > 1:
            raise UnknownSessionError(f"session id prefix {session_id!r} is ambiguous; give more characters")
        with self._decoding():
            return _session_from_row(rows[0])

    def list(self, workspace: Path | None = None, limit: int = 50) -> builtins.list[SessionRecord]:
        """Newest first; a `running` session no live process holds (killed) reads `interrupted`."""
        if workspace is None:
            rows = self._query(f"SELECT {_SESSION_COLUMNS} FROM sessions ORDER BY id DESC LIMIT ?", (limit,))
        else:
            rows = self._query(
                f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE workspace = ? ORDER BY id DESC LIMIT ?",
                (workspace_key(workspace), limit),
            )
        with self._decoding():
            return [self._live(_session_from_row(row)) for row in rows]

    def latest(self, workspace: Path) -> SessionRecord | None:
        """The newest top-level session in `workspace` (subagent children are not resumed alone)."""
        rows = self._query(
            f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE workspace = ? AND parent_id IS NULL "
            "ORDER BY id DESC LIMIT 1",
            (workspace_key(workspace),),
        )
        with self._decoding():
            return _session_from_row(rows[0]) if rows else None

    def update(
        self,
        session_id: str,
        *,
        status: SessionStatus | None = None,
        usage: Usage | None = None,
        cost_usd: float | None = None,
        num_turns: int | None = None,
        title: str | None = None,
        model: str | None = None,
    ) -> None:
        changes: dict[str, Any] = {
            "status": status,
            "cost_usd": cost_usd,
            "num_turns": num_turns,
            "title": title,
            "model": model,
            "usage": usage.model_dump_json() if usage is not None else None,
        }
        changes = {key: value for key, value in changes.items() if value is not None}
        changes["updated"] = _now()
        assignments = ", ".join(f"{key} = ?" for key in changes)
        with self._transaction() as conn:
            cursor = conn.execute(
                f"UPDATE sessions SET {assignments} WHERE id = ?", (*changes.values(), session_id)
            )
            if cursor.rowcount == 0:
                raise SessionError(f"no session {session_id!r} to update")

    def fork(self, session_id: str, new_id: str | None = None) -> SessionRecord:
        source = self.get(session_id)
        child = new_id or new_session_id()
        now = _now()
        with self._transaction() as conn:
            conn.execute(
                f"INSERT INTO sessions ({_SESSION_COLUMNS}) SELECT ?, parent_id, parent_tool_use_id, agent, "
                "model, workspace, title, 'running', ?, ?, usage, cost_usd, num_turns FROM sessions "
                "WHERE id = ?",
                (child, now, now, source.id),
            )
            conn.execute(
                "INSERT INTO messages (session_id, seq, role, content, created) "
                "SELECT ?, seq, role, content, created FROM messages WHERE session_id = ?",
                (child, source.id),
            )
            conn.execute(
                f"INSERT INTO compactions (session_id, {_COMPACTION_COLUMNS}) "
                f"SELECT ?, {_COMPACTION_COLUMNS} FROM compactions WHERE session_id = ? ORDER BY rowid",
                (child, source.id),
            )
        return self.get(child)

    # --- messages ------------------------------------------------------------------------------

    def append_message(
        self, session_id: str, role: str, content: Sequence[Block], *, merge: bool = False
    ) -> int:
        """Append one complete message in its own transaction; returns its seq.

        `merge=True`: a user message that follows a stored user message joins it (its blocks after
        theirs), as the loop sends them, so the stored transcript is the one sent. Not when the
        latest compaction covers the stored message (a resumed run starts from that compaction and
        would miss the joined blocks): then it is stored apart, and resume merges the two the same way.
        """
        if role not in ("user", "assistant"):
            raise SessionError(f"message role must be 'user' or 'assistant', not {role!r}")
        wire = blocks_to_wire(content)
        body = json.dumps(wire, ensure_ascii=False)
        with self._transaction(need(body)) as conn:
            if conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone() is None:
                raise SessionError(f"no session {session_id!r} to append to")
            now = _now()
            joined = self._join_last(conn, session_id, wire) if merge and role == "user" else None
            if joined is not None:
                seq = joined
            else:
                seq = conn.execute(
                    "SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE session_id = ?", (session_id,)
                ).fetchone()[0]
                conn.execute(
                    "INSERT INTO messages (session_id, seq, role, content, created) VALUES (?,?,?,?,?)",
                    (session_id, seq, role, body, now),
                )
            conn.execute("UPDATE sessions SET updated = ? WHERE id = ?", (now, session_id))
        return int(seq)

    def _join_last(
        self, conn: sqlite3.Connection, session_id: str, content: builtins.list[dict[str, Any]]
    ) -> int | None:
        """Add `content` to the last stored message when it is a user message no compaction covers;
        returns its seq, or None when it must be stored apart."""
        last = conn.execute(
            "SELECT seq, role, content FROM messages WHERE session_id = ? ORDER BY seq DESC LIMIT 1",
            (session_id,),
        ).fetchone()
        if last is None or last[1] != "user":
            return None
        covered = conn.execute(
            "SELECT upto_seq FROM compactions WHERE session_id = ? ORDER BY rowid DESC LIMIT 1", (session_id,)
        ).fetchone()
        if covered is not None and covered[0] >= last[0]:
            return None
        with self._decoding():
            joined = json.dumps([*json.loads(last[2]), *content], ensure_ascii=False)
        conn.execute(
            "UPDATE messages SET content = ? WHERE session_id = ? AND seq = ?", (joined, session_id, last[0])
        )
        return int(last[0])

    def messages(self, session_id: str) -> builtins.list[StoredMessage]:
        rows = self._query(
            "SELECT session_id, seq, role, content, created FROM messages WHERE session_id = ? ORDER BY seq",
            (session_id,),
        )
        with self._decoding():
            return [
                StoredMessage(
                    session_id=sid,
                    seq=seq,
                    role=role,
                    content=json.loads(content),
                    created=datetime.fromisoformat(created),
                )
                for sid, seq, role, content, created in rows
            ]

    # --- compactions (what a resumed run starts from) -----------------------------------------

    def record_compaction(
        self,
        session_id: str,
        upto_seq: int,
        messages: Sequence[Message],
        method: str,
        tokens_before: int,
        tokens_after: int,
    ) -> None:
        body = json.dumps(messages_to_wire(messages), ensure_ascii=False)
        with self._transaction(need(body)) as conn:
            conn.execute(
                f"INSERT INTO compactions (session_id, {_COMPACTION_COLUMNS}) VALUES (?,?,?,?,?,?,?)",
                (session_id, upto_seq, body, method, tokens_before, tokens_after, _now()),
            )

    def compactions(self, session_id: str) -> builtins.list[CompactionRecord]:
        rows = self._query(
            f"SELECT {_COMPACTION_COLUMNS} FROM compactions WHERE session_id = ? ORDER BY rowid",
            (session_id,),
        )
        with self._decoding():
            return [_compaction_from_row(session_id, row) for row in rows]

    def messages_for_resume(self, session_id: str) -> ResumeHistory:
        """One read transaction, so a compaction and the messages after it are from the same moment."""
        with self._transaction() as conn:
            latest = conn.execute(
                f"SELECT {_COMPACTION_COLUMNS} FROM compactions WHERE session_id = ? "
                "ORDER BY rowid DESC LIMIT 1",
                (session_id,),
            ).fetchone()
            upto = latest[0] if latest else 0
            rows = conn.execute(
                "SELECT seq, role, content FROM messages WHERE session_id = ? AND seq > ? ORDER BY seq",
                (session_id, upto),
            ).fetchall()
            last = conn.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM messages WHERE session_id = ?", (session_id,)
            ).fetchone()[0]
        with self._decoding():
            head = _compaction_from_row(session_id, latest).messages if latest else []
            tail = [Message.parse({"role": role, "content": json.loads(body)}) for _, role, body in rows]
        return ResumeHistory(messages=[*head, *tail], last_seq=int(last), compacted_upto=int(upto))

    # --- tool-start markers (for transcript repair after a crash) -------------------------------

    def mark_tool_started(self, session_id: str, tool_use_id: str) -> None:
        """Record that a tool call began executing, before it runs; repair tells the model so."""
        with self._transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO tool_starts (session_id, tool_use_id, created) VALUES (?,?,?)",
                (session_id, tool_use_id, _now()),
            )

    def started_tools(self, session_id: str) -> set[str]:
        rows = self._query("SELECT tool_use_id FROM tool_starts WHERE session_id = ?", (session_id,))
        return {row[0] for row in rows}

    def session_tree(self, session_id: str) -> set[str]:
        """The session and every subagent session below it."""
        rows = self._query(
            "WITH RECURSIVE tree(id) AS (SELECT ? UNION SELECT s.id FROM sessions s JOIN tree t "
            "ON s.parent_id = t.id) SELECT id FROM tree",
            (session_id,),
        )
        return {row[0] for row in rows}

    # --- process-level resources ---------------------------------------------------------------

    def lock(self, session_id: str) -> AbstractContextManager[None]:
        return hold_session_lock(self.path.parent / "locks", session_id)

    def _live(self, record: SessionRecord) -> SessionRecord:
        """A `running` session that no live process holds was killed: it reads `interrupted`."""
        if record.status == "running" and not is_held(self.path.parent / "locks", record.id):
            return record.model_copy(update={"status": "interrupted"})
        return record

    def output_dir(self, session_id: str) -> Path:
        """`outputs/<id>/` beside the database; created on first use."""
        return self.make_dir(self.path.parent / "outputs" / session_id)


def _compaction_from_row(session_id: str, row: tuple[Any, ...]) -> CompactionRecord:
    upto_seq, messages, method, tokens_before, tokens_after, created = row
    return CompactionRecord(
        session_id=session_id,
        upto_seq=upto_seq,
        messages=json.loads(messages),
        method=method,
        tokens_before=tokens_before,
        tokens_after=tokens_after,
        created=datetime.fromisoformat(created),
    )


def _session_from_row(row: tuple[Any, ...]) -> SessionRecord:
    (
        sid,
        parent_id,
        parent_tool_use_id,
        agent,
        model,
        workspace,
        title,
        status,
        created,
        updated,
        usage,
        cost_usd,
        num_turns,
    ) = row
    return SessionRecord(
        id=sid,
        parent_id=parent_id,
        parent_tool_use_id=parent_tool_use_id,
        agent=agent,
        model=model,
        workspace=workspace,
        title=title,
        status=status,
        created=datetime.fromisoformat(created),
        updated=datetime.fromisoformat(updated),
        usage=Usage.model_validate_json(usage),
        cost_usd=cost_usd,
        num_turns=num_turns,
    )
