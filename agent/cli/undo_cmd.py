"""`subagent undo`: put back the files a session changed, as they were before one of its steps.

Only the session's own changes are undone (its subagents' included): files another session or a
person changed since are left as they are, and listed. A file the session changed that another
session changed again afterwards is restored only after saying so and asking (`--yes` answers yes
to that too; without a terminal and without `--yes` nothing changes). A session that is still
running is not undone (its pid is named), and no run may change the workspace during an undo.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from agent.cli.app import app
from agent.errors import ConfigError, SubagentError
from agent.terminal.safe_text import for_terminal

if TYPE_CHECKING:
    from agent.sessions.base import CheckpointRecord, SessionRecord, SessionStore
    from agent.sessions.checkpoints import PlannedRestore, ShadowRepo

_VERBS = {"delete": "delete ", "restore": "restore", "revert": "revert "}


@dataclasses.dataclass(eq=False, repr=False)
class _Plan:
    """An undo to `target`: the files to put back, and those left alone with why."""

    target: CheckpointRecord
    restore: list[PlannedRestore]
    others: dict[str, list[str]]
    """Files other sessions changed since the target, with those sessions."""
    nobody: list[str]
    """Files changed since the target by no session (a person)."""


@app.command("undo")
def undo(
    session: str | None = typer.Option(
        None, "--session", help="Session id or prefix (default: the latest session in the workspace)."
    ),
    to: int | None = typer.Option(None, "--to", help="Restore the state from before this step."),
    yes: bool = typer.Option(
        False,
        "--yes",
        "-y",
        help="Do not ask (also when another session's later changes to the same files would be undone).",
    ),
    cwd: Path | None = typer.Option(None, "--cwd", help="Workspace (default: the current folder)."),
) -> None:
    """Undo a session's last step that changed files (or every step from --to on), after showing
    what changes; files other sessions or people changed are left as they are."""
    from agent.runtime.parts import opened_store
    from agent.sessions._lock import hold_workspace
    from agent.sessions.leftovers import lock_dir

    try:
        with opened_store() as store:
            record = _session(store, session, (cwd or Path.cwd()).resolve())
            _refuse_if_running(store, record)
            with hold_workspace(lock_dir(), Path(record.workspace), "subagent undo"):
                _undo(store, record, to, yes)
    except SubagentError as exc:
        typer.echo(f"error: {for_terminal(str(exc))}", err=True)
        raise typer.Exit(2 if isinstance(exc, ConfigError) else 1) from None


def _undo(store: SessionStore, record: SessionRecord, to: int | None, yes: bool) -> None:
    from agent.sessions.checkpoints import ShadowRepo
    from agent.sessions.undo_target import record_undo

    repo = ShadowRepo(Path(record.workspace))
    plan = _choose_checkpoint(store, repo, record, to)
    if plan is None:
        typer.echo("nothing to undo: the files this session changed are as they were before its steps")
        return
    target = plan.target
    label = target.label or target.commit[:12]
    heading = f"undo session {record.id} to before step {target.step} ({label}) in {repo.workspace}:"
    typer.echo(for_terminal(heading, name=True, one_line=True))
    _show_plan(plan)
    if not plan.restore:
        typer.echo("nothing to change")
        return
    overwritten = sorted({s for p in plan.restore for s in plan.others.get(p.path, [])})
    _confirm(yes, overwritten)
    result = repo.restore(target.commit, only={p.path for p in plan.restore})
    record_undo(store, repo, record.id, target.step)
    typer.echo(
        for_terminal(
            f"restored {len(result.changes)} file(s). The state before this undo is snapshot "
            f"{result.before[:12]} in the shadow repository {repo.git_dir}.",
            name=True,
        )
    )


def _session(store: SessionStore, session: str | None, workspace: Path) -> SessionRecord:
    record = store.get(session) if session else store.latest(workspace)
    if record is None:
        raise ConfigError(f"no session in {workspace}; pass --session ID (`subagent sessions list --all`)")
    return record


def _refuse_if_running(store: SessionStore, record: SessionRecord) -> None:
    """A live run would go on changing the files an undo puts back: refuse, naming its pid."""
    from agent.sessions._lock import session_holder
    from agent.sessions.leftovers import lock_dir

    for sid in sorted(store.session_tree(record.id)):
        pid = session_holder(lock_dir(), sid)
        if pid is not None:
            which = "it" if sid == record.id else f"its subagent session {sid}"
            raise SubagentError(
                f"session {record.id} is still running ({which}: pid {pid}); stop it first (Ctrl-C where "
                f"it runs, or `kill {pid}`) or wait for it to end, then undo"
            )


def _choose_checkpoint(
    store: SessionStore, repo: ShadowRepo, record: SessionRecord, to: int | None
) -> _Plan | None:
    """The checkpoint to go back to and what that changes (None when there is nothing to undo).

    The target is `choose_undo_target`'s (agent.sessions.undo_target, shared with chat's
    `/undo`); a step is worth undoing when this session's own files would change.
    """
    from agent.sessions.undo_target import choose_undo_target

    checkpoints = store.checkpoints(record.id)
    if not checkpoints:
        raise SubagentError(f"session {record.id} has no checkpoints: no step of it changed files")
    plans: dict[int, _Plan] = {}

    def changes_files(candidate: CheckpointRecord) -> bool:
        plans[candidate.step] = _plan(store, repo, record, candidate)
        return bool(plans[candidate.step].restore)

    target = choose_undo_target(checkpoints, store.marks(repo.workspace), record.id, to, changes_files)
    if target is None:
        return None
    return plans.get(target.step) or _plan(store, repo, record, target)


def _plan(store: SessionStore, repo: ShadowRepo, record: SessionRecord, target: CheckpointRecord) -> _Plan:
    from agent.sessions.ownership import owners_since, plan_owners

    full = repo.plan_restore(target.commit)
    now = repo.snapshot("undo: current state")
    owners = owners_since(store, repo, target.created, now)
    mine, others, nobody = plan_owners(store, record.id, owners, [p.path for p in full])
    return _Plan(target=target, restore=[p for p in full if p.path in mine], others=others, nobody=nobody)


def _show_plan(plan: _Plan) -> None:
    for item in plan.restore:
        later = plan.others.get(item.path)
        note = f"   (also changed later by session {', '.join(later)}: undone too)" if later else ""
        typer.echo(f"  {_VERBS[item.action]}  {for_terminal(item.path, name=True, one_line=True)}{note}")
    restored = {item.path for item in plan.restore}
    kept = [
        (path, f"changed by session {', '.join(who)}")
        for path, who in plan.others.items()
        if path not in restored
    ]
    kept += [(path, "changed outside any session") for path in plan.nobody]
    if kept:
        typer.echo("left as they are (not this session's changes):")
        for path, why in sorted(kept):
            typer.echo(f"  {for_terminal(path, name=True, one_line=True)}   ({why})")


def _confirm(yes: bool, overwritten: list[str]) -> None:
    question = "apply?"
    if overwritten:
        question = (
            f"this also undoes what session {', '.join(overwritten)} changed in those files "
            "afterwards; apply?"
        )
    if yes:
        if overwritten:
            typer.echo(f"--yes: also undoing session {', '.join(overwritten)}'s later changes to those files")
        return
    if not sys.stdin.isatty():
        typer.echo(
            f"error: not changing files without confirmation, and there is no terminal to ask on "
            f"({question}); run again with --yes to apply",
            err=True,
        )
        raise typer.Exit(2)
    if not typer.confirm(question, default=False):
        typer.echo("nothing changed")
        raise typer.Exit(1)
