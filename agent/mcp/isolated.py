"""`run_task` with `isolate: true`: the task in a tree of its own, merged back like a subagent's.

The run is a child under a parent with no model (as `subagent dispatch` runs a subtask):
`agent.orchestrator.child.run_child` with `isolate=True` checkpoints the workspace, gives the
agent a copy-on-write tree of it (or a checkout where this process may not mount), runs it
there, and merges its work three-way into the workspace when it succeeds. Work that is not
merged (a conflict, a failed run, a change to a protected path) stays on a branch of the
workspace's shadow repository, and the result says which and how to take it; the workspace is
not touched then. Isolated tasks of one workspace in this server share one hold of it (so a
run in place, from here or another process, is refused as busy meanwhile, and they are not),
one checkpoint taken together and one merge queue, so two of them editing the same file merge
one after the other and neither's change is lost. A `reply` to such a session runs isolated too.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from agent.events import Event
from agent.mcp.asks import RoundTrip
from agent.mcp.runs import McpRun
from agent.runtime.options import RunOptions


class IsolatedWorkspaces:
    """What the isolated tasks of one server share per workspace: the hold, merges, checkpoints."""

    def __init__(self, trust: bool) -> None:
        self.trust = trust
        self._held: dict[Path, tuple[int, contextlib.ExitStack]] = {}
        self.merge_queues: dict[str, Any] = {}
        self.snapshots: dict[str, asyncio.Future[Any]] = {}
        self.slots: dict[int, asyncio.Semaphore] = {}

    @contextlib.contextmanager
    def holding(self, workspace: Path) -> Iterator[None]:
        """Hold `workspace` while any isolated task of it runs here.

        Raises:
            WorkspaceBusyError: a run in place (this server's or another process's) holds it.
        """
        from agent.sessions.leftovers import workspace_for_run

        count, stack = self._held.get(workspace, (0, contextlib.ExitStack()))
        if count == 0:
            stack.enter_context(workspace_for_run(workspace, "", editing=True))
        self._held[workspace] = (count + 1, stack)
        try:
            yield
        finally:
            count, stack = self._held.pop(workspace)
            if count > 1:
                self._held[workspace] = (count - 1, stack)
            else:
                stack.close()


class IsolatedRun(McpRun):
    """One isolated task: its child's events are the call's progress; `subtask` its merged result."""

    def __init__(
        self, ctx: Any, options: RunOptions, round_trip: RoundTrip | None, shared: IsolatedWorkspaces
    ) -> None:
        super().__init__(ctx, options, round_trip)
        self.shared = shared
        self.subtask: Any = None
        """The `SubtaskResult`: status after the merge, files, conflicts, the branch."""

    async def _events(self) -> AsyncIterator[Event]:
        queue: asyncio.Queue[Event | None] = asyncio.Queue()
        child = asyncio.ensure_future(self._child(queue.put_nowait))
        child.add_done_callback(lambda _: queue.put_nowait(None))
        try:
            while (event := await queue.get()) is not None:
                yield event
            self.subtask = child.result()  # raises what the child raised
        finally:
            if not child.done():
                child.cancel()
                await asyncio.gather(child, return_exceptions=True)

    async def _child(self, emit: Any) -> Any:
        from agent.orchestrator.base import SubtaskSpec
        from agent.orchestrator.child import ChildRequest, run_child
        from agent.orchestrator.link import ParentLink
        from agent.runtime.assembly import default_model_client
        from agent.runtime.parts import default_parts

        opts, shared = self.options, self.shared
        workspace = opts.cwd
        parts = opts.parts or default_parts()
        registry = await asyncio.to_thread(parts.load_registry, workspace, opts.trust)
        registry.get(opts.agent)  # an unknown agent is named before anything is held
        spec = SubtaskSpec(
            id=f"mcp-{uuid.uuid4().hex[:8]}", agent=opts.agent, prompt=opts.prompt or "",
            description="run_task (isolated)", model=opts.model, max_turns=opts.max_turns,
            permission_mode=opts.permission_mode,
        )  # fmt: skip
        with shared.holding(workspace):
            link = ParentLink(
                registry=registry, parts=parts, client=opts.model_client or default_model_client(),
                gate=None, approver=opts.approver, model=None, session_id=None, depth=0,
                cancel=self.cancel, permission_mode=opts.permission_mode, always=opts.always,
                slots=shared.slots, merge_queues=shared.merge_queues, snapshots=shared.snapshots,
            )  # fmt: skip
            request = ChildRequest(
                spec=spec, link=link, workspace=workspace, isolate=True, emit=emit,
                resume=opts.resume, reply=opts.resume is not None,
            )  # fmt: skip
            return await run_child(request)

    def outcome(self) -> dict[str, Any]:
        """The task's result fields after the merge (see `agent.mcp.server.TaskResult`)."""
        from agent.sessions.checkpoints import ShadowRepo

        done = self.subtask
        if done is None:
            return {}
        fields: dict[str, Any] = {
            "status": done.status,
            "files_changed": [str(self.options.cwd / path) for path in done.files_changed],
            "isolated": True,
            "merged": bool(done.files_changed) and done.branch is None and not done.conflicts,
            "conflicts": done.conflicts,
            "branch": done.branch,
        }
        if done.branch is not None:
            git_dir = ShadowRepo(self.options.cwd).git_dir
            fields["patch"] = done.patch
            fields["take"] = (
                f"not merged: the work is on branch {done.branch} of the workspace's shadow "
                f"repository; read a file with `git --git-dir {git_dir} show {done.branch}:PATH`, "
                "or apply `patch` with `git apply --3way` once the conflict is settled"
            )
        elif done.files_changed:
            fields["take"] = f"merged into {self.options.cwd}: nothing to take"
        if done.error:
            fields["error"] = done.error
        return fields
