"""The run's checkpoints: a snapshot of the workspace before each step that may change files,
recorded in the session store, and what the run changed (bash included) for its result.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from agent.runtime.parts import RuntimeParts, Snapshot
from agent.sessions.base import CheckpointRecord, MarkRecord, SessionStore

END_OF_RUN = "end of run"
"""The label of the snapshot a run takes as it ends (after its last step)."""


class Checkpoints:
    """Snapshots before each step that may change files; remembers the run's first one, so the
    run's result can list everything it changed (bash included)."""

    def __init__(self, parts: RuntimeParts, snapshot: Snapshot, cwd: Path, store: SessionStore,
                 session_id: str, last_step: int) -> None:  # fmt: skip
        self._parts, self._snapshot, self._cwd = parts, snapshot, cwd
        self._store, self._session_id, self._step = store, session_id, last_step
        self._first: str | None = None

    async def __call__(self, label: str, tool_use_id: str) -> None:
        self._step += 1
        sha = await self._snapshot(label)
        self._first = self._first or sha
        record = CheckpointRecord(
            session_id=self._session_id,
            step=self._step,
            commit=sha,
            tool_use_id=tool_use_id,
            label=label,
            created=datetime.now(UTC),
        )
        await asyncio.to_thread(self._store.record_checkpoint, record)

    async def files_changed(self) -> list[str]:
        """Absolute paths that differ from before the run's first change (none when none ran).

        The end snapshot is recorded as the run's `end` mark: what changes after it is not this
        run's (`subagent undo` tells sessions apart by these marks and the checkpoints)."""
        if self._first is None:
            return []
        end = await self._snapshot(END_OF_RUN)
        mark = MarkRecord(
            workspace=str(self._cwd),
            commit=end,
            kind="end",
            session_id=self._session_id,
            created=datetime.now(UTC),
        )
        await asyncio.to_thread(self._store.record_mark, mark)
        if self._parts.changed_files is None:
            return []
        return await self._parts.changed_files(self._cwd, self._first, end)


async def checkpointer(
    parts: RuntimeParts, cwd: Path, store: SessionStore, session_id: str
) -> Checkpoints | None:
    """The session's checkpoints (None when the parts take no snapshots); a resumed session
    numbers its steps on from its last checkpoint (steps are unique per session)."""
    snapshot = parts.make_snapshot(cwd)
    if snapshot is None:
        return None
    records = await asyncio.to_thread(store.checkpoints, session_id)
    last_step = max((r.step for r in records), default=0)
    return Checkpoints(parts, snapshot, cwd, store, session_id, last_step)
