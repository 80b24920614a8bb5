"""`subagent undo`: put the workspace back as it was before a step of a session."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from agent.cli.main import app
from agent.errors import ConfigError, HostGitError, SubagentError
from agent.terminal.safe_text import for_terminal

if TYPE_CHECKING:
    from agent.sessions.base import CheckpointRecord
    from agent.sessions.checkpoints import PlannedRestore, ShadowRepo

_VERBS = {"delete": "delete ", "restore": "restore", "revert": "revert "}


@app.command("undo")
def undo(
    session: str | None = typer.Option(None, "--session", help="Session id or prefix (default: the latest "
                                       "session in the workspace)."),
    to: int | None = typer.Option(None, "--to", help="Restore the state from before this step."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    cwd: Path | None = typer.Option(None, "--cwd", help="Workspace (default: the current folder)."),
) -> None:
    """Undo the last step that changed files (or every step from --to on), after showing what changes."""
    try:
        repo, target = _choose_checkpoint(session, to, (cwd or Path.cwd()).resolve())
        if target is None:
            typer.echo("nothing to undo: the workspace already equals every checkpoint of this session")
            return
        plan = repo.plan_restore(target.commit)
    except HostGitError as exc:
        raise _git_failed(exc) from None
    except SubagentError as exc:
        typer.echo(f"error: {for_terminal(str(exc))}", err=True)
        raise typer.Exit(2 if isinstance(exc, ConfigError) else 1) from None
    label = target.label or target.commit[:12]
    heading = f"undo to before step {target.step} ({label}) in {repo.workspace}:"
    typer.echo(for_terminal(heading, name=True, one_line=True))
    _show_plan(plan)
    if not plan:
        typer.echo("nothing to change")
        return
    _confirm(yes)
    try:
        result = repo.restore(target.commit)
    except HostGitError as exc:
        raise _git_failed(exc) from None
    typer.echo(for_terminal(f"restored {len(result.changes)} file(s). The state before this undo is snapshot "
                            f"{result.before[:12]} in the shadow repository {repo.git_dir}.", name=True))


def _choose_checkpoint(
    session: str | None, to: int | None, workspace: Path
) -> tuple[ShadowRepo, CheckpointRecord | None]:
    """The session's shadow repo and the checkpoint to restore (None when there is nothing to undo)."""
    from agent.sessions.checkpoints import ShadowRepo
    from agent.sessions.store import SqliteSessionStore

    store = SqliteSessionStore()
    record = store.get(session) if session else store.latest(workspace)
    if record is None:
        raise ConfigError(f"no session in {workspace}; pass --session ID (`subagent sessions list --all`)")
    checkpoints = store.checkpoints(record.id)
    if not checkpoints:
        raise SubagentError(f"session {record.id} has no checkpoints: no step of it changed files")
    repo = ShadowRepo(Path(record.workspace))
    if to is not None:
        chosen = [c for c in checkpoints if c.step == to]
        if not chosen:
            steps = ", ".join(str(c.step) for c in checkpoints)
            raise ConfigError(f"session {record.id} has no checkpoint for step {to}; steps: {steps}")
        return repo, chosen[0]
    now = repo.tree(repo.snapshot("undo: current state"))
    trees = [repo.tree(c.commit) for c in checkpoints]
    if now not in trees:
        return repo, checkpoints[-1]
    # the workspace sits at a checkpoint (an earlier undo): go to the newest one before it that differs
    at = max(i for i, tree in enumerate(trees) if tree == now)
    earlier = [c for c, tree in zip(checkpoints[:at], trees[:at], strict=True) if tree != now]
    return repo, (earlier[-1] if earlier else None)


def _git_failed(exc: HostGitError) -> typer.Exit:
    detail = str(exc).strip()
    typer.echo(f"error: git failed on the checkpoint repository (was the data dir moved or pruned?): "
               f"{for_terminal(detail)}", err=True)
    return typer.Exit(1)


def _show_plan(plan: list[PlannedRestore]) -> None:
    for item in plan:
        typer.echo(f"  {_VERBS[item.action]}  {for_terminal(item.path, name=True, one_line=True)}")


def _confirm(yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        typer.echo("error: not changing files without confirmation, and there is no terminal to ask on; "
                   "run again with --yes to apply", err=True)
        raise typer.Exit(2)
    if not typer.confirm("apply?", default=False):
        typer.echo("nothing changed")
        raise typer.Exit(1)
