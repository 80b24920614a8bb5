"""`subagent dispatch FILE`: run a file of tasks with subagents, no model in the middle.

Progress (the live view, each subagent labelled) goes to stderr; the final JSON report
(`DispatchReport`) to stdout. Exit codes: 0 every task succeeded, 1 a task failed, 2 bad input
(the message names the file and the task), 130 cancelled.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import typer

from agent.cli._options import PERMISSION_MODE_HELP, TRUST_HELP, own_mount_namespace, permission_mode_error
from agent.cli.main import app

_EXECUTORS = ("local", "temporal")


@app.command("dispatch")
def dispatch_command(
    file: Path = typer.Argument(..., help="YAML or JSON: a list of tasks, or {tasks: [...]}."),
    cwd: Path = typer.Option(
        Path("."), "--cwd", help="Workspace (task cwds are relative to it).", file_okay=False
    ),
    as_json: bool = typer.Option(False, "--json", help="No progress view: only the JSON report."),
    executor: str = typer.Option("local", "--executor", help="local (this process) | temporal (workers)."),
    permission_mode: str | None = typer.Option(None, "--permission-mode", help=PERMISSION_MODE_HELP),
    script: Path | None = typer.Option(None, "--script", help="Replies of the scripted model (demo, tests)."),
    temporal_address: str = typer.Option(
        "localhost:7233", "--temporal-address", envvar="TEMPORAL_ADDRESS", help="With --executor temporal."
    ),
    task_queue: str | None = typer.Option(None, "--task-queue", help="With --executor temporal."),
    trust: bool = typer.Option(False, "--trust", help=TRUST_HELP),
) -> None:
    """Run a file of tasks with subagents in parallel; print progress, then a JSON report."""
    own_mount_namespace()  # first: only a single-threaded process can
    from agent.errors import ConfigError, SubagentError
    from agent.orchestrator.dispatch_file import DispatchReport, check_agents, load_tasks

    if executor not in _EXECUTORS:
        raise _fail(f"error: --executor must be local or temporal, not {executor!r}")
    if problem := permission_mode_error(permission_mode):
        raise _fail(f"error: {problem}")
    if trust and executor != "local":
        raise _fail(
            "error: --trust applies to this machine's runs; on the workers, trust the folder with "
            "`subagent trust PATH`"
        )
    try:
        tasks = load_tasks(file)
        if executor == "local":
            check_agents(file, tasks, cwd, trust=trust)
        results = asyncio.run(
            _run(tasks, cwd, executor, permission_mode, script, as_json, temporal_address, task_queue, trust)
        )
    except KeyboardInterrupt:
        typer.echo("cancelled", err=True)
        raise typer.Exit(130) from None
    except ConfigError as exc:
        raise _fail(f"error: {exc}") from exc
    except SubagentError as exc:
        raise _fail(f"error: {exc}", 1) from exc
    report = DispatchReport(ok=all(r.ok for r in results), results=results)
    sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    raise typer.Exit(0 if report.ok else 1)


def _fail(message: str, code: int = 2) -> typer.Exit:
    from agent.terminal.safe_text import for_terminal

    typer.echo(for_terminal(message), err=True)
    return typer.Exit(code)


async def _run(
    tasks: list[Any],
    cwd: Path,
    executor: str,
    mode: Any,
    script: Path | None,
    quiet: bool,
    address: str,
    task_queue: str | None,
    trust: bool,
) -> list[Any]:
    from agent.orchestrator.base import DispatchOptions

    on_event = None if quiet else _progress()
    options = DispatchOptions(permission_mode=mode)  # the same for both executors
    if executor == "temporal":
        from agent.orchestrator.temporal import DEFAULT_TASK_QUEUE
        from agent.orchestrator.temporal.cli import dispatch_temporal

        return await dispatch_temporal(
            tasks, address, task_queue or DEFAULT_TASK_QUEUE, cwd=cwd, options=options, on_event=on_event
        )
    from agent.api import dispatch

    client = None
    if script is not None:
        from agent.model.scripted import ScriptedModel

        client = ScriptedModel.from_file(script)
    return await dispatch(
        tasks,
        cwd=cwd,
        model_client=client,
        permission_mode=options.permission_mode,
        on_event=on_event,
        trust=trust,
    )


def _progress() -> Any:
    from agent.terminal.console import terminal_console
    from agent.terminal.render import EventRenderer

    renderer = EventRenderer(terminal_console(stderr=True), show_thinking=False)
    return lambda _task_id, event: renderer.handle(event)
