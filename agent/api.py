"""The Python API: run one agent on one task, or a list of subtasks in parallel.

    import asyncio, agent
    results = asyncio.run(agent.dispatch("tasks.yaml", cwd="."))
    final = asyncio.run(agent.run("add a /health endpoint", agent="backend-engineer", cwd="."))

Both are built on `run_events` (and its keyword form `run_agent`), the event stream every front
end consumes: the runtime's (agent.runtime.assembly) with the orchestrator's `task` tool composed
into its parts, here, one level above both, so the runtime knows nothing of the orchestrator.
`agent` imports them on first use.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent import paths
from agent.events import Event, ResultEvent

if TYPE_CHECKING:
    from agent.orchestrator.base import EventSink, SubtaskResult, SubtaskSpec
    from agent.permissions.models import Approver, PermissionMode
    from agent.runtime.options import RunOptions


async def run_events(options: RunOptions) -> AsyncGenerator[Event]:
    """Run `options.agent` on `options.prompt` in `options.cwd` and yield its events; the last one
    is the ResultEvent (see `agent.runtime.assembly.run_events`).

    Every front end runs through here, where the orchestrator joins the runtime: the parts are
    `options.parts` (None: the runtime's) with the `task` tool as their session tools
    (`agent.orchestrator.task_tool.with_delegation`), and the run starts by sweeping the
    worktrees killed runs' subagents left (`agent.orchestrator.worktree.sweep_worktrees`), where
    any subagent's tree is on disk at all. Its first event ends start-up for `run` and `-p`
    (`agent.runtime.startup_gc`: cyclic collection, stopped while they start, resumes).

    Closing it (`aclose()`, or leaving `async with contextlib.aclosing(...)`) closes the run under
    it before it returns: the session and the workspace are free for the next run at once.
    """
    import asyncio

    from agent.orchestrator.task_tool import with_delegation
    from agent.runtime.assembly import run_events as run_assembled
    from agent.runtime.startup_gc import release

    if paths.subagent_trees_left():  # else the worktrees' code (about 10 ms) stays unloaded
        from agent.orchestrator.worktree import sweep_worktrees

        await asyncio.to_thread(sweep_worktrees)
    delegating = options.model_copy(update={"parts": with_delegation(options.parts)})
    async with contextlib.aclosing(run_assembled(delegating)) as events:  # closed with this one
        async for event in events:
            release()  # start-up is over: collection resumes (a no-op unless `hold()` stopped it)
            yield event


async def run_agent(prompt: str | None, **fields: Any) -> AsyncGenerator[Event]:
    """Run an agent on `prompt` and yield its events: the keyword form of `run_events`.

    A caller that stops early closes it, which closes the run under it at once:
        async with contextlib.aclosing(agent.run_agent("fix the test", cwd=".")) as events:
            async for event in events:
                if event.type == "tool_call_started":
                    break

    `fields` are `RunOptions`' (agent, cwd, model, max_turns, permission_mode, approver, resume,
    model_client, cancel, ...). Raises ConfigError, naming the option, when one is not valid.
    """
    from agent.runtime.options import RunOptions

    async with contextlib.aclosing(run_events(RunOptions.build(prompt=prompt, **fields))) as events:
        async for event in events:  # closed with this one
            yield event


async def dispatch(
    tasks: list[SubtaskSpec] | Path | str,
    *,
    cwd: Path | str = ".",
    model_client: Any = None,
    approver: Approver | None = None,
    permission_mode: PermissionMode | None = None,
    on_event: EventSink | None = None,
    trust: bool = False,
) -> list[SubtaskResult]:
    """Run subtasks with subagents, concurrently, and return one result per task, in order.

    `tasks` is a list of `SubtaskSpec` or the path of a dispatch file. Children that may edit
    the same workspace each get a worktree and are merged back; see docs/orchestrator.md.
    `trust` trusts the tasks' workspaces for this dispatch (docs/security.md).

    Example:
        results = await agent.dispatch([SubtaskSpec(id="api", agent="backend-engineer",
                                                    prompt="add POST /items")], cwd="service")
    """
    from agent.orchestrator.base import DispatchOptions
    from agent.orchestrator.dispatch_file import check_agents, load_tasks
    from agent.orchestrator.local import LocalDispatcher

    root = Path(cwd)
    if isinstance(tasks, (str, Path)):
        path = Path(tasks)
        tasks = load_tasks(path)
        check_agents(path, tasks, root, trust=trust)
    options = DispatchOptions(permission_mode=permission_mode)
    dispatcher = LocalDispatcher(
        root, options=options, model_client=model_client, approver=approver, trust=trust
    )
    return await dispatcher.run(tasks, on_event=on_event)


async def run(
    prompt: str, *, agent: str = "orchestrator", cwd: Path | str = ".", **options: Any
) -> ResultEvent:
    """Run one agent on one task and return its final ResultEvent (`run_agent` without the stream).

    `options` are `agent.runtime.options.RunOptions`' fields (model, max_turns, permission_mode,
    approver, model_client, cancel, ...); a wrong one raises ConfigError naming it.

    Example:
        result = await agent.run("add a /health endpoint", agent="backend-engineer", cwd=".")
        print(result.subtype, result.result)
    """
    from agent.runtime.options import RunOptions

    final: ResultEvent | None = None
    run_options = RunOptions.build(prompt=prompt, agent=agent, cwd=Path(cwd), **options)
    async for event in run_events(run_options):
        if event.type == "result" and event.parent_tool_use_id is None:
            final = event
    assert final is not None  # the loop always ends with a result
    return final
