"""`dispatch_temporal`: run subtasks on Temporal workers, the Python entry `subagent dispatch
--executor temporal` uses. Importing this module stays cheap: the SDK is imported when it runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from agent.orchestrator.temporal import DEFAULT_TASK_QUEUE

if TYPE_CHECKING:
    from collections.abc import Callable

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
