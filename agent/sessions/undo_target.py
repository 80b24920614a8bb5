"""Which checkpoint an undo goes back to: one rule for `subagent undo` and chat's `/undo`.

An undo records a mark (`kind="undo"`, the step it went back to). The next plain undo goes
further back from the oldest such mark since the session's last checkpoint, so undoing again
never returns to a state an earlier undo left (picking "the newest checkpoint that differs from
now" did exactly that on the third use: it redid). A checkpoint taken after an undo (the session
went on) starts the count again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from agent.errors import ConfigError
from agent.sessions.base import CheckpointRecord, MarkRecord

if TYPE_CHECKING:
    from agent.sessions.base import SessionStore
    from agent.sessions.checkpoints import ShadowRepo


def choose_undo_target(
    checkpoints: Sequence[CheckpointRecord],
    marks: Sequence[MarkRecord],
    session_id: str,
    to: int | None,
    changes_files: Callable[[CheckpointRecord], bool],
) -> CheckpointRecord | None:
    """The checkpoint to restore, or None when a plain undo has nothing left to undo.

    Args:
        checkpoints: the session's checkpoints, oldest first.
        marks: the workspace's marks (any session, any kind; the others are ignored).
        session_id: whose work is undone.
        to: the step asked for (`--to`, `/undo STEP`); None: the rule above.
        changes_files: whether restoring a checkpoint would change a file now; a step whose
            files are already as they were is skipped.

    Raises:
        ConfigError: `to` names a step without a checkpoint (the existing steps are listed).
    """
    if to is not None:
        chosen = [c for c in checkpoints if c.step == to]
        if not chosen:
            steps = ", ".join(str(c.step) for c in checkpoints) or "none"
            raise ConfigError(f"session {session_id} has no checkpoint for step {to}; steps: {steps}")
        return chosen[0]
    if not checkpoints:
        return None
    last = checkpoints[-1].created
    undone = [m.step for m in marks if m.kind == "undo" and m.session_id == session_id and m.created > last]
    limit = min(undone, default=None)
    for candidate in reversed(checkpoints):
        if limit is not None and candidate.step >= limit:
            continue
        if changes_files(candidate):
            return candidate
    return None


def record_undo(store: SessionStore, repo: ShadowRepo, session_id: str, step: int) -> None:
    """Mark that `session_id`'s work was undone to before `step`, for the next undo to go on from."""
    store.record_mark(
        MarkRecord(
            workspace=str(repo.workspace),
            commit=repo.snapshot("after undo"),
            kind="undo",
            session_id=session_id,
            step=step,
            created=datetime.now(UTC),
        )
    )
