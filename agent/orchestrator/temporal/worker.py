"""`subagent worker`: a Temporal worker hosting the subtask workflow and the subtask activity.

The workflow is one activity call, so replaying it is cheap: workers keep no workflow cache and
hence no sticky queue, and a worker's death never delays the workflow task that follows a retry.

Concurrency: `max_concurrent` caps the subtasks one worker runs at once; the cap for a whole task
queue is the sum over its workers (see docs/distributed.md), optionally with a server-side rate
limit on how fast the queue hands out subtasks (`queue_rate_per_s`).
"""

import asyncio
import importlib
import os
import signal
import socket
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel

from agent.errors import ConfigError
from agent.orchestrator.base import SubtaskRunner
from agent.orchestrator.temporal._imports import require_temporal
from agent.orchestrator.temporal.connection import TemporalSettings, connect, settle_core_threads
from agent.paths import data_home

DEFAULT_RUNNER = "agent.orchestrator.local:run_subtask"


class WorkerOptions(BaseModel):
    """What one worker process runs and how much of it at once."""

    runner: str = DEFAULT_RUNNER
    """`module:function` of the `SubtaskRunner` that runs one subtask."""
    max_concurrent: int = 4
    """Subtasks this worker runs at once (Temporal's `max_concurrent_activities`)."""
    blob_dir: str | None = None
    """`file://` URL or path for results and checkpoints too big to travel inline (shared across machines)."""
    work_dir: Path | None = None
    """Where per-attempt checkouts are made (default: the system's temp dir)."""
    identity: str | None = None
    """Name shown in progress and in the Temporal UI (default: pid@host)."""
    heartbeat_throttle_s: float = 1.0
    """Longest delay before a heartbeat reaches the server; lower means fresher checkpoints."""
    queue_rate_per_s: float | None = None
    """Server-side limit on subtasks started per second across the whole task queue."""
    shutdown_grace_s: float = 5.0
    """On SIGTERM, how long running subtasks may go on before they are handed to another worker."""


def resolve_runner(path: str) -> SubtaskRunner:
    """Import the `module:function` runner, saying clearly what is wrong if it cannot be used.

    Raises:
        ConfigError: the path is malformed, the module does not import, or the name is missing.
    """
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(f"--runner {path!r}: expected module:function, e.g. {DEFAULT_RUNNER}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"--runner {path}: cannot import {module_name}: {exc}") from exc
    runner = getattr(module, attr, None)
    if not callable(runner):
        raise ConfigError(f"--runner {path}: {module_name} has no callable {attr!r}")
    return runner  # type: ignore[no-any-return]


async def run_worker(
    settings: TemporalSettings, options: WorkerOptions, *, ready: Callable[[str], None] | None = None
) -> None:
    """Poll the task queue until SIGTERM or Ctrl-C, then shut down gracefully.

    On shutdown the worker stops taking subtasks; a subtask still running after the graceful
    window is cancelled here and retried on another worker from its last checkpoint.

    Raises:
        ConfigError: the extra is missing or the runner cannot be imported.
        RemoteDispatchError: Temporal cannot be reached.
    """
    require_temporal()
    from temporalio.worker import Worker

    from agent.orchestrator.temporal.activities import SubtaskActivities, sweep_checkouts
    from agent.orchestrator.temporal.payloads import BlobStore
    from agent.orchestrator.temporal.workflows import SubtaskWorkflow
    from agent.orchestrator.worktree import sweep_worktrees

    runner = resolve_runner(options.runner)
    try:
        identity = options.identity or f"{os.getpid()}@{socket.gethostname()}"
        client = await connect(settings)
        work_dir = options.work_dir or Path(tempfile.gettempdir()) / "subagent-worker"
        await asyncio.to_thread(sweep_checkouts, work_dir)  # those of killed workers on this host
        await asyncio.to_thread(sweep_worktrees)
        activities = SubtaskActivities(
            runner,
            blobs=BlobStore(options.blob_dir or data_home() / "blobs"),
            work_dir=work_dir,
            identity=identity,
        )
        worker = Worker(
            client,
            task_queue=settings.task_queue,
            workflows=[SubtaskWorkflow],
            activities=[activities.run_subtask],
            max_concurrent_activities=options.max_concurrent,
            identity=identity,
            max_heartbeat_throttle_interval=timedelta(seconds=options.heartbeat_throttle_s),
            default_heartbeat_throttle_interval=timedelta(seconds=options.heartbeat_throttle_s),
            max_cached_workflows=0,  # no sticky queue: a dead worker never holds a workflow task back
            max_task_queue_activities_per_second=options.queue_rate_per_s,
            graceful_shutdown_timeout=timedelta(seconds=options.shutdown_grace_s),
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        async with worker:  # leaving it stops polling; running subtasks get the graceful window
            if ready is not None:
                ready(identity)
            await stop.wait()
    finally:  # no core thread may still be in Python when asyncio.run returns
        await settle_core_threads()
