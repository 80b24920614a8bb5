"""`subagent sessions list | show | export`: look at what past runs did.

Titles, transcripts and file names were written by a model or a repository: the text views show
them through `for_terminal`; `--json` and `export` keep them exact.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from agent.cli.app import app
from agent.errors import ConfigError, SubagentError
from agent.terminal.safe_text import for_terminal

if TYPE_CHECKING:
    from agent.sessions.base import CheckpointRecord, MarkRecord

sessions_app = typer.Typer(
    name="sessions", help="List, show and export stored sessions.", no_args_is_help=True
)
app.add_typer(sessions_app)


def _fail(exc: SubagentError) -> typer.Exit:
    typer.echo(f"error: {for_terminal(str(exc))}", err=True)
    return typer.Exit(2 if isinstance(exc, ConfigError) else 1)  # an unknown id is a usage error


@contextmanager
def _reported() -> Iterator[None]:
    """The runtime's errors (an unknown id, a damaged, locked or full store) as one line and an
    exit code, never a traceback."""
    try:
        yield
    except SubagentError as exc:
        raise _fail(exc) from None


@sessions_app.command("list")
def list_sessions(
    as_json: bool = typer.Option(False, "--json", help="One JSON array of session records."),
    cwd: Path | None = typer.Option(None, "--cwd", help="Workspace to list (default: the current folder)."),
    all_workspaces: bool = typer.Option(False, "--all", help="Sessions of every workspace."),
    limit: int = typer.Option(50, "--limit", help="At most this many, newest first."),
) -> None:
    """List sessions of this workspace, newest first."""
    from agent.runtime.parts import opened_store

    workspace = None if all_workspaces else (cwd or Path.cwd()).resolve()
    with _reported(), opened_store() as store:
        records = store.list(workspace, limit=limit)
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in records], indent=2))
        return
    if not records:
        where = "anywhere" if workspace is None else f"in {workspace}"
        typer.echo(f"no sessions {where}" + ("" if workspace is None else " (--all lists every workspace)"))
        return
    for r in records:
        child = f" child of {r.parent_id}" if r.parent_id else ""
        title = f"  {r.title}" if r.title else ""
        where = f"  {r.workspace}" if workspace is None else ""
        line = (
            f"{r.id}  {r.updated:%Y-%m-%d %H:%M}  {r.status:<11} {r.agent}  "
            f"{r.num_turns} turns{child}{title}{where}"
        )
        typer.echo(for_terminal(line, one_line=True))


@sessions_app.command("show")
def show_session(
    session_id: str = typer.Argument(..., help="Session id or a unique prefix."),
    as_json: bool = typer.Option(
        False, "--json", help="Session, messages, compactions and checkpoints as JSON."
    ),
) -> None:
    """Show a session's whole transcript, where it was compacted, and its checkpoints with the
    files each step changed."""
    from agent.cli._transcript import render_session
    from agent.runtime.parts import opened_store

    with _reported(), opened_store() as store:
        session = store.get(session_id)
        messages = store.messages(session.id)
        compactions = store.compactions(session.id)
        marks = store.marks(Path(session.workspace))
        ends = [m for m in marks if m.kind == "end" and m.session_id == session.id]
        steps = _checkpoint_files(session.workspace, store.checkpoints(session.id), ends)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "session": session.model_dump(mode="json"),
                    "messages": [m.model_dump(mode="json") for m in messages],
                    "compactions": [c.model_dump(mode="json") for c in compactions],
                    "checkpoints": [{**c.model_dump(mode="json"), "files": files} for c, files in steps],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    typer.echo(for_terminal(render_session(session, messages, steps, compactions)))


def _checkpoint_files(
    workspace: str, records: list[CheckpointRecord], ends: list[MarkRecord]
) -> list[tuple[CheckpointRecord, list[str]]]:
    """Each checkpoint with the files its step changed: up to the session's next checkpoint or the
    end of that run (`ends`), whichever is first; the last step of a run still going (or killed)
    up to now."""
    if not records:
        return []
    from agent.errors import HostGitError
    from agent.sessions.checkpoints import ShadowRepo

    try:
        repo = ShadowRepo(Path(workspace))
        now = repo.snapshot("sessions show") if Path(workspace).is_dir() else records[-1].commit
        nexts = []
        for index, record in enumerate(records):
            following = records[index + 1] if index + 1 < len(records) else None
            end = next(
                (
                    m
                    for m in ends
                    if m.created > record.created and (following is None or m.created <= following.created)
                ),
                None,
            )
            nexts.append(end.commit if end else following.commit if following else now)
        return [
            (record, [f"{c.change} {c.path}" for c in repo.changed_files(record.commit, after)])
            for record, after in zip(records, nexts, strict=True)
        ]
    except (OSError, HostGitError) as exc:  # a missing or pruned shadow repo must not hide the rest
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return [(record, [f"(changed files unavailable: {first_line})"]) for record in records]


@sessions_app.command("export")
def export_session(session_id: str = typer.Argument(..., help="Session id or a unique prefix.")) -> None:
    """Print the session's messages as JSON lines, one message per line, oldest first.

    Each compaction is a line `{"compaction": {...}}` right after the last message it covers
    (before the first, when it covers none); message lines are unchanged.
    """
    from agent.runtime.parts import opened_store

    with _reported(), opened_store() as store:
        session = store.get(session_id)
        pending = store.compactions(session.id)
        stored = store.messages(session.id)
    for message in stored:
        for record in [c for c in pending if c.upto_seq < message.seq]:
            typer.echo(json.dumps({"compaction": record.model_dump(mode="json")}, ensure_ascii=False))
        pending = [c for c in pending if c.upto_seq >= message.seq]
        typer.echo(message.model_dump_json())
    for record in pending:
        typer.echo(json.dumps({"compaction": record.model_dump(mode="json")}, ensure_ascii=False))
