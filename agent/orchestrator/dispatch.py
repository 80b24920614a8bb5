"""Subtasks without a model in the middle: the dispatch file format and the Python API.

A dispatch file is YAML or JSON: a list of tasks, or `{tasks: [...]}`. Each task has `agent` and
`prompt`, and optionally `id` (default `t1`, `t2`, ... by position), `description`, `cwd`
(relative to the dispatch's cwd), `verify`, `model`, `max_turns`, `permission_mode`:

    tasks:
      - id: api
        agent: backend-engineer
        prompt: Add a POST /items endpoint with validation and tests.
        verify: python3 -m unittest discover -s tests -q
      - agent: backend-engineer
        prompt: Add a migration for items.created_at.

Python:

    import asyncio, agent
    results = asyncio.run(agent.dispatch("tasks.yaml", cwd="."))
    final = asyncio.run(agent.run("add a /health endpoint", agent="backend-engineer", cwd="."))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from agent.errors import DispatchFileError, UnknownAgentError
from agent.events import ResultEvent
from agent.orchestrator.base import EventSink, SubtaskResult, SubtaskSpec
from agent.permissions.models import Approver, PermissionMode


class DispatchReport(BaseModel):
    """The final JSON report of `subagent dispatch`: one result per task, in the file's order."""

    ok: bool
    """True when every task succeeded."""
    results: list[SubtaskResult]


def _task_name(raw: Any, index: int) -> str:
    given = raw.get("id") if isinstance(raw, dict) else None
    return f"#{index + 1} ({given or f't{index + 1}'})"


def load_tasks(path: Path) -> list[SubtaskSpec]:
    """Read a dispatch file (see the module docstring).

    Raises:
        DispatchFileError: the file cannot be read or parsed, or a task does not fit; the message
            names the file, the task (position and id) and the field.
    """
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DispatchFileError(path, f"cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise DispatchFileError(path, f"not valid YAML or JSON: {exc}") from exc
    if isinstance(data, dict) and "tasks" in data:
        data = data["tasks"]
    if not isinstance(data, list) or not data:
        raise DispatchFileError(path, "expected a non-empty list of tasks, or {tasks: [...]}")
    tasks: list[SubtaskSpec] = []
    for index, raw in enumerate(data):
        name = _task_name(raw, index)
        if not isinstance(raw, dict):
            raise DispatchFileError(path, "a task must be a mapping with `agent` and `prompt`", task=name)
        raw = {"id": f"t{index + 1}", **raw}
        if not str(raw.get("prompt") or "").strip():
            raise DispatchFileError(path, "missing `prompt` (the task for the agent)", task=name)
        try:
            tasks.append(SubtaskSpec.model_validate(raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            reason = "unknown field" if first["type"] == "extra_forbidden" else first["msg"]
            raise DispatchFileError(path, f"{field}: {reason}", task=name) from exc
    return tasks


def check_agents(path: Path, tasks: list[SubtaskSpec], cwd: Path, *, trust: bool = False) -> None:
    """Fail before anything runs when a task names an agent its workspace does not know."""
    from agent.registry.discovery import load_registry_for

    registries: dict[Path, Any] = {}
    for index, task in enumerate(tasks):
        workspace = (cwd / task.cwd).resolve() if task.cwd else cwd.resolve()
        name = f"#{index + 1} ({task.id})"
        if not workspace.is_dir():
            raise DispatchFileError(path, f"cwd {workspace} is not a directory", task=name)
        registry = registries.setdefault(workspace, load_registry_for(workspace, trust=trust))
        try:
            registry.get(task.agent)
        except UnknownAgentError as exc:
            raise DispatchFileError(path, str(exc), task=name) from exc


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
    from agent.orchestrator.local import LocalDispatcher

    root = Path(cwd)
    if isinstance(tasks, (str, Path)):
        path = Path(tasks)
        tasks = load_tasks(path)
        check_agents(path, tasks, root, trust=trust)
    options = DispatchOptions(permission_mode=permission_mode)
    dispatcher = LocalDispatcher(root, options=options, model_client=model_client, approver=approver,
                                 trust=trust)
    return await dispatcher.run(tasks, on_event=on_event)


async def run(
    prompt: str, *, agent: str = "orchestrator", cwd: Path | str = ".", **options: Any
) -> ResultEvent:
    """Run one agent on one task and return its final ResultEvent (`run_agent` without the stream).

    `options` are `agent.runtime.assembly.run_agent`'s (model, max_turns, permission_mode, approver,
    model_client, cancel, ...).

    Example:
        result = await agent.run("add a /health endpoint", agent="backend-engineer", cwd=".")
        print(result.subtype, result.result)
    """
    from agent.runtime.assembly import run_agent

    final: ResultEvent | None = None
    async for event in run_agent(prompt, agent=agent, cwd=Path(cwd), **options):
        if event.type == "result" and event.parent_tool_use_id is None:
            final = event
    assert final is not None  # the loop always ends with a result
    return final
