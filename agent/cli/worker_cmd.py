"""`subagent worker`: run subtasks handed out by Temporal on this machine (the `temporal` extra)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from agent.cli import _temporal_options as opt
from agent.cli.app import app
from agent.errors import ConfigError, SubagentError


@app.command("worker")
def worker(
    temporal_address: str = opt.ADDRESS,
    namespace: str = opt.NAMESPACE,
    task_queue: str = opt.TASK_QUEUE,
    max_concurrent: int = typer.Option(4, "--max-concurrent", min=1, help="Subtasks run at once here."),
    runner: str = typer.Option(
        "agent.orchestrator.local:run_subtask", "--runner", help="module:function that runs one subtask."
    ),
    blob_dir: str | None = typer.Option(
        None, "--blob-dir", help="Dir or file:// URL for large results/checkpoints; shared across machines."
    ),
    work_dir: Path | None = typer.Option(None, "--work-dir", help="Where per-attempt checkouts are made."),
    identity: str | None = typer.Option(None, "--identity", help="Worker name (default pid@host)."),
    heartbeat_throttle: float = typer.Option(
        1.0, "--heartbeat-throttle", min=0.05, help="Seconds at most between a heartbeat and the server."
    ),
    queue_rate: float | None = typer.Option(
        None, "--queue-rate", help="Subtasks started per second, for the whole task queue (server-side)."
    ),
    shutdown_grace: float = typer.Option(
        5.0, "--shutdown-grace", min=0, help="On SIGTERM, seconds running subtasks may finish before handoff."
    ),
    api_key: str | None = opt.API_KEY,
    tls: bool = opt.TLS,
    tls_ca: Path | None = opt.TLS_CA,
    tls_cert: Path | None = opt.TLS_CERT,
    tls_key: Path | None = opt.TLS_KEY,
    tls_server_name: str | None = opt.TLS_SERVER_NAME,
) -> None:
    """Run a Temporal worker: it takes subtasks from the task queue and runs them here."""
    from agent.orchestrator.temporal._imports import require_temporal

    try:
        require_temporal()
        from agent.orchestrator.temporal.worker import WorkerOptions, run_worker

        settings = opt.settings_from_flags(
            temporal_address, namespace, task_queue, api_key, tls, tls_ca, tls_cert, tls_key, tls_server_name
        )
        options = WorkerOptions(
            runner=runner,
            max_concurrent=max_concurrent,
            blob_dir=blob_dir,
            work_dir=work_dir,
            identity=identity,
            heartbeat_throttle_s=heartbeat_throttle,
            queue_rate_per_s=queue_rate,
            shutdown_grace_s=shutdown_grace,
        )

        def ready(name: str) -> None:
            typer.echo(
                f"worker {name} polling task queue {task_queue!r} at {temporal_address} "
                f"(max {max_concurrent} at once)",
                err=True,
            )

        asyncio.run(run_worker(settings, options, ready=ready))
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except SubagentError as exc:
        from agent.terminal.safe_text import for_terminal

        typer.echo(f"subagent worker: {for_terminal(str(exc))}", err=True)
        raise typer.Exit(2 if isinstance(exc, ConfigError) else 1) from exc
