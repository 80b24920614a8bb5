"""What `subagent dispatch-remote` reads and prints: the task file, progress lines, the report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, TypeAdapter, ValidationError

from agent.errors import ConfigError
from agent.orchestrator.base import SubtaskResult, SubtaskSpec
from agent.orchestrator.temporal.models import ProgressSnapshot

if TYPE_CHECKING:
    from rich.console import Console

    from agent.orchestrator.temporal.connection import TemporalSettings

_SPECS = TypeAdapter(list[SubtaskSpec])


class DispatchReport(BaseModel):
    """The final JSON report: one result per subtask, in the file's order."""

    ok: bool
    """True when every subtask succeeded."""
    results: list[SubtaskResult]

    @classmethod
    def not_started(cls, tasks: list[SubtaskSpec], reason: str) -> DispatchReport:
        """The report when no subtask could start (Temporal unreachable): each an error with `reason`.

        Programs reading stdout get a report in every run outcome but bad input, never nothing.
        """
        return cls(
            ok=False,
            results=[
                SubtaskResult(
                    id=t.id, agent=t.agent, status="error_during_execution", result="", error=reason
                )
                for t in tasks
            ],
        )


def load_tasks(path: Path) -> list[SubtaskSpec]:
    """Read a YAML or JSON list of subtasks, or `{tasks: [...]}`.

    Raises:
        ConfigError: the file is missing, does not parse, or a task does not fit `SubtaskSpec`.
    """
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not YAML or JSON: {exc}") from exc
    if isinstance(data, dict) and "tasks" in data:
        data = data["tasks"]
    try:
        return _SPECS.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"{path}: tasks.{where}: {first['msg']}") from exc


class ProgressPrinter:
    """Prints one line when a remote subtask's attempt, turn or tool changes."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.last: dict[str, tuple[int, int, str]] = {}

    def __call__(self, subtask_id: str, progress: ProgressSnapshot) -> None:
        key = (progress.attempt, progress.turn, progress.tool)
        if self.last.get(subtask_id) == key:
            return
        self.last[subtask_id] = key
        resumed = f" (resumed after turn {progress.resumed_from_turn})" if progress.resumed_from_turn else ""
        self.console.print(
            f"{subtask_id}: attempt {progress.attempt} on {progress.worker}{resumed} · turn {progress.turn}"
            f" · {progress.tool or '-'} · {progress.input_tokens}/{progress.output_tokens} tokens",
            highlight=False,
            markup=False,
        )

    def no_worker(self, settings: TemporalSettings) -> None:
        """Warn that nothing polls the queue: the subtasks would wait silently otherwise."""
        self.console.print(
            f"warning: no worker polls task queue {settings.task_queue!r} at {settings.address}; the "
            f"subtasks wait until one starts: subagent worker --temporal-address {settings.address} "
            f"--task-queue {settings.task_queue}",
            style="yellow",
            highlight=False,
            markup=False,
        )
