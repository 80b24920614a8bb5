"""Subtasks without a model in the middle: the dispatch file format (`subagent dispatch`, `agent.dispatch`).

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

The Python API that runs such a file is `agent.api.dispatch`.
"""

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from agent.errors import DispatchFileError, UnknownAgentError
from agent.orchestrator.base import SubtaskResult, SubtaskSpec


class DispatchReport(BaseModel):
    """The final JSON report of `subagent dispatch`: one result per task, in the file's order."""

    ok: bool
    """True when every task succeeded."""
    results: list[SubtaskResult]

    @classmethod
    def not_started(cls, tasks: list[SubtaskSpec], reason: str) -> "DispatchReport":
        """The report when no task could start (Temporal unreachable): each an error with `reason`,
        so a program reading stdout gets a report in every outcome but bad input."""
        return cls(
            ok=False,
            results=[
                SubtaskResult(
                    id=t.id, agent=t.agent, status="error_during_execution", result="", error=reason
                )
                for t in tasks
            ],
        )


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
