"""`subagent demo`: the orchestrator and two parallel subagents on a sample service, offline.

Exit code 0 when the run succeeded and the sample's tests pass on the merged tree, 130 when
Ctrl-C (or SIGTERM) cancelled it (as `subagent run`), else 1.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from agent.cli._signals import cancel_on_signals
from agent.cli.app import app
from agent.cli.run_cmd import EXIT_CODES

if TYPE_CHECKING:
    from rich.console import Console

    from agent.demo.run import DemoOutcome


@app.command("demo")
def demo_command(
    workdir: Path | None = typer.Option(
        None, "--workdir", help="Copy the sample here instead of a new temporary folder.", file_okay=False
    ),
    fast: bool = typer.Option(False, "--fast", help="No pauses between scripted replies."),
) -> None:
    """Run the offline demo: scripted model replies, the real tools, sandbox, worktrees and merge."""
    from agent.cli._options import own_mount_namespace

    own_mount_namespace()  # first: only a single-threaded process can
    from agent.demo.run import print_summary
    from agent.errors import SubagentError
    from agent.terminal.console import terminal_console
    from agent.terminal.safe_text import for_terminal

    console = terminal_console()
    try:
        outcome = asyncio.run(_demo(console, workdir, fast))
    except SubagentError as exc:
        typer.echo(f"error: {for_terminal(str(exc))}", err=True)
        raise typer.Exit(2) from exc
    print_summary(console, outcome)
    if outcome.subtype == "cancelled":
        raise typer.Exit(EXIT_CODES["cancelled"])
    raise typer.Exit(0 if outcome.ok else 1)


async def _demo(console: Console, workdir: Path | None, fast: bool) -> DemoOutcome:
    from agent.demo.run import run_demo

    with cancel_on_signals() as cancel:
        return await run_demo(console, workdir=workdir, fast=fast, cancel=cancel)
