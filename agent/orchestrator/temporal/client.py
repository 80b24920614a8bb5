"""`TemporalDispatcher`: the `Dispatcher` that runs each subtask as a workflow on Temporal workers.

    dispatcher = TemporalDispatcher(TemporalSettings(address="temporal:7233"), cwd=Path("."))
    results = await dispatcher.run([SubtaskSpec(id="t1", agent="backend-engineer", prompt="...")])

Each subtask is pinned to a git source and commit, started as one workflow, and watched: the
dispatcher polls the running activity's heartbeat details and replays the events in them to
`on_event`, so remote subtasks show live progress as local ones do. Cancelling the awaiting task
cancels every workflow, and waits (bounded) for their activities to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from agent.errors import ConfigError, RunError
from agent.events import EventAdapter, ResultEvent, ResultSubtype
from agent.orchestrator.base import (
    DispatchOptions,
    EventSink,
    SubtaskCheckpoint,
    SubtaskResult,
    SubtaskSpec,
)
from agent.orchestrator.temporal._imports import require_temporal
from agent.orchestrator.temporal.connection import TemporalSettings, connect
from agent.orchestrator.temporal.models import (
    WORKFLOW_NAME,
    AttemptPolicy,
    HeartbeatDetails,
    ProgressSink,
    SubtaskRequest,
)
from agent.orchestrator.temporal.payloads import PayloadEnvelope, unpack
from agent.orchestrator.temporal.workspace import pin_workspace

if TYPE_CHECKING:
    from temporalio.client import Client, WorkflowHandle

CANCEL_WAIT_S = 15.0


class TemporalDispatcher:
    """Runs subtasks on Temporal workers; one result per subtask, in the order given."""

    def __init__(
        self,
        settings: TemporalSettings,
        *,
        cwd: Path | None = None,
        options: DispatchOptions | None = None,
        policy: AttemptPolicy | None = None,
        max_in_flight: int = 64,
        poll_interval_s: float = 0.5,
        on_progress: ProgressSink | None = None,
    ) -> None:
        """Configure the dispatcher; nothing connects until the first `run`.

        Args:
            settings: where Temporal is, and the task queue the workers poll.
            cwd: workspace of subtasks whose spec names none (a git repository).
            options: what the dispatch sets for every subtask (`DispatchOptions`, as for local runs).
            policy: heartbeat timeout, retries and inline limit for every subtask.
            max_in_flight: workflows this dispatch keeps open at once (workers cap what runs).
            poll_interval_s: how often running subtasks' heartbeats are read for progress.
            on_progress: optional sink for turn / tool / tokens / attempt of each subtask.

        Raises:
            ConfigError: the temporal extra is not installed.
        """
        require_temporal()
        self.settings = settings
        self.cwd = (cwd or Path.cwd()).resolve()
        self.options = options or DispatchOptions()
        self.policy = policy or AttemptPolicy()
        self.max_in_flight = max_in_flight
        self.poll_interval_s = poll_interval_s
        self.on_progress = on_progress
        self._client: Client | None = None

    async def run(
        self, tasks: list[SubtaskSpec], *, on_event: EventSink | None = None
    ) -> list[SubtaskResult]:
        """Run all tasks on the workers; cancelling this call cancels every workflow it started.

        Raises:
            ConfigError: two tasks share an id (nothing was started).
            RemoteDispatchError: Temporal cannot be reached (nothing was started).
        """
        duplicates = sorted(task_id for task_id, n in Counter(t.id for t in tasks).items() if n > 1)
        if duplicates:
            raise ConfigError(f"subtask ids must be unique in a dispatch; repeated: {', '.join(duplicates)}")
        client = await self._connect([t.id for t in tasks])
        dispatch_id = uuid.uuid4().hex[:10]
        gate = asyncio.Semaphore(self.max_in_flight)
        async with asyncio.TaskGroup() as group:
            runs = [group.create_task(self._one(client, dispatch_id, spec, gate, on_event)) for spec in tasks]
        return [run.result() for run in runs]

    async def pollers(self, subtask_ids: list[str] | None = None) -> list[str]:
        """Identities of the workers polling the task queue now (empty: subtasks would wait).

        Raises:
            RemoteDispatchError: Temporal cannot be reached.
        """
        from temporalio.api.enums.v1 import TaskQueueType
        from temporalio.api.taskqueue.v1 import TaskQueue
        from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

        client = await self._connect(subtask_ids or [])
        described = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=self.settings.namespace,
                task_queue=TaskQueue(name=self.settings.task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
            )
        )
        return [poller.identity for poller in described.pollers]

    async def _connect(self, subtask_ids: list[str]) -> Client:
        """One connection per dispatcher, reused by every run (on the event loop that made it)."""
        if self._client is None:
            self._client = await connect(self.settings, subtask_ids=subtask_ids)
        return self._client

    async def _one(
        self,
        client: Client,
        dispatch_id: str,
        spec: SubtaskSpec,
        gate: asyncio.Semaphore,
        on_event: EventSink | None,
    ) -> SubtaskResult:
        from temporalio.exceptions import WorkflowAlreadyStartedError
        from temporalio.service import RPCError

        try:
            workspace = await asyncio.to_thread(pin_workspace, spec, self.cwd)
        except ConfigError as exc:  # a bad workspace fails this subtask only, clearly
            return _error_result(spec, str(exc))
        request = SubtaskRequest(spec=self.options.applied(spec), workspace=workspace, policy=self.policy)
        async with gate:
            started = time.monotonic()
            workflow_id = f"subagent-{dispatch_id}-{spec.id}"
            try:
                handle = await _start(client, request, workflow_id, self.settings.task_queue)
            except (RPCError, WorkflowAlreadyStartedError) as exc:
                return _error_result(spec, f"subtask {spec.id}: Temporal did not start it: {exc}")
            replay = _Replay(spec.id, on_event)
            watcher = asyncio.create_task(self._watch(client, handle, replay))
            try:
                envelope = await handle.result()
                result = await asyncio.to_thread(unpack, envelope, SubtaskResult)
            except asyncio.CancelledError:
                await _cancel(handle)
                raise
            except Exception as exc:  # any failure becomes this subtask's error result, never lost
                result = await asyncio.to_thread(_failure_result, spec, handle.id, exc)
            finally:
                watcher.cancel()
        if not result.duration_ms:
            result.duration_ms = (time.monotonic() - started) * 1000
        replay.finish(result)
        return result

    async def _watch(self, client: Client, handle: WorkflowHandle[Any, Any], replay: _Replay) -> None:
        """Replay heartbeat events to `on_event` and progress to `on_progress` until cancelled."""
        while True:
            await asyncio.sleep(self.poll_interval_s)
            details = await _heartbeat_details(client, handle)
            if details is None:
                continue
            replay.feed(details)
            if self.on_progress is not None:
                self.on_progress(replay.subtask_id, details.progress)


class _Replay:
    """Passes each heartbeat event to `on_event` once, and ends every subtask with a result event."""

    def __init__(self, subtask_id: str, on_event: EventSink | None) -> None:
        self.subtask_id = subtask_id
        self.on_event = on_event
        self.attempt = 0
        self.last_seq = 0
        self.session_id = ""
        self.result_sent = False

    def feed(self, details: HeartbeatDetails) -> None:
        """Pass on the events newer than the last seen (sequence numbers restart with each attempt)."""
        if details.progress.attempt != self.attempt:
            self.attempt, self.last_seq, self.result_sent = details.progress.attempt, 0, False
        for seq, data in details.events:
            if seq <= self.last_seq:
                continue
            self.last_seq = seq
            event = EventAdapter.validate_python(data)
            self.session_id = event.session_id
            self.result_sent = self.result_sent or event.type == "result"
            if self.on_event is not None:
                self.on_event(self.subtask_id, event)

    def finish(self, result: SubtaskResult) -> None:
        """Emit the subtask's result event when the last heartbeat did not carry it."""
        if self.on_event is None or self.result_sent:
            return
        subtype = result.status if result.status in get_args(ResultSubtype) else "error_during_execution"
        self.on_event(
            self.subtask_id,
            ResultEvent(
                session_id=result.session_id or self.session_id,
                subtype=subtype,
                is_error=not result.ok,
                result=result.result if result.ok else (result.error or result.result),
                num_turns=result.num_turns,
                usage=result.usage,
                total_cost_usd=result.total_cost_usd,
                duration_ms=result.duration_ms,
                files_changed=result.files_changed,
                permission_denials=result.permission_denials,
            ),
        )


