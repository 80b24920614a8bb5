"""The in-process executor: `LocalDispatcher` (many subtasks) and `run_subtask` (one, for workers).

`LocalDispatcher.run` is what `subagent dispatch` and `agent.dispatch` use: every subtask is a
child at depth 1 under a parent with no model (so no `task` tool unless an agent's config allows
it), all of them concurrently up to `defaults.max_parallel_tasks`, each in its own worktree when
more than one of them may edit the same workspace, merged back as each finishes.

`run_subtask` matches `agent.orchestrator.base.SubtaskRunner`: remote executors (Temporal) call
it on a worker for one subtask in a workspace they prepared, so it runs in place.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from agent.errors import ConfigError, SubagentError
from agent.events import Event
from agent.orchestrator.base import (
    DispatchOptions,
    EventSink,
    SubtaskCheckpoint,
    SubtaskResult,
    SubtaskSpec,
)
from agent.orchestrator.child import ChildRequest, run_child
from agent.orchestrator.link import ParentLink
from agent.orchestrator.worktree import sweep_worktrees
from agent.permissions.always import AlwaysMemory
from agent.permissions.models import Approver
from agent.registry.spec import may_edit
from agent.sessions.leftovers import workspace_for_run


class LocalDispatcher:
    """Runs subtasks in this process (implements `agent.orchestrator.base.Dispatcher`)."""

    def __init__(
        self,
        cwd: Path,
        *,
        options: DispatchOptions | None = None,
        model_client: Any = None,
        approver: Approver | None = None,
        parts: Any = None,
        trust: bool = False,
    ) -> None:
        """`cwd` is the default workspace; the model client defaults to the Messages API; `trust`
        trusts the workspaces for this dispatch (`--trust`)."""
        from agent.orchestrator.task_tool import with_delegation

        self.cwd = cwd.resolve()
        self.options = options or DispatchOptions()
        self.model_client = model_client
        self.approver = approver
        self.parts = with_delegation(parts)
        self.trust = trust

    def workspace(self, task: SubtaskSpec) -> Path:
        return (self.cwd / task.cwd).resolve() if task.cwd else self.cwd

    def links(self, tasks: list[SubtaskSpec], cancel: asyncio.Event) -> dict[Path, ParentLink]:
        """One parent link per workspace, sharing slots; raises ConfigError for a task that cannot run."""
        from agent.runtime.assembly import default_model_client

        client = self.model_client or default_model_client()
        links: dict[Path, ParentLink] = {}
        slots: dict[int, asyncio.Semaphore] = {}
        seen: set[str] = set()
        always = AlwaysMemory()  # the dispatch is one session: an `always` holds for every subtask
        for task in tasks:
            if task.id in seen:
                raise ConfigError(f"two subtasks have the id {task.id!r}; ids must be unique")
            seen.add(task.id)
            workspace = self.workspace(task)
            if not workspace.is_dir():
                raise ConfigError(f"subtask {task.id}: cwd {workspace} is not a directory")
            if workspace not in links:
                links[workspace] = ParentLink(
                    registry=self.parts.load_registry(workspace, self.trust),
                    parts=self.parts,
                    client=client,
                    gate=None,
                    approver=self.approver,
                    model=None,
                    session_id=None,
                    depth=0,
                    cancel=cancel,
                    slots=slots,
                    always=always,
                )
            links[workspace].registry.get(task.agent)  # UnknownAgentError names the known agents
        return links

    async def run(
        self, tasks: list[SubtaskSpec], *, on_event: EventSink | None = None
    ) -> list[SubtaskResult]:
        """Run all tasks (concurrently, bounded); cancelling the awaiting task cancels every subtask.

        Raises:
            ConfigError: before anything runs, for an unknown agent, a duplicate id or a bad cwd.
        """
        cancel = asyncio.Event()
        tasks = [self.options.applied(task) for task in tasks]
        links = self.links(tasks, cancel)
        editing: dict[Path, int] = {}
        for task in tasks:
            ws = self.workspace(task)
            editing[ws] = editing.get(ws, 0) + may_edit(links[ws].registry.get(task.agent))
        results: list[SubtaskResult | None] = [None] * len(tasks)

        async def one(index: int, task: SubtaskSpec) -> None:
            ws = self.workspace(task)
            emit = _sink(task.id, on_event)
            isolate = editing[ws] > 1 and may_edit(links[ws].registry.get(task.agent))
            try:
                results[index] = await run_child(
                    ChildRequest(spec=task, link=links[ws], workspace=ws, isolate=isolate, emit=emit)
                )
            except SubagentError as exc:  # this task could not run; the others go on
                results[index] = SubtaskResult(
                    id=task.id,
                    agent=task.agent,
                    status="error_during_execution",
                    result="",
                    error=f"the subagent could not run: {exc}",
                )

        await asyncio.to_thread(sweep_worktrees)  # what killed runs' subagents left
        try:
            with contextlib.ExitStack() as held:  # each workspace is this dispatch's while it runs
                for ws, count in editing.items():
                    held.enter_context(workspace_for_run(ws, "", editing=count > 0))
                async with asyncio.TaskGroup() as group:
                    for index, task in enumerate(tasks):
                        group.create_task(one(index, task))
        finally:
            cancel.set()  # anything still running (a cancel of the awaiting task) stops now
        return [r for r in results if r is not None]


def _sink(task_id: str, on_event: EventSink | None) -> Callable[[Event], None] | None:
    if on_event is None:
        return None
    return lambda event: on_event(task_id, event)


class LocalRunner:
    """`SubtaskRunner`: one subtask, in place, in a workspace an executor prepared."""

    def __init__(
        self, *, model_client: Any = None, approver: Approver | None = None, parts: Any = None
    ) -> None:
        self.model_client = model_client
        self.approver = approver
        self.parts = parts

    async def __call__(
        self,
        spec: SubtaskSpec,
        workspace: Path,
        *,
        on_event: EventSink | None,
        on_checkpoint: Callable[[SubtaskCheckpoint], Awaitable[None]] | None,
        resume_from: SubtaskCheckpoint | None,
        cancel: asyncio.Event,
    ) -> SubtaskResult:
        """Run `spec` in `workspace`; checkpoints after each of the child's turns when asked.

        `workspace` is the checkout the executor made for this attempt, the subtask's own: the
        spec's `cwd` said where to fetch it from, so it plays no part here (two subtasks of one
        repository must never work in one folder).
        """
        spec = spec.model_copy(update={"cwd": None})
        dispatcher = LocalDispatcher(
            workspace, model_client=self.model_client, approver=self.approver, parts=self.parts
        )
        link = dispatcher.links([spec], cancel)[dispatcher.workspace(spec)]
        pending: list[asyncio.Task[None]] = []
        in_turn_order = asyncio.Lock()  # one `git add -N` at a time: two raced for the index's lock
        sink = _sink(spec.id, on_event)

        def emit(event: Event) -> None:
            if sink is not None:
                sink(event)
            if on_checkpoint is not None and event.type == "usage" and event.parent_tool_use_id is None:
                checkpoint = _checkpoint(workspace, event, on_checkpoint, in_turn_order)
                pending.append(asyncio.ensure_future(checkpoint))

        resume = resume_from.session_id if resume_from is not None else None
        try:
            return await run_child(
                ChildRequest(
                    spec=spec,
                    link=link,
                    workspace=dispatcher.workspace(spec),
                    isolate=False,
                    emit=emit,
                    resume=resume,
                )
            )
        finally:
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)


async def _checkpoint(
    workspace: Path,
    event: Any,
    on_checkpoint: Callable[[SubtaskCheckpoint], Awaitable[None]],
    in_turn_order: asyncio.Lock,
) -> None:
    """The workspace's changes since its commit, as a patch; the transcript stays in the session
    store. One turn's after another's (asyncio's lock is first come, first served): each patch
    stages new files in the workspace's index, and two at once failed on its lock."""
    from agent.orchestrator.temporal.workspace import workspace_patch

    async with in_turn_order:
        patch = await workspace_patch(workspace)
        await on_checkpoint(
            SubtaskCheckpoint(
                turn=event.turn, patch=patch, session_id=event.session_id, transcript_ref=event.session_id
            )
        )


run_subtask = LocalRunner()
"""The default `SubtaskRunner` (`agent.orchestrator.local:run_subtask`): the Messages API client."""
