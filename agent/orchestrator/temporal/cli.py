"""`subagent dispatch-remote FILE`: run a file of subtasks on Temporal workers.

The integrator folds this into `subagent dispatch --executor temporal`; `dispatch_temporal` is the
Python entry point both use. Progress goes to stderr (rich), the final JSON report to stdout.
Importing this module stays cheap (typer only): the rest is imported when the command runs.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from agent.cli.main import app
from agent.orchestrator.temporal import DEFAULT_TASK_QUEUE
from agent.orchestrator.temporal import _cli_options as opt

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from agent.orchestrator.base import DispatchOptions, EventSink, SubtaskResult, SubtaskSpec
    from agent.orchestrator.temporal.connection import TemporalSettings
    from agent.orchestrator.temporal.models import AttemptPolicy, ProgressSink


async def dispatch_temporal(
    tasks: list[SubtaskSpec],
    address: str,
    task_queue: str = DEFAULT_TASK_QUEUE,
    *,
    settings: TemporalSettings | None = None,
    cwd: Path | None = None,
    options: DispatchOptions | None = None,
    policy: AttemptPolicy | None = None,
    on_event: EventSink | None = None,
    on_progress: ProgressSink | None = None,
    on_no_worker: Callable[[TemporalSettings], None] | None = None,
) -> list[SubtaskResult]:
    """Run `tasks` on the workers polling `task_queue` at `address`; one result per task, in order.

    `settings` (namespace, TLS, API key) replaces `address` and `task_queue` when given.
    `options` reach every subtask as they would a local one (`DispatchOptions.applied`).
    `on_no_worker` is told when no worker polls the queue yet (the subtasks then wait for one).

    Raises:
        ConfigError: the temporal extra is not installed.
        RemoteDispatchError: Temporal cannot be reached (the message names the subtasks).
    """
    from agent.orchestrator.temporal.client import TemporalDispatcher
    from agent.orchestrator.temporal.connection import TemporalSettings, settle_core_threads

    settings = settings or TemporalSettings(address=address, task_queue=task_queue)
    dispatcher = TemporalDispatcher(
        settings, cwd=cwd, options=options, policy=policy, on_progress=on_progress
    )
    try:
        if on_no_worker is not None and not await dispatcher.pollers([t.id for t in tasks]):
            on_no_worker(settings)
        return await dispatcher.run(tasks, on_event=on_event)
    finally:  # no core thread may still be in Python when asyncio.run returns (issue 11)
        await settle_core_threads()


@app.command("dispatch-remote")
def dispatch_remote(
    file: Path = typer.Argument(..., help="YAML/JSON list of subtasks (or {tasks: [...]})."),
    temporal_address: str = opt.ADDRESS,
    namespace: str = opt.NAMESPACE,
    task_queue: str = opt.TASK_QUEUE,
    heartbeat_timeout: float = typer.Option(
        60.0, "--heartbeat-timeout", help="Seconds before a silent worker is presumed dead and retried."
    ),
    max_attempts: int = typer.Option(
        3, "--max-attempts", min=1, help="Attempts per subtask, the first included."
    ),
    api_key: str | None = opt.API_KEY,
    tls: bool = opt.TLS,
    tls_ca: Path | None = opt.TLS_CA,
    tls_cert: Path | None = opt.TLS_CERT,
    tls_key: Path | None = opt.TLS_KEY,
    tls_server_name: str | None = opt.TLS_SERVER_NAME,
) -> None:
    """Run a file of subtasks on Temporal workers; print progress, then a JSON report.

    The report (stdout) has one result per subtask; when Temporal is unreachable each says so,
    with status error_during_execution. Bad input prints only the error (stderr), no report.
    Exit code: 0 all succeeded, 1 a subtask failed or Temporal is unreachable, 2 bad input,
    130 cancelled by Ctrl-C or SIGTERM (the workflows are cancelled too).
    """
    from agent.errors import ConfigError, RemoteDispatchError, SubagentError
    from agent.orchestrator.temporal._dispatch_io import DispatchReport, ProgressPrinter, load_tasks
    from agent.orchestrator.temporal.models import AttemptPolicy
    from agent.terminal.console import terminal_console

    console = terminal_console(stderr=True, soft_wrap=True)  # task files and workers' errors are not ours
    printer = ProgressPrinter(console)
    try:
        tasks = load_tasks(file)
        settings = opt.settings_from_flags(
            temporal_address, namespace, task_queue, api_key, tls, tls_ca, tls_cert, tls_key, tls_server_name
        )
        policy = AttemptPolicy(heartbeat_timeout_s=heartbeat_timeout, max_attempts=max_attempts)
        results = asyncio.run(
            _cancel_on_sigterm(
                dispatch_temporal(
                    tasks,
                    temporal_address,
                    task_queue,
                    settings=settings,
                    cwd=Path.cwd(),
                    policy=policy,
                    on_progress=printer,
                    on_no_worker=printer.no_worker,
                )
            )
        )
    except (KeyboardInterrupt, asyncio.CancelledError):
        console.print("cancelled: the subtasks' workflows were cancelled", style="yellow")
        raise typer.Exit(130) from None
    except SubagentError as exc:
        console.print(f"subagent dispatch-remote: {exc}", style="red", highlight=False, markup=False)
        if isinstance(exc, RemoteDispatchError):
            typer.echo(DispatchReport.not_started(tasks, str(exc)).model_dump_json(indent=2))
        raise typer.Exit(2 if isinstance(exc, ConfigError) else 1) from exc
    report = DispatchReport(ok=all(r.ok for r in results), results=results)
    typer.echo(report.model_dump_json(indent=2))
    raise typer.Exit(0 if report.ok else 1)


async def _cancel_on_sigterm(work: Awaitable[list[SubtaskResult]]) -> list[SubtaskResult]:
    """Treat SIGTERM (a CI job cancelled, a pod stopped) like Ctrl-C: cancel the workflows."""
    import signal

    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await work