async def _heartbeat_details(client: Client, handle: WorkflowHandle[Any, Any]) -> HeartbeatDetails | None:
    from temporalio.service import RPCError

    try:
        described = await handle.describe()
    except RPCError:
        return None  # a transient frontend hiccup: the next poll tries again
    for pending in described.raw_description.pending_activities:
        if pending.HasField("heartbeat_details") and pending.heartbeat_details.payloads:
            values = await client.data_converter.decode(pending.heartbeat_details.payloads)
            return HeartbeatDetails.model_validate(values[0])
    return None


async def _start(
    client: Client, request: SubtaskRequest, workflow_id: str, queue: str
) -> WorkflowHandle[Any, Any]:
    """Start the workflow; if cancelled meanwhile, cancel what was started so nothing is orphaned."""
    start = asyncio.ensure_future(
        client.start_workflow(
            WORKFLOW_NAME,
            request,
            id=workflow_id,
            task_queue=queue,
            result_type=PayloadEnvelope,
        )
    )
    try:
        return await asyncio.shield(start)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await _cancel(await start)
        raise


async def _cancel(handle: WorkflowHandle[Any, Any]) -> None:
    """Ask the workflow to cancel and wait (bounded) until its activity has stopped."""
    from temporalio.client import WorkflowFailureError
    from temporalio.service import RPCError

    try:
        await asyncio.wait_for(handle.cancel(), CANCEL_WAIT_S)
        await asyncio.wait_for(handle.result(), CANCEL_WAIT_S)
    except WorkflowFailureError:
        return  # the expected end: the workflow closed as cancelled
    except (RPCError, TimeoutError):
        return  # already closed, or the server is gone: nothing more this process can do


