"""`/undo` and `/diff`: the session's checkpoints in the shadow repository (agent.sessions).

Synchronous (git subprocesses and SQLite); the chat calls these through `asyncio.to_thread`.
Each returns the lines to print, so the slash commands stay free of git details.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from agent.sessions.base import CheckpointRecord

if TYPE_CHECKING:
    from agent.sessions.checkpoints import RestoreResult


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class UndoOutcome:
    """What an undo did: lines for the person, and a note for the model."""

    lines: list[str]
    note_for_model: str = ""
    """Told to the model with the next prompt, so it does not assume its changes are still there."""


def _checkpoints(session_id: str) -> list[CheckpointRecord]:
    from agent.runtime.parts import opened_store

    with opened_store() as store:
        return list(store.checkpoints(session_id))


def list_checkpoints(session_id: str) -> list[str]:
    """One line per checkpoint: `step N  label`."""
    rows = _checkpoints(session_id)
    if not rows:
        return ["no checkpoints yet: no step of this session changed files"]
    return [f"step {c.step:>3}  {c.label}" for c in rows]


def undo(session_id: str, workspace: Path, step: int | None) -> UndoOutcome:
    """Restore the workspace to before `step`, or to the target `subagent undo` would choose.

    Each plain `/undo` goes one step further back (agent.sessions.undo_target); a step whose
    files are already as they were is skipped.
    """
    from agent.runtime.parts import opened_store
    from agent.sessions.checkpoints import ShadowRepo
    from agent.sessions.undo_target import choose_undo_target, record_undo

    with opened_store() as store:
        checkpoints = store.checkpoints(session_id)
        if not checkpoints:
            return UndoOutcome(["nothing to undo: no step of this session changed files"])
        repo = ShadowRepo(workspace)
        now = repo.tree(repo.snapshot("undo: current state"))
        marks = store.marks(repo.workspace)
        target = choose_undo_target(
            checkpoints, marks, session_id, step, lambda c: repo.tree(c.commit) != now
        )
        if target is None:
            return UndoOutcome(["nothing to undo: every step of this session is undone already"])
        result = repo.restore(target.commit)
        record_undo(store, repo, session_id, target.step)
    return _undo_outcome(target, result, repo.git_dir)


def _undo_outcome(target: CheckpointRecord, result: RestoreResult, git_dir: Path) -> UndoOutcome:
    label = target.label or target.commit[:12]
    lines = [f"undid step {target.step} and later ({label}):"]
    lines += [f"  {item.action:<7} {item.path}" for item in result.changes] or ["  no file changed"]
    lines.append(f"(the state before this undo is snapshot {result.before[:12]} in {git_dir})")
    changed = ", ".join(item.path for item in result.changes) or "nothing"
    note = (
        f"[The user undid your file changes from step {target.step} on ({label}); "
        f"files restored: {changed}. Read files again before relying on them.]"
    )
    return UndoOutcome(lines, note)


def session_diff(session_id: str, workspace: Path) -> str:
    """Unified diff from before the session's first change to the workspace now ("" if none)."""
    from agent.sessions.checkpoints import ShadowRepo

    checkpoints = _checkpoints(session_id)
    if not checkpoints:
        return ""
    return ShadowRepo(workspace).diff(checkpoints[0].commit)
