"""The session store's checkpoints and marks: the rows `subagent undo` and chat's `/undo` read
to find a step and tell whose changes are whose. `SqliteSessionStore` (agent.sessions.store) is
built on it.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from pathlib import Path
from typing import Any

from agent.sessions._sqlite import SqliteFile
from agent.sessions.base import CheckpointRecord, MarkRecord


def workspace_key(workspace: Path) -> str:
    return str(Path(workspace).expanduser().resolve())


class CheckpointRows(SqliteFile):
    """The `checkpoints` and `marks` tables of `sessions.db`."""

    # --- checkpoints ---------------------------------------------------------------------------

    def record_checkpoint(self, record: CheckpointRecord) -> None:
        with self._transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO checkpoints "
                "(session_id, step, commit_sha, tool_use_id, label, created) VALUES (?,?,?,?,?,?)",
                (
                    record.session_id,
                    record.step,
                    record.commit,
                    record.tool_use_id,
                    record.label,
                    record.created.isoformat(),
                ),
            )

    def checkpoints(self, session_id: str) -> builtins.list[CheckpointRecord]:
        rows = self._query(
            "SELECT session_id, step, commit_sha, tool_use_id, label, created FROM checkpoints "
            "WHERE session_id = ? ORDER BY step",
            (session_id,),
        )
        return [_checkpoint(row) for row in rows]

    # --- who changed the workspace when (undo's ownership) ---------------------------------------

    def record_mark(self, record: MarkRecord) -> None:
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO marks (workspace, commit_sha, kind, session_id, step, created) "
                "VALUES (?,?,?,?,?,?)",
                (
                    workspace_key(Path(record.workspace)),
                    record.commit,
                    record.kind,
                    record.session_id,
                    record.step,
                    record.created.isoformat(),
                ),
            )

    def marks(self, workspace: Path) -> builtins.list[MarkRecord]:
        """The workspace's marks, oldest first."""
        rows = self._query(
            "SELECT workspace, commit_sha, kind, session_id, step, created FROM marks WHERE workspace = ?",
            (workspace_key(workspace),),
        )
        marks = [
            MarkRecord(
                workspace=ws,
                commit=sha,
                kind=kind,
                session_id=sid,
                step=step,
                created=datetime.fromisoformat(created),
            )
            for ws, sha, kind, sid, step, created in rows
        ]
        return sorted(marks, key=lambda m: m.created)

    def workspace_checkpoints(self, workspace: Path) -> builtins.list[CheckpointRecord]:
        """Every checkpoint of every session that worked in `workspace`, oldest first."""
        rows = self._query(
            "SELECT c.session_id, c.step, c.commit_sha, c.tool_use_id, c.label, c.created FROM checkpoints c "
            "JOIN sessions s ON s.id = c.session_id WHERE s.workspace = ? ORDER BY c.session_id, c.step",
            (workspace_key(workspace),),
        )
        records = [_checkpoint(row) for row in rows]
        return sorted(records, key=lambda c: c.created)


def _checkpoint(row: tuple[Any, ...]) -> CheckpointRecord:
    """A `checkpoints` row (session_id, step, commit_sha, tool_use_id, label, created) as a record."""
    sid, step, sha, tid, label, created = row
    return CheckpointRecord(
        session_id=sid,
        step=step,
        commit=sha,
        tool_use_id=tid,
        label=label,
        created=datetime.fromisoformat(created),
    )