def _failure_result(spec: SubtaskSpec, workflow_id: str, exc: BaseException) -> SubtaskResult:
    """Turn a failed workflow into an error result that keeps the work done so far (its patch)."""
    from temporalio.exceptions import ApplicationError, CancelledError
    from temporalio.exceptions import TimeoutError as ActivityTimeoutError

    cause: BaseException | None = exc
    known = (ApplicationError, ActivityTimeoutError, CancelledError)
    while cause is not None and not isinstance(cause, known):
        cause = cause.__cause__ or getattr(cause, "cause", None)
    if isinstance(cause, CancelledError):
        return _error_result(spec, f"subtask {spec.id} was cancelled", status="cancelled")
    raw_details: Any = ()
    if isinstance(cause, ApplicationError):
        raw_details = cause.details
    elif isinstance(cause, ActivityTimeoutError):
        raw_details = cause.last_heartbeat_details
    message = getattr(cause, "message", "") or str(cause or exc)
    result = _error_result(
        spec, f"subtask {spec.id} (agent {spec.agent}, workflow {workflow_id}) failed: {message}"
    )
    if raw_details:
        details = HeartbeatDetails.model_validate(raw_details[0])
        if details.checkpoint is not None:
            try:
                checkpoint = unpack(details.checkpoint, SubtaskCheckpoint)
            except RunError as unreadable:
                result.error = f"{result.error}; its last checkpoint is lost: {unreadable}"
            else:
                result.patch, result.num_turns = checkpoint.patch, checkpoint.turn
    return result


def _error_result(spec: SubtaskSpec, message: str, status: str = "error_during_execution") -> SubtaskResult:
    return SubtaskResult(id=spec.id, agent=spec.agent, status=status, result="", error=message)
