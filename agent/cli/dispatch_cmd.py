"""`subagent dispatch FILE`: run a file of tasks with subagents, no model in the middle, in this
process (`--executor local`) or on Temporal workers (`--executor temporal`, with the connection
flags `subagent worker` takes, defined once in `agent.cli._temporal_options`).

Progress goes to stderr (the live view, each subagent labelled; for Temporal, a line when a
subtask's attempt, turn or tool changes); the final JSON report (`DispatchReport`) to stdout,
also when Temporal cannot be reached (each task then says so). Exit codes: 0 every task
succeeded, 1 a task failed or Temporal is unreachable, 2 bad input (the message names the file
and the task), 130 cancelled (Ctrl-C; SIGTERM too with Temporal: the workflows are cancelled).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import typer

from agent.cli import _temporal_options as opt
from agent.cli._options import PERMISSION_MODE_HELP, TRUST_HELP, own_mount_namespace, permission_mode_error
from agent.cli.app import app

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
    trust: bool = typer.Option(False, "--trust", help=TRUST_HELP),
    temporal_address: str = opt.ADDRESS,
    namespace: str = opt.NAMESPACE,
    task_queue: str = opt.TASK_QUEUE,
    heartbeat_timeout: float = opt.HEARTBEAT_TIMEOUT,
    max_attempts: int = opt.MAX_ATTEMPTS,
    api_key: str | None = opt.API_KEY,
    tls: bool = opt.TLS,
    tls_ca: Path | None = opt.TLS_CA,
    tls_cert: Path | None = opt.TLS_CERT,
    tls_key: Path | None = opt.TLS_KEY,
    tls_server_name: str | None = opt.TLS_SERVER_NAME,
) -> None:
    """Run a file of tasks with subagents in parallel; print progress, then a JSON report.

    The Temporal flags (address, namespace, queue, TLS, attempts) apply with --executor temporal.
    """
    own_mount_namespace()  # first: only a single-threaded process can
    from agent.errors import ConfigError, RemoteDispatchError, SubagentError
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
    tasks = []
    try:
        tasks = load_tasks(file)
        if executor == "local":
            check_agents(file, tasks, cwd, trust=trust)
            results = asyncio.run(_run_local(tasks, cwd, permission_mode, script, as_json, trust))
        else:
            settings = opt.settings_from_flags(
                temporal_address,
                namespace,
                task_queue,
                api_key,
                tls,
                tls_ca,
                tls_cert,
                tls_key,
                tls_server_name,
            )
            policy = opt.attempt_policy(heartbeat_timeout, max_attempts)
            remote = _run_temporal(tasks, cwd, permission_mode, as_json, settings, policy)
            results = asyncio.run(_cancel_on_sigterm(remote))
    except (KeyboardInterrupt, asyncio.CancelledError):
        workflows = ": the subtasks' workflows were cancelled" if executor == "temporal" else ""
        typer.echo(f"cancelled{workflows}", err=True)
        raise typer.Exit(130) from None
    except ConfigError as exc:
        raise _fail(f"error: {exc}") from exc
    except SubagentError as exc:
        if isinstance(exc, RemoteDispatchError):
            sys.stdout.write(DispatchReport.not_started(tasks, str(exc)).model_dump_json(indent=2) + "\n")
        raise _fail(f"error: {exc}", 1) from exc
    report = DispatchReport(ok=all(r.ok for r in results), results=results)
    sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    raise typer.Exit(0 if report.ok else 1)


@app.command(
    "dispatch-remote",
    hidden=True,
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def dispatch_remote(context: typer.Context) -> None:
    """Gone: `subagent dispatch FILE --executor temporal` takes the same flags (it says so)."""
    import shlex

    instead = shlex.join(["subagent", "dispatch", *context.args, "--executor", "temporal"])
    raise _fail(
        "error: `subagent dispatch-remote` is now `subagent dispatch FILE --executor temporal`, "
        f"with the same flags; run: {instead}"
    )


def _fail(message: str, code: int = 2) -> typer.Exit:
    from agent.terminal.safe_text import for_terminal

    typer.echo(for_terminal(message), err=True)
    return typer.Exit(code)


async def _run_local(
    tasks: list[Any], cwd: Path, mode: Any, script: Path | None, quiet: bool, trust: bool
) -> list[Any]:
    from agent.api import dispatch

    client = None
    if script is not None:
        from agent.model.scripted import ScriptedModel

        client = ScriptedModel.from_file(script)
    return await dispatch(
        tasks, cwd=cwd, model_client=client, permission_mode=mode, on_event=None if quiet else _progress(),
        trust=trust,
    )  # fmt: skip


async def _run_temporal(
    tasks: list[Any], cwd: Path, mode: Any, quiet: bool, settings: Any, policy: Any
) -> list[Any]:
    from agent.orchestrator.base import DispatchOptions
    from agent.orchestrator.temporal.dispatch import dispatch_temporal

    printer = None
    if not quiet:
        from agent.cli._remote_progress import ProgressPrinter
        from agent.terminal.console import terminal_console

        printer = ProgressPrinter(terminal_console(stderr=True, soft_wrap=True))
    return await dispatch_temporal(
        tasks, settings.address, settings.task_queue, settings=settings, cwd=cwd,
        options=DispatchOptions(permission_mode=mode), policy=policy,
        on_event=None if quiet else _progress(), on_progress=printer,
        on_no_worker=printer.no_worker if printer is not None else None,
    )  # fmt: skip


async def _cancel_on_sigterm(work: Awaitable[list[Any]]) -> list[Any]:
    """Treat SIGTERM (a CI job cancelled, a pod stopped) like Ctrl-C: cancel the workflows."""
    import signal

    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await work


def _progress() -> Any:
    from agent.terminal.console import terminal_console
    from agent.terminal.render import EventRenderer

    renderer = EventRenderer(terminal_console(stderr=True), show_thinking=False)
    return lambda _task_id, event: renderer.handle(event)
