"""`subagent chat`: an interactive session at the terminal (see docs/chat.md)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import typer

from agent import DEFAULT_AGENT
from agent.cli._options import (
    PERMISSION_MODE_HELP,
    TRUST_HELP,
    api_key_error,
    own_mount_namespace,
    permission_mode_error,
)
from agent.cli.app import app
from agent.errors import ConfigError, SubagentError
from agent.terminal.safe_text import for_terminal


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {for_terminal(message)}", err=True)
    return typer.Exit(code)


def _session_to_resume(resume: str | None, continue_latest: bool, cwd: Path) -> tuple[str | None, str | None]:
    """(session id, its agent) for --resume/--continue; (None, None) for a new session."""
    if not (resume or continue_latest):
        return None, None
    from agent.runtime.parts import opened_store

    with opened_store() as store:
        record = store.get(resume) if resume else store.latest(cwd)
    if record is None:
        raise ConfigError(f"no session to continue in {cwd}; start one with `subagent chat`")
    return record.id, record.agent


@app.command("chat")
def chat_command(
    agent: str | None = typer.Option(
        None, "--agent", "-a", help="The agent (default: the resumed session's, else orchestrator)."
    ),
    cwd: Path = typer.Option(Path("."), "--cwd", help="The workspace.", file_okay=False),
    model: str | None = typer.Option(None, "--model", "-m", help="Model id or alias (sonnet, opus, haiku)."),
    resume: str | None = typer.Option(None, "--resume", "-r", help="Resume this session id."),
    continue_latest: bool = typer.Option(False, "--continue", "-c", help="Continue the latest session here."),
    permission_mode: str | None = typer.Option(None, "--permission-mode", help=PERMISSION_MODE_HELP),
    script: Path | None = typer.Option(None, "--script", help="Replies of the scripted model (demo, tests)."),
    trust: bool = typer.Option(False, "--trust", help=TRUST_HELP),
) -> None:
    """Talk with an agent at the terminal; each prompt continues the same session."""
    own_mount_namespace()  # first: only a single-threaded process can
    if resume and continue_latest:
        raise _fail("--resume and --continue exclude each other")
    if problem := permission_mode_error(permission_mode):
        raise _fail(problem)
    if not cwd.is_dir():
        raise _fail(f"--cwd {cwd} is not a directory")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise _fail("subagent chat needs a terminal; for scripts and pipes use `subagent run PROMPT`")
    if problem := api_key_error(script):
        raise _fail(problem)
    cwd = cwd.resolve()
    try:
        session_id, session_agent = _session_to_resume(resume, continue_latest, cwd)
        client = None
        if script is not None:
            from agent.model.scripted import ScriptedModel

            client = ScriptedModel.from_file(script)
    except SubagentError as exc:
        raise _fail(str(exc)) from None
    chosen = agent or session_agent or DEFAULT_AGENT
    code = asyncio.run(_chat(cwd, chosen, model, session_id, permission_mode, client, trust))
    raise typer.Exit(code)


async def _chat(
    cwd: Path,
    agent: str,
    model: str | None,
    session_id: str | None,
    mode: str | None,
    client: object,
    trust: bool,
) -> int:
    from agent.chat.app import ChatApp
    from agent.chat.state import ChatState
    from agent.terminal.console import terminal_console

    state = ChatState(cwd=cwd, agent=agent, model=model, session_id=session_id, trust=trust)
    chat = ChatApp(state, terminal_console(), model_client=client, permission_mode=mode)  # type: ignore[arg-type]
    return await chat.run()
